"""CSV injection: equipment exports neutralise formula cells (custody history, asset list)."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from haven.accounts import services as account_services
from haven.equipment import services
from haven.equipment.models import CustodyKind
from tests.equipment.helpers import make_asset, make_deployment, supervisor, technician
from tests.factories import force_sign_in

pytestmark = pytest.mark.django_db

LINK = '=HYPERLINK("http://evil.example","Click")'


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_custody_csv_neutralises_formula_cells():
    boss, tech = supervisor(), technician()
    asset = make_asset(boss)
    services.record_custody(
        tech,
        asset.pk,
        kind=CustodyKind.ISSUED,
        signature=tech.get_full_name(),
        location="@SUM(A1)",
        note=LINK,
    )
    response = force_sign_in(Client(), boss).get(f"/operations/assets/{asset.pk}/custody.csv")
    assert response["Content-Disposition"] == f'attachment; filename="custody-{asset.serial}.csv"'
    issued = rows(response.content)[-1]
    assert issued["sequence"] == "2"
    assert issued["where"] == "'@SUM(A1)" and issued["note"] == "'" + LINK


def test_asset_list_csv_neutralises_formula_cells():
    boss = supervisor()
    make_asset(boss, make="-2+3+cmd|' /C calc'!A0")
    response = force_sign_in(Client(), boss).get("/operations/assets/?format=csv")
    assert response["Content-Disposition"] == 'attachment; filename="assets.csv"'
    assert rows(response.content)[0]["make"] == "'-2+3+cmd|' /C calc'!A0"


def api(user) -> Client:
    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="case_management")


def test_api_custody_csv_neutralises_formula_cells():
    boss, tech = supervisor(), technician()
    asset = make_asset(boss)
    services.record_custody(
        tech, asset.pk, kind=CustodyKind.ISSUED, signature=tech.get_full_name(), note=LINK
    )
    response = api(boss).get(f"/api/equipment/assets/{asset.pk}/custody.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="custody-{asset.serial}.csv"'
    assert rows(response.content)[-1]["note"] == "'" + LINK


def test_api_deployment_log_csv_neutralises_formula_cells():
    boss = supervisor()
    make_deployment(boss, title=LINK)
    response = api(boss).get("/api/equipment/deployment-log.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="deployment-log.csv"'
    assert rows(response.content)[0]["title"] == "'" + LINK
