"""Taking an asset off a deployment's kit: the supervising officer only, with the version read
and a reason; the assignment ends (it is kept as the deployment's kit history), and an asset
deployed at the site must be recovered first."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from haven.audit.models import Action, LedgerEntry
from haven.equipment import selectors, services
from haven.equipment.models import CustodyKind, DeploymentAsset, TeamPlace
from tests.equipment.helpers import make_asset, make_deployment, supervisor, technician
from tests.equipment.test_api_and_views import api_client, call
from tests.factories import force_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow():
    boss, tech = supervisor(), technician()
    asset = make_asset(boss)
    deployment = make_deployment(boss)
    services.add_team_member(boss, deployment.pk, tech, TeamPlace.LEAD)
    services.assign_asset(boss, deployment.pk, asset)
    return boss, tech, asset, deployment


def test_the_supervisor_takes_an_asset_off_and_the_assignment_is_kept(flow):
    boss, _, asset, deployment = flow
    row = services.remove_asset(boss, deployment.pk, asset.pk, version=1, reason="Not needed")
    assert deployment.kit.count() == 0
    kept = DeploymentAsset.history.get(pk=row.pk)
    assert kept.removed_by == boss and kept.removal_reason == "Not needed" and kept.version == 2
    assert selectors.live_deployment_for_asset(asset, deployment.starts_at) is None
    entries = LedgerEntry.objects.filter(action=Action.ALTERATION, object_type="deployment")
    assert any(
        e.details.get("asset") == str(asset.pk) and e.details.get("version") == 2 for e in entries
    )
    services.assign_asset(boss, deployment.pk, asset)  # it may go back on later
    assert deployment.kit.count() == 1


def test_a_technician_on_the_team_may_not_take_kit_off(flow):
    _, tech, asset, deployment = flow
    with pytest.raises(selectors.NotFound):
        services.remove_asset(tech, deployment.pk, asset.pk, version=1, reason="x")
    assert deployment.kit.count() == 1


def test_a_stale_version_is_a_conflict_and_a_reason_is_needed(flow):
    boss, _, asset, deployment = flow
    with pytest.raises(ValidationError):
        services.remove_asset(boss, deployment.pk, asset.pk, version=1, reason="  ")
    services.remove_asset(boss, deployment.pk, asset.pk, version=1, reason="first")
    services.assign_asset(boss, deployment.pk, asset)
    row = deployment.kit.get()
    with pytest.raises(services.ConflictError):
        services.remove_asset(boss, deployment.pk, asset.pk, version=row.version + 1, reason="x")
    assert deployment.kit.count() == 1


def test_an_asset_deployed_at_the_site_must_be_recovered_first(flow):
    boss, tech, asset, deployment = flow
    signature = tech.get_full_name()
    services.record_custody(tech, asset.pk, kind=CustodyKind.ISSUED, signature=signature)
    services.record_custody(
        tech, asset.pk, kind=CustodyKind.DEPLOYED, signature=signature, deployment_id=deployment.pk
    )
    with pytest.raises(ValidationError, match="recover it first"):
        services.remove_asset(boss, deployment.pk, asset.pk, version=1, reason="x")
    assert deployment.kit.count() == 1


def test_the_deployment_page_offers_take_off_to_the_supervisor_only(flow):
    boss, tech, asset, deployment = flow
    url = f"/operations/deployments/{deployment.pk}/kit/{asset.pk}/remove/"
    as_tech = force_sign_in(Client(), tech)
    assert url not in as_tech.get(f"/operations/deployments/{deployment.pk}/").content.decode()
    assert as_tech.get(url).status_code in (403, 404)
    as_boss = force_sign_in(Client(), boss)
    assert url in as_boss.get(f"/operations/deployments/{deployment.pk}/").content.decode()
    empty = as_boss.post(url, {"version": "1", "reason": ""})
    assert empty.status_code == 400 and deployment.kit.count() == 1
    assert as_boss.post(url, {"version": "1", "reason": "Wrong unit"}).status_code == 302
    page = as_boss.get(f"/operations/deployments/{deployment.pk}/").content.decode()
    assert "Kit taken off this deployment" in page and "Wrong unit" in page


def test_api_takes_kit_off_with_409_for_a_stale_version(flow):
    boss, tech, asset, deployment = flow
    path = f"/api/equipment/deployments/{deployment.pk}/kit/{asset.pk}/removal"
    refused, _ = call(api_client(tech), "POST", path, {"version": 1, "reason": "x"})
    assert refused.status_code in (403, 404)
    done, body = call(api_client(boss), "POST", path, {"version": 1, "reason": "Spare"})
    assert done.status_code == 200 and body["serial"] == asset.serial
    again, _ = call(api_client(boss), "POST", path, {"version": 1, "reason": "Spare"})
    assert again.status_code == 404
    assert deployment.kit.count() == 0
