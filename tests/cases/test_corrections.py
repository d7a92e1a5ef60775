"""Correcting and ending a case's locations and contact log entries: the case team only, with
the version read and a reason; the values replaced stay readable as the record's history."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from haven.accounts import services as account_services
from haven.accounts.roles import Clearance, Role
from haven.audit.models import Action, LedgerEntry
from haven.cases import selectors, services
from haven.cases.models import ContactEntry, Location, RecordRevision
from haven.cases.selectors import CaseNotFound
from tests.factories import UserFactory, force_sign_in, make_case

pytestmark = pytest.mark.django_db
PURPOSE = "case_management"


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER])


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER])


@pytest.fixture
def case(officer, manager):
    return make_case(officer, manager=manager)


@pytest.fixture
def location(officer, case):
    return services.add_location(
        officer, case.pk, kind="safe_house", address="1 Old Lane", valid_from=date(2026, 1, 1)
    )


@pytest.fixture
def contact(officer, case):
    return services.log_contact(
        officer,
        case.pk,
        occurred_at=timezone.now() - timedelta(days=1),
        method="phone",
        summary="Spoke about the move",
    )


@pytest.fixture
def granted(manager, case):
    """A colleague who reads the case on a time-limited grant (not on its team)."""
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER])
    services.grant_access(manager, case.pk, colleague, reason="covering leave", days=5)
    return colleague


def web(client, user):
    force_sign_in(client, user)
    session = client.session
    session["haven_purpose"] = PURPOSE
    session.save()
    return client


def api_headers(user):
    _, secret = account_services.issue_api_token(user, "t", modules=user.modules, can_write=True)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_X_HAVEN_PURPOSE": PURPOSE}


# --------------------------------------------------------------------------- services


def test_a_team_member_corrects_a_location_and_the_old_address_stays_in_its_history(
    officer, manager, case, location
):
    services.correct_location(
        manager,
        case.pk,
        location.pk,
        version=1,
        reason="Typo in the house number",
        address="11 Old Lane",
    )
    location.refresh_from_db()
    assert location.address == "11 Old Lane" and location.version == 2
    record, revisions = selectors.record_history(officer, case.pk, "location", location.pk, PURPOSE)
    assert record.address == "11 Old Lane"
    assert [(r.version, r.previous, r.reason) for r in revisions] == [
        (1, {"address": "1 Old Lane"}, "Typo in the house number")
    ]
    alteration = LedgerEntry.objects.filter(action=Action.ALTERATION, object_type="location").get()
    assert alteration.fields == ["address"] and alteration.actor == manager
    assert LedgerEntry.objects.filter(
        action=Action.CONSULTATION, object_type="location", object_id=str(location.pk)
    ).exists()


def test_ending_a_location_sets_its_end_date_and_keeps_it(officer, case, location):
    services.end_location(
        officer, case.pk, location.pk, version=1, reason="Moved out", ended_on=date(2026, 3, 1)
    )
    location.refresh_from_db()
    assert location.valid_to == date(2026, 3, 1) and location.version == 2
    revision = RecordRevision.objects.get(record_id=location.pk)
    assert revision.action == "ended" and revision.previous == {"valid_to": None}
    assert Location.objects.filter(pk=location.pk).exists()


def test_ending_before_the_location_was_used_is_refused_and_nothing_changes(
    officer, case, location
):
    with pytest.raises(ValidationError) as refused:
        services.end_location(
            officer, case.pk, location.pk, version=1, reason="x", ended_on=date(2025, 1, 1)
        )
    assert "ended_on" in refused.value.message_dict
    location.refresh_from_db()
    assert location.valid_to is None and location.version == 1
    assert not RecordRevision.objects.exists()


def test_a_stale_version_is_a_conflict_and_nothing_changes(officer, manager, case, location):
    services.correct_location(officer, case.pk, location.pk, version=1, reason="a", kind="work")
    with pytest.raises(services.ConflictError, match="changed by someone else"):
        services.correct_location(
            manager, case.pk, location.pk, version=1, reason="b", address="Elsewhere"
        )
    location.refresh_from_db()
    assert (location.kind, location.address, location.version) == ("work", "1 Old Lane", 2)
    assert RecordRevision.objects.count() == 1


def test_a_correction_needs_a_reason(officer, case, contact):
    with pytest.raises(ValidationError) as refused:
        services.correct_contact(
            officer, case.pk, contact.pk, version=1, reason=" ", method="video"
        )
    assert "reason" in refused.value.message_dict
    contact.refresh_from_db()
    assert contact.method == "phone" and contact.version == 1


def test_a_grant_holder_reads_the_history_but_may_not_correct(officer, case, location, granted):
    with pytest.raises(PermissionDenied):
        services.correct_location(
            granted, case.pk, location.pk, version=1, reason="x", address="Nope"
        )
    with pytest.raises(PermissionDenied):
        services.end_location(
            granted, case.pk, location.pk, version=1, reason="x", ended_on=date(2026, 2, 1)
        )
    record, _ = selectors.record_history(granted, case.pk, "location", location.pk, PURPOSE)
    assert record.address == "1 Old Lane"


def test_other_roles_and_uncleared_team_members_cannot_find_the_record(officer, case, contact):
    technician = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    uncleared = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.OFFICIAL)
    services.add_member(case, uncleared, "officer")
    for outsider in (technician, uncleared):
        with pytest.raises(CaseNotFound):
            services.correct_contact(
                outsider, case.pk, contact.pk, version=1, reason="x", summary="Rewritten"
            )
        with pytest.raises(CaseNotFound):
            selectors.record_history(outsider, case.pk, "contact", contact.pk, PURPOSE)
    contact.refresh_from_db()
    assert contact.summary == "Spoke about the move" and contact.version == 1


def test_a_contact_correction_keeps_each_earlier_version(officer, manager, case, contact):
    services.correct_contact(
        officer, case.pk, contact.pk, version=1, reason="Wrong method", method="video"
    )
    services.correct_contact(
        manager,
        case.pk,
        contact.pk,
        version=2,
        reason="Add the concern",
        summary="Spoke about the move; worried",
        concerns=["wellbeing"],
    )
    contact = ContactEntry.objects.get(pk=contact.pk)
    assert (contact.method, contact.concerns, contact.version) == ("video", ["wellbeing"], 3)
    _, revisions = selectors.record_history(officer, case.pk, "contact", contact.pk, PURPOSE)
    assert [r.version for r in revisions] == [2, 1]
    assert revisions[1].previous == {"method": "phone"}
    assert revisions[0].previous == {"summary": "Spoke about the move", "concerns": []}


def test_an_unchanged_correction_is_refused(officer, case, location):
    with pytest.raises(ValidationError, match="Nothing has changed"):
        services.correct_location(
            officer, case.pk, location.pk, version=1, reason="x", address="1 Old Lane"
        )


# --------------------------------------------------------------------------- web


def test_the_people_tab_offers_correct_and_end_to_the_team_only(
    client, officer, case, location, granted
):
    page = web(client, officer).get(f"/cases/{case.pk}/people/").content.decode()
    assert f"/locations/{location.pk}/correct/" in page and f"/locations/{location.pk}/end/" in page
    as_granted = web(client, granted).get(f"/cases/{case.pk}/people/").content.decode()
    assert f"/locations/{location.pk}/history/" in as_granted
    assert f"/locations/{location.pk}/correct/" not in as_granted
    assert f"/locations/{location.pk}/end/" not in as_granted
    assert client.get(f"/cases/{case.pk}/locations/{location.pk}/correct/").status_code == 403


def test_correcting_a_location_in_the_browser_then_reading_its_history(
    client, officer, case, location
):
    web(client, officer)
    url = f"/cases/{case.pk}/locations/{location.pk}/correct/"
    form = client.get(url)
    assert form.status_code == 200 and "1 Old Lane" in form.content.decode()
    data = {
        "version": "1",
        "kind": "safe_house",
        "address": "12 New Road",
        "valid_from": "2026-01-01",
        "valid_to": "",
        "latitude": "",
        "longitude": "",
        "person": "",
        "reason": "Address was wrong",
    }
    missing_reason = client.post(url, {**data, "reason": ""})
    assert missing_reason.status_code == 200 and "Say why" in missing_reason.content.decode()
    assert client.post(url, data).status_code == 302
    history = client.get(f"/cases/{case.pk}/locations/{location.pk}/history/").content.decode()
    assert "12 New Road" in history and "1 Old Lane" in history and "Address was wrong" in history
    stale = client.post(url, {**data, "address": "13 New Road"})
    assert "changed by someone else" in stale.content.decode()
    location.refresh_from_db()
    assert location.address == "12 New Road"


def test_ending_a_location_in_the_browser(client, officer, case, location):
    web(client, officer)
    url = f"/cases/{case.pk}/locations/{location.pk}/end/"
    data = {"version": "1", "ended_on": "2026-02-01", "reason": "No longer used"}
    assert client.post(url, data).status_code == 302
    location.refresh_from_db()
    assert location.valid_to == date(2026, 2, 1)


def test_correcting_a_contact_in_the_browser(client, officer, case, contact):
    web(client, officer)
    url = f"/cases/{case.pk}/contacts/{contact.pk}/correct/"
    assert client.get(f"/cases/{case.pk}/contacts/").content.decode().count(url) == 1
    when = timezone.localtime(contact.occurred_at).strftime("%Y-%m-%dT%H:%M")
    data = {
        "version": "1",
        "occurred_at": when,
        "person": "",
        "method": "in_person",
        "summary": "Spoke about the move",
        "follow_up": "",
        "follow_up_due": "",
        "reason": "It was a visit",
    }
    assert client.post(url, data).status_code == 302
    contact.refresh_from_db()
    assert contact.method == "in_person" and contact.occurred_at.year == timezone.now().year
    revision = RecordRevision.objects.get(record_id=contact.pk)
    assert revision.previous == {"method": "phone"}


# --------------------------------------------------------------------------- API


def test_api_corrects_ends_and_lists_history_with_conflicts_as_409(
    client, officer, case, location, contact, granted
):
    headers = api_headers(officer)
    url = f"/api/cases/{case.pk}/locations/{location.pk}"
    fixed = client.patch(
        url,
        {"version": 1, "reason": "typo", "address": "2 Old Lane"},
        content_type="application/json",
        **headers,
    )
    assert fixed.status_code == 200 and fixed.json()["version"] == 2
    stale = client.patch(
        url,
        {"version": 1, "reason": "late", "address": "3 Old Lane"},
        content_type="application/json",
        **headers,
    )
    assert stale.status_code == 409
    no_reason = client.post(
        f"{url}/ending",
        {"version": 2, "reason": "", "ended_on": "2026-02-01"},
        content_type="application/json",
        **headers,
    )
    assert no_reason.status_code == 422
    ended = client.post(
        f"{url}/ending",
        {"version": 2, "reason": "moved", "ended_on": "2026-02-01"},
        content_type="application/json",
        **headers,
    )
    assert ended.status_code == 200 and ended.json()["valid_to"] == "2026-02-01"
    history = client.get(f"{url}/history", **headers).json()
    assert history["version"] == 3
    assert [v["previous"] for v in history["earlier"]] == [
        {"valid_to": None},
        {"address": "1 Old Lane"},
    ]
    refused = client.patch(
        f"/api/cases/{case.pk}/contacts/{contact.pk}",
        {"version": 1, "reason": "x", "summary": "Rewritten"},
        content_type="application/json",
        **api_headers(granted),
    )
    assert refused.status_code == 403
    contact.refresh_from_db()
    assert contact.summary == "Spoke about the move"
