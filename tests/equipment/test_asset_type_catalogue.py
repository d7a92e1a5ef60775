"""Kinds of kit (AssetType) are corrected and retired, never deleted, by technical supervisors
only, with the version read and a reason (ledgered); a retired kind is no longer offered for
new kit, and assets of that kind keep showing it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from haven.audit.models import Action, LedgerEntry
from haven.equipment import selectors, services
from haven.equipment.forms import AssetForm
from haven.equipment.models import AssetType
from tests.equipment.helpers import make_asset, supervisor, technician
from tests.equipment.test_api_and_views import api_client, call
from tests.factories import force_sign_in

pytestmark = pytest.mark.django_db

CODE = "vehicle-tracker"


def test_the_supervisor_corrects_a_kind_of_kit_with_version_and_reason():
    boss = supervisor()
    services.correct_asset_type(boss, CODE, version=1, reason="Clearer", name="GPS tracker")
    kind = AssetType.objects.get(code=CODE)
    assert (kind.name, kind.version) == ("GPS tracker", 2)
    entry = LedgerEntry.objects.filter(action=Action.ALTERATION, object_type="asset_type").get()
    assert entry.fields == ["name"] and entry.details.get("version") == 2
    with pytest.raises(services.ConflictError):
        services.correct_asset_type(boss, CODE, version=1, reason="again", name="Other")
    with pytest.raises(ValidationError):
        services.correct_asset_type(boss, CODE, version=2, reason=" ", name="Other")
    assert AssetType.objects.get(code=CODE).name == "GPS tracker"


def test_a_technician_may_not_correct_or_retire_a_kind_of_kit():
    tech = technician()
    with pytest.raises(PermissionDenied):
        services.correct_asset_type(tech, CODE, version=1, reason="x", name="Nope")
    with pytest.raises(PermissionDenied):
        services.retire_asset_type(tech, CODE, version=1, reason="x")
    kind = AssetType.objects.get(code=CODE)
    assert kind.active and kind.name != "Nope"


def test_a_retired_kind_is_not_offered_but_its_assets_keep_it():
    boss = supervisor()
    asset = make_asset(boss, type_code=CODE)
    services.retire_asset_type(boss, CODE, version=1, reason="Superseded")
    assert CODE not in [t.code for t in selectors.asset_types()]
    assert not AssetForm().fields["asset_type"].queryset.filter(code=CODE).exists()
    page = force_sign_in(Client(), boss).get(f"/operations/assets/{asset.pk}/").content.decode()
    assert AssetType.objects.get(code=CODE).name in page
    with pytest.raises(ValidationError):
        services.retire_asset_type(boss, CODE, version=2, reason="again")


def test_api_corrects_and_retires_with_409_for_a_stale_version():
    boss, tech = supervisor(), technician()
    path = f"/api/equipment/asset-types/{CODE}"
    refused, _ = call(api_client(tech), "PATCH", path, {"version": 1, "reason": "x", "name": "N"})
    assert refused.status_code == 403
    done, body = call(api_client(boss), "PATCH", path, {"version": 1, "reason": "r", "name": "N"})
    assert done.status_code == 200 and body["name"] == "N" and body["version"] == 2
    stale, _ = call(api_client(boss), "POST", f"{path}/retirement", {"version": 1, "reason": "r"})
    assert stale.status_code == 409 and AssetType.objects.get(code=CODE).active
    gone, body = call(api_client(boss), "POST", f"{path}/retirement", {"version": 2, "reason": "r"})
    assert gone.status_code == 200 and body["active"] is False
    _, offered = call(api_client(tech), "GET", "/api/equipment/asset-types")
    assert CODE not in [t["code"] for t in offered]


def test_kinds_of_kit_are_reached_from_operations_home_by_supervisors_only():
    boss, tech = supervisor(), technician()
    as_tech = force_sign_in(Client(), tech)
    assert "/operations/asset-types/" not in as_tech.get("/operations/").content.decode()
    assert as_tech.get(f"/operations/asset-types/{CODE}/edit/").status_code == 403
    as_boss = force_sign_in(Client(), boss)
    assert "/operations/asset-types/" in as_boss.get("/operations/").content.decode()
    listing = as_boss.get("/operations/asset-types/").content.decode()
    assert f"/operations/asset-types/{CODE}/retire/" in listing
    edit = f"/operations/asset-types/{CODE}/edit/"
    form = {"version": "1", "name": "GPS tracker", "trackable": "on", "reason": ""}
    assert as_boss.post(edit, form).status_code == 400
    assert as_boss.post(edit, {**form, "reason": "Clearer"}).status_code == 302
    stale = as_boss.post(edit, {**form, "name": "Other", "reason": "x"})
    assert stale.status_code == 400 and "changed by someone else" in stale.content.decode()
    retire = f"/operations/asset-types/{CODE}/retire/"
    assert as_boss.post(retire, {"version": "2", "reason": "Superseded"}).status_code == 302
    kind = AssetType.objects.get(code=CODE)
    assert (kind.name, kind.active) == ("GPS tracker", False)
    assert retire not in as_boss.get("/operations/asset-types/").content.decode()
