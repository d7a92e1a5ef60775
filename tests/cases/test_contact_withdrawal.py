"""Withdrawing a contact log entry entered in error (issue 20): the case team only, with a
reason and the version read, after a confirmation page; the entry stays on the log, shown as
withdrawn, with its history and a ledger entry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from haven.accounts.roles import Clearance, Role
from haven.audit.models import Action, LedgerEntry
from haven.cases import services
from haven.cases.models import ContactEntry, RecordRevision
from haven.cases.selectors import CaseNotFound
from tests.cases.helpers import api_headers, web
from tests.factories import UserFactory, make_case

pytestmark = pytest.mark.django_db


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
def contact(officer, case):
    return services.log_contact(
        officer,
        case.pk,
        occurred_at=timezone.now() - timedelta(days=1),
        method="phone",
        summary="Logged on the wrong case",
    )


@pytest.fixture
def granted(manager, case):
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER])
    services.grant_access(manager, case.pk, colleague, reason="covering leave", days=5)
    return colleague


def withdraw(user, case, contact, version=1, reason="Entered on the wrong case"):
    return services.withdraw_contact(user, case.pk, contact.pk, version=version, reason=reason)


# --------------------------------------------------------------------------- services


def test_a_team_member_withdraws_an_entry_which_is_kept_with_its_history(
    officer, manager, case, contact
):
    withdraw(manager, case, contact)
    contact.refresh_from_db()
    assert contact.withdrawn and contact.version == 2
    assert contact.summary == "Logged on the wrong case"  # kept, not deleted
    revision = RecordRevision.objects.get(record_id=contact.pk)
    assert revision.action == "ended" and revision.reason == "Entered on the wrong case"
    assert revision.changed_by == manager and revision.previous == {"withdrawn_at": None}
    entry = LedgerEntry.objects.filter(object_id=str(contact.pk), action=Action.ALTERATION).get()
    assert entry.actor_id == manager.pk and entry.fields == ["withdrawn_at"]


def test_a_withdrawn_entry_cannot_be_withdrawn_again_or_corrected(officer, case, contact):
    withdraw(officer, case, contact)
    with pytest.raises(ValidationError):
        withdraw(officer, case, contact, version=2)
    with pytest.raises(ValidationError):
        services.correct_contact(officer, case.pk, contact.pk, version=2, reason="x", summary="y")
    contact.refresh_from_db()
    assert contact.version == 2 and contact.summary == "Logged on the wrong case"


def test_withdrawing_needs_a_reason_and_the_current_version(officer, manager, case, contact):
    with pytest.raises(ValidationError) as refused:
        withdraw(officer, case, contact, reason="  ")
    assert "reason" in refused.value.message_dict
    services.correct_contact(officer, case.pk, contact.pk, version=1, reason="typo", method="video")
    with pytest.raises(services.ConflictError):
        withdraw(manager, case, contact, version=1)
    contact.refresh_from_db()
    assert not contact.withdrawn and contact.version == 2


def test_a_grant_holder_may_not_withdraw_and_outsiders_cannot_find_the_entry(
    officer, case, contact, granted
):
    with pytest.raises(PermissionDenied):
        withdraw(granted, case, contact)
    technician = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    other_officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    uncleared = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.OFFICIAL)
    services.add_member(case, uncleared, "officer")
    for outsider in (technician, other_officer, uncleared):
        with pytest.raises(CaseNotFound):
            withdraw(outsider, case, contact)
    other_case = make_case(officer)
    with pytest.raises(CaseNotFound):  # the entry of another case, through this one
        services.withdraw_contact(officer, other_case.pk, contact.pk, version=1, reason="x")
    contact.refresh_from_db()
    assert not contact.withdrawn and contact.version == 1


# --------------------------------------------------------------------------- web


def test_withdrawing_in_the_browser_asks_for_confirmation_first(client, officer, case, contact):
    web(client, officer)
    url = f"/cases/{case.pk}/contacts/{contact.pk}/withdraw/"
    listing = client.get(f"/cases/{case.pk}/contacts/").content.decode()
    assert listing.count(url) == 1
    assert "Why is this entry being withdrawn?" in client.get(url).content.decode()

    empty = client.post(url, {"version": "1", "reason": ""})
    assert empty.status_code == 200 and "Say why the entry is being withdrawn" in (
        empty.content.decode()
    )
    asked = client.post(url, {"version": "1", "reason": "Wrong case"})
    page = asked.content.decode()
    assert asked.status_code == 200 and "Withdraw this contact log entry?" in page
    assert 'name="confirmed" value="yes"' in page and case.reference in page
    contact.refresh_from_db()
    assert not contact.withdrawn  # nothing changes before the confirmation

    done = client.post(url, {"version": "1", "reason": "Wrong case", "confirmed": "yes"})
    assert done.status_code == 302 and done["Location"] == f"/cases/{case.pk}/contacts/"
    contact.refresh_from_db()
    assert contact.withdrawn
    listing = client.get(f"/cases/{case.pk}/contacts/").content.decode()
    assert 'data-testid="withdrawn-contact"' in listing and "Withdrawn" in listing
    assert "<s>Logged on the wrong case</s>" in listing  # struck through, still there
    assert url not in listing and f"/contacts/{contact.pk}/correct/" not in listing
    history = client.get(f"/cases/{case.pk}/contacts/{contact.pk}/history/").content.decode()
    assert "withdrawn by" in history and "Reason: Wrong case" in history


def test_a_stale_confirmation_is_refused_in_the_browser(client, officer, manager, case, contact):
    services.correct_contact(manager, case.pk, contact.pk, version=1, reason="typo", method="video")
    web(client, officer)
    url = f"/cases/{case.pk}/contacts/{contact.pk}/withdraw/"
    stale = client.post(url, {"version": "1", "reason": "Wrong case", "confirmed": "yes"})
    assert stale.status_code == 200 and "govuk-error-summary" in stale.content.decode()
    contact.refresh_from_db()
    assert not contact.withdrawn


def test_the_withdraw_link_and_page_are_for_the_team_only(client, case, contact, granted):
    web(client, granted)
    url = f"/cases/{case.pk}/contacts/{contact.pk}/withdraw/"
    assert url not in client.get(f"/cases/{case.pk}/contacts/").content.decode()
    assert client.get(url).status_code == 403
    assert client.post(url, {"version": "1", "reason": "x", "confirmed": "yes"}).status_code == 403
    outsider = UserFactory(roles=[Role.PROTECTION_OFFICER])
    web(client, outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {"version": "1", "reason": "x", "confirmed": "yes"}).status_code == 404
    contact.refresh_from_db()
    assert not contact.withdrawn


# --------------------------------------------------------------------------- API


def test_api_withdraws_with_409_on_a_stale_version_and_404_outside_the_case(
    client, officer, case, contact, granted
):
    url = f"/api/cases/{case.pk}/contacts/{contact.pk}/withdrawal"

    def post(user, body):
        return client.post(url, body, content_type="application/json", **api_headers(user))

    outsider = UserFactory(roles=[Role.PROTECTION_OFFICER])
    assert post(outsider, {"version": 1, "reason": "x"}).status_code == 404
    assert post(granted, {"version": 1, "reason": "x"}).status_code == 403
    assert post(officer, {"version": 1, "reason": ""}).status_code == 422
    assert post(officer, {"version": 7, "reason": "Wrong case"}).status_code == 409
    contact.refresh_from_db()
    assert not contact.withdrawn and contact.version == 1

    done = post(officer, {"version": 1, "reason": "Wrong case"})
    assert done.status_code == 200 and done.json()["withdrawn_at"] is not None
    again = post(officer, {"version": 2, "reason": "Again"})
    assert again.status_code == 422
    listed = client.get(f"/api/cases/{case.pk}/contacts", **api_headers(officer)).json()
    assert [c["withdrawn_at"] is not None for c in listed] == [True]
    history = client.get(f"{url.rsplit('/', 1)[0]}/history", **api_headers(officer)).json()
    assert history["earlier"][0]["action"] == "ended"
    assert ContactEntry.objects.filter(pk=contact.pk).exists()
