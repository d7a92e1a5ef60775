from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from haven.audit.models import Action, LedgerEntry
from haven.equipment import selectors, services, triggers
from haven.equipment.models import (
    AssetState,
    CustodyEvent,
    CustodyKind,
    Deployment,
    DeploymentStatus,
    TeamPlace,
)
from tests.equipment.helpers import make_asset, make_deployment, supervisor, technician

pytestmark = pytest.mark.django_db


def sign(user):
    return user.get_full_name()


def test_registering_kit_receives_it_into_the_store_and_encrypts_sim_details():
    boss = supervisor()
    asset = make_asset(boss, sim_details="ICCID 8944 SECRET", ip_details="10.9.8.7")
    assert asset.place == "Store" and asset.holder is None
    assert [e.kind for e in asset.custody.all()] == [CustodyKind.RECEIVED]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sim_details, ip_details FROM equipment_asset WHERE id = %s",
            [asset.pk.hex if connection.vendor == "sqlite" else asset.pk],
        )
        raw = " ".join(cursor.fetchone())
    assert "SECRET" not in raw and "10.9.8.7" not in raw
    assert LedgerEntry.objects.filter(object_type="asset", action=Action.COLLECTION).exists()


def test_only_supervisors_register_kit_and_duplicate_serials_are_refused():
    boss = supervisor()
    make_asset(boss, serial="DUP-1")
    with pytest.raises(PermissionDenied):
        make_asset(technician(), serial="DUP-2")
    with pytest.raises(ValidationError, match="already registered"):
        make_asset(boss, serial="DUP-1")


def test_sim_details_are_shown_to_supervisors_and_the_holder_only():
    boss, tech, other = supervisor(), technician(), technician()
    asset = make_asset(boss, sim_details="ICCID 1234")
    assert selectors.asset_link_details(boss, asset)["sim_details"] == "ICCID 1234"
    assert selectors.asset_link_details(tech, asset) == {}
    services.record_custody(tech, asset.pk, kind=CustodyKind.ISSUED, signature=sign(tech))
    asset.refresh_from_db()
    assert selectors.asset_link_details(tech, asset)["sim_details"] == "ICCID 1234"
    assert selectors.asset_link_details(other, asset) == {}


def full_flow():
    boss, tech = supervisor(), technician()
    asset = make_asset(boss)
    deployment = make_deployment(boss, start=timezone.now() - timedelta(hours=1))
    services.add_team_member(boss, deployment.pk, tech, TeamPlace.LEAD)
    services.assign_asset(boss, deployment.pk, asset)
    return boss, tech, asset, deployment


def test_the_chain_of_custody_records_every_step_of_a_deployment():
    boss, tech, asset, deployment = full_flow()
    services.record_custody(tech, asset.pk, kind=CustodyKind.ISSUED, signature=sign(tech))
    services.record_custody(
        tech, asset.pk, kind=CustodyKind.DEPLOYED, signature=sign(tech), deployment_id=deployment.pk
    )
    asset.refresh_from_db()
    deployment.refresh_from_db()
    assert asset.state == AssetState.DEPLOYED and deployment.status == DeploymentStatus.LIVE
    services.record_custody(
        tech,
        asset.pk,
        kind=CustodyKind.RECOVERED,
        signature=sign(tech),
        deployment_id=deployment.pk,
    )
    services.record_custody(tech, asset.pk, kind=CustodyKind.RETURNED, signature=sign(tech))
    asset.refresh_from_db()
    assert asset.state == AssetState.RECOVERED and asset.place == "Store" and asset.holder is None
    events = list(selectors.custody_history(boss, asset.pk))
    assert [e.kind for e in events] == ["received", "issued", "deployed", "recovered", "returned"]
    assert [e.sequence for e in events] == [1, 2, 3, 4, 5]
    assert events[1].to_user == tech and events[4].from_user == tech
    assert services.chain_is_intact(asset)
    services.set_status(
        boss, deployment.pk, DeploymentStatus.COMPLETED, outcome="Installed and recovered"
    )


def test_a_hand_over_from_someone_who_does_not_hold_the_item_is_refused():
    boss, tech, asset, _ = full_flow()
    other = technician()
    with pytest.raises(ValidationError, match="does not hold"):
        services.record_custody(
            other,
            asset.pk,
            kind=CustodyKind.HANDOVER,
            signature=sign(other),
            from_user=tech,
            location="Car park",
        )
    assert asset.custody.count() == 1


def test_a_wrong_signature_is_refused_and_nothing_is_saved():
    _, tech, asset, _ = full_flow()
    with pytest.raises(ValidationError, match="Sign with your full name"):
        services.record_custody(tech, asset.pk, kind=CustodyKind.ISSUED, signature="Someone Else")
    asset.refresh_from_db()
    assert asset.holder is None and asset.custody.count() == 1


def test_hand_over_between_technicians_needs_the_holder():
    _, tech, asset, _ = full_flow()
    other = technician()
    services.record_custody(tech, asset.pk, kind=CustodyKind.ISSUED, signature=sign(tech))
    services.record_custody(
        other,
        asset.pk,
        kind=CustodyKind.HANDOVER,
        signature=sign(other),
        from_user=tech,
        location="Unit garage",
    )
    asset.refresh_from_db()
    assert asset.holder == other


