"""Correcting an asset's details: technical supervisors only, with the version read and a
reason; the values replaced are kept as the asset's history (SIM and IP details withheld from
those who may not see them now), and every correction and history read is in the ledger."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from haven.audit.models import Action, LedgerEntry
from haven.equipment import selectors, services
from haven.equipment.models import Asset, AssetRevision
from tests.equipment.helpers import make_asset, supervisor, technician
from tests.equipment.test_api_and_views import api_client, call
from tests.factories import force_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def kit():
    boss, tech = supervisor(), technician()
    asset = make_asset(boss, firmware="1.0", sim_details="ICCID old")
    return boss, tech, asset


def test_the_supervisor_corrects_and_the_old_values_are_kept(kit):
    boss, _, asset = kit
    services.update_asset(
        boss, asset.pk, version=1, reason="Firmware upgraded", firmware="2.0", sim_details="new"
    )
    asset = Asset.objects.get(pk=asset.pk)
    assert (asset.firmware, asset.sim_details, asset.version) == ("2.0", "new", 2)
    revision = AssetRevision.objects.get(asset=asset)
    assert revision.previous == {"firmware": "1.0", "sim_details": "ICCID old"}
    assert revision.version == 1 and revision.reason == "Firmware upgraded"
    entry = LedgerEntry.objects.filter(action=Action.ALTERATION, object_id=str(asset.pk)).last()
    assert entry is not None and entry.details.get("version") == 2
    assert sorted(entry.fields) == ["firmware", "sim_details"]


def test_a_technician_may_not_correct_an_asset(kit):
    _, tech, asset = kit
    with pytest.raises(PermissionDenied):
        services.update_asset(tech, asset.pk, version=1, reason="x", firmware="9")
    assert Asset.objects.get(pk=asset.pk).firmware == "1.0"
    assert not AssetRevision.objects.exists()


def test_a_stale_version_is_a_conflict_and_a_reason_is_needed(kit):
    boss, _, asset = kit
    with pytest.raises(ValidationError) as missing:
        services.update_asset(boss, asset.pk, version=1, reason="  ", firmware="2.0")
    assert "reason" in missing.value.message_dict
    services.update_asset(boss, asset.pk, version=1, reason="first", firmware="2.0")
    with pytest.raises(services.ConflictError):
        services.update_asset(boss, asset.pk, version=1, reason="second", firmware="3.0")
    asset = Asset.objects.get(pk=asset.pk)
    assert (asset.firmware, asset.version) == ("2.0", 2)
    assert AssetRevision.objects.count() == 1


def test_history_shows_old_values_and_withholds_sim_from_a_technician(kit):
    boss, tech, asset = kit
    services.update_asset(
        boss, asset.pk, version=1, reason="New SIM", firmware="2.0", sim_details="ICCID new"
    )
    _, revisions = selectors.asset_history(boss, asset.pk)
    assert revisions[0].previous == {"firmware": "1.0", "sim_details": "ICCID old"}
    _, seen_by_tech = selectors.asset_history(tech, asset.pk)
    assert seen_by_tech[0].previous == {"firmware": "1.0", "sim_details": "Withheld"}
    reads = LedgerEntry.objects.filter(action=Action.CONSULTATION, object_id=str(asset.pk))
    assert sum("history" in (e.fields or []) for e in reads) == 2


def test_the_edit_link_and_page_are_for_the_supervisor_only(kit):
    boss, tech, asset = kit
    detail, edit = f"/operations/assets/{asset.pk}/", f"/operations/assets/{asset.pk}/edit/"
    as_tech = force_sign_in(Client(), tech)
    assert edit not in as_tech.get(detail).content.decode()
    assert as_tech.get(edit).status_code == 403
    as_boss = force_sign_in(Client(), boss)
    assert edit in as_boss.get(detail).content.decode()
    form = {"version": "1", "firmware": "2.0", "sim_details": "ICCID old", "reason": ""}
    assert as_boss.post(edit, form).status_code == 400
    assert Asset.objects.get(pk=asset.pk).firmware == "1.0"
    assert as_boss.post(edit, {**form, "reason": "Upgraded"}).status_code == 302
    stale = as_boss.post(edit, {**form, "firmware": "3.0", "reason": "Again"})
    assert stale.status_code == 400 and "changed" in stale.content.decode()
    history = as_boss.get(f"/operations/assets/{asset.pk}/history/").content.decode()
    assert "Upgraded" in history and "1.0" in history


def test_api_corrects_with_409_for_a_stale_version_and_reads_history(kit):
    boss, tech, asset = kit
    path = f"/api/equipment/assets/{asset.pk}"
    refused, _ = call(api_client(tech), "PATCH", path, {"version": 1, "reason": "x"})
    assert refused.status_code == 403
    done, body = call(
        api_client(boss), "PATCH", path, {"version": 1, "reason": "Up", "firmware": "2"}
    )
    assert done.status_code == 200 and body["firmware"] == "2" and body["version"] == 2
    stale, problem = call(
        api_client(boss), "PATCH", path, {"version": 1, "reason": "Up", "notes": "n"}
    )
    assert stale.status_code == 409 and problem is not None
    no_reason, _ = call(api_client(boss), "PATCH", path, {"version": 2, "firmware": "3"})
    assert no_reason.status_code == 422
    _, history = call(api_client(tech), "GET", f"{path}/history")
    assert history["version"] == 2 and history["earlier"][0]["previous"] == {"firmware": "1.0"}


def test_the_holder_is_told_of_a_correction_but_not_the_corrector(kit):
    from haven.notifications.models import Notification

    boss, tech, asset = kit
    Asset.objects.filter(pk=asset.pk).update(holder=tech)
    services.update_asset(boss, asset.pk, version=asset.version, reason="typo", firmware="2.0")
    told = [n.user for n in Notification.objects.all() if "corrected the details" in n.message]
    assert told == [tech]