def test_custody_rows_cannot_be_updated_or_deleted_in_the_database():
    with connection.cursor() as cursor:
        triggers.install(cursor.execute, connection.vendor)
    boss = supervisor()
    asset = make_asset(boss)
    event = asset.custody.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        CustodyEvent.objects.filter(pk=event.pk).update(location="elsewhere")
    with pytest.raises(DatabaseError), transaction.atomic():
        CustodyEvent.objects.filter(pk=event.pk).delete()
    assert CustodyEvent.objects.get(pk=event.pk).location == "Store"


def test_an_asset_cannot_be_in_two_live_deployments():
    boss = supervisor()
    asset = make_asset(boss)
    first = make_deployment(boss)
    second = make_deployment(boss, start=first.starts_at + timedelta(hours=5))
    services.assign_asset(boss, first.pk, asset)
    with pytest.raises(ValidationError, match="already assigned"):
        services.assign_asset(boss, second.pk, asset)
    assert second.kit.count() == 0
    later = make_deployment(boss, start=first.ends_at + timedelta(hours=1))
    services.assign_asset(boss, later.pk, asset)  # no overlap: fine


def test_a_person_cannot_be_double_booked():
    boss, tech = supervisor(), technician()
    first = make_deployment(boss)
    second = make_deployment(boss, start=first.starts_at + timedelta(hours=3))
    services.add_team_member(boss, first.pk, tech, TeamPlace.TECHNICIAN)
    with pytest.raises(ValidationError, match="double-booked"):
        services.add_team_member(boss, second.pk, tech, TeamPlace.TECHNICIAN)
    assert tech not in [member.user for member in Deployment.objects.get(pk=second.pk).team]


def test_a_deployment_that_ends_before_it_starts_is_refused():
    boss = supervisor()
    with pytest.raises(ValidationError, match="end after"):
        make_deployment(boss, days=-1)


def test_deployments_are_need_to_know_and_carry_no_case_data():
    boss, tech, stranger = supervisor(), technician(), technician()
    case_id = uuid4()
    deployment = make_deployment(boss, case_id=case_id, install_address="7 Hidden Row")
    services.add_team_member(boss, deployment.pk, tech, TeamPlace.TECHNICIAN)
    seen = selectors.get_deployment(tech, deployment.pk)
    assert seen.install_address == "7 Hidden Row" and seen.case_id == case_id
    with pytest.raises(selectors.NotFound):
        selectors.get_deployment(stranger, deployment.pk)
    with pytest.raises(selectors.NotFound):
        selectors.get_deployment(supervisor(), deployment.pk)
    entry = LedgerEntry.objects.filter(object_type="deployment", action=Action.CONSULTATION).last()
    assert entry.case_id == str(case_id) and entry.actor == tech


def test_technicians_cannot_manage_a_deployment_they_are_on():
    boss, tech = supervisor(), technician()
    deployment = make_deployment(boss)
    services.add_team_member(boss, deployment.pk, tech, TeamPlace.LEAD)
    with pytest.raises(selectors.NotFound):
        services.assign_asset(tech, deployment.pk, make_asset(boss))


def test_state_changes_follow_the_lifecycle():
    boss = supervisor()
    asset = make_asset(boss, state=AssetState.PROCURED)
    services.change_state(boss, asset.pk, AssetState.IN_STOCK, "checked in")
    with pytest.raises(ValidationError):
        services.change_state(boss, asset.pk, AssetState.DEPLOYED, "by hand")
    services.change_state(boss, asset.pk, AssetState.RETIRED, "end of life")
    with pytest.raises(ValidationError):
        services.record_custody(boss, asset.pk, kind=CustodyKind.ISSUED, signature=sign(boss))


def test_a_deployment_cannot_complete_while_kit_is_still_on_site():
    boss, tech, asset, deployment = full_flow()
    services.record_custody(tech, asset.pk, kind=CustodyKind.ISSUED, signature=sign(tech))
    services.record_custody(
        tech, asset.pk, kind=CustodyKind.DEPLOYED, signature=sign(tech), deployment_id=deployment.pk
    )
    with pytest.raises(ValidationError, match="Recover every item"):
        services.set_status(boss, deployment.pk, DeploymentStatus.COMPLETED, outcome="done")


def test_kit_lists_assign_all_or_nothing():
    boss = supervisor()
    a, b = make_asset(boss), make_asset(boss)
    kit = services.create_kit(boss, name="Alarm kit", assets=[a, b])
    first = make_deployment(boss)
    services.assign_asset(boss, first.pk, b)
    second = make_deployment(boss, start=first.starts_at)
    with pytest.raises(ValidationError):
        services.assign_kit(boss, second.pk, kit)
    assert second.kit.count() == 0


def test_telemetry_lookups_by_serial_and_device_id():
    boss = supervisor()
    asset = make_asset(boss, serial="TRK-9", device_id="862000111")
    assert selectors.asset_by_serial("TRK-9") == asset
    assert selectors.asset_by_device_id("862000111") == asset
    assert selectors.asset_by_device_id("nope") is None


def test_checklists_are_ticked_by_team_members():
    boss, tech = supervisor(), technician()
    deployment = make_deployment(boss)
    services.add_team_member(boss, deployment.pk, tech, TeamPlace.TECHNICIAN)
    services.tick_checklist(tech, deployment.pk, which="install", index=0, done=True)
    deployment.refresh_from_db()
    assert (
        deployment.install_checklist[0]["done"]
        and deployment.install_checklist[0]["by"] == tech.username
    )
    with pytest.raises(ValidationError):
        services.tick_checklist(tech, deployment.pk, which="install", index=99, done=True)
