from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from haven.access.models import AccessGrant, TeamMembership, TeamRole
from haven.accounts.roles import Clearance, Role
from haven.audit import ledger
from haven.audit.models import Action, LedgerEntry
from haven.cases import selectors, services
from haven.cases.models import Case
from haven.notifications.models import Notification
from tests.factories import UserFactory, force_sign_in, make_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER])


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER])


@pytest.fixture
def case(officer, manager):
    return make_case(officer, name="Ivy Testcase", manager=manager, subject_dob=date(1980, 3, 7))


def test_protected_fields_are_stored_encrypted(case):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT subject_name, subject_dob FROM cases_case WHERE id = %s",
            [case.pk.hex if connection.vendor == "sqlite" else case.pk],
        )
        name, dob = cursor.fetchone()
    assert name.startswith("hv1.") and "Ivy" not in name
    assert dob.startswith("hv1.") and "1980" not in dob


def test_reading_a_case_needs_a_purpose_and_is_logged(officer, case):
    with pytest.raises(ValueError):
        selectors.get_case(officer, case.pk, None)
    before = LedgerEntry.objects.count()
    selectors.get_case(officer, case.pk, "case_management")
    entry = LedgerEntry.objects.latest("id")
    assert LedgerEntry.objects.count() == before + 1
    assert entry.action == Action.CONSULTATION and entry.object_id == str(case.pk)
    assert entry.justification == "case_management" and entry.actor_username == officer.username
    assert "subject_name" in entry.fields


def test_outsider_gets_not_found_and_no_consultation_entry(case):
    outsider = UserFactory(roles=[Role.PROTECTION_OFFICER])
    before = LedgerEntry.objects.count()
    with pytest.raises(selectors.CaseNotFound):
        selectors.get_case(outsider, case.pk, "case_management")
    assert LedgerEntry.objects.count() == before


def test_team_member_below_the_case_classification_cannot_see_it(officer):
    junior = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.OFFICIAL)
    case = make_case(officer, classification=Clearance.SECRET)
    services.add_member(case, junior, TeamRole.OFFICER)
    with pytest.raises(selectors.CaseNotFound):
        selectors.get_case(junior, case.pk, "case_management")


def test_roles_alone_never_open_a_case(case):
    for role in (Role.PROTECTION_MANAGER, Role.AUTHORISING_OFFICER, Role.IDENTITY_OFFICER):
        user = UserFactory(roles=[role], clearance=Clearance.TOP_SECRET)
        assert not selectors.cases_visible_to(user).exists()


def test_list_writes_one_consultation_entry_per_page(officer):
    for number in range(30):
        make_case(officer, name=f"Person {number}")
    before = LedgerEntry.objects.count()
    page = selectors.list_cases(officer, selectors.CaseSearch(), 1, "case_management")
    assert len(page.object_list) == selectors.PAGE_SIZE
    assert LedgerEntry.objects.count() == before + 1
    assert len(LedgerEntry.objects.latest("id").details["cases"]) == selectors.PAGE_SIZE


def test_exact_name_and_dob_search_through_blind_indexes(officer, case):
    make_case(officer, name="Somebody Else")
    found = selectors.list_cases(
        officer, selectors.CaseSearch(name="  IVY   testcase "), 1, "case_management"
    )
    assert [c.pk for c in found.object_list] == [case.pk]
    found = selectors.list_cases(
        officer, selectors.CaseSearch(dob="07/03/1980"), 1, "case_management"
    )
    assert [c.pk for c in found.object_list] == [case.pk]


def test_search_never_reveals_cases_outside_access(case):
    outsider = UserFactory(roles=[Role.PROTECTION_OFFICER])
    found = selectors.list_cases(
        outsider, selectors.CaseSearch(name="Ivy Testcase"), 1, "case_management"
    )
    assert list(found.object_list) == []


def test_break_glass_needs_a_reason(manager, case):
    other_manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    with pytest.raises(ValidationError):
        services.break_glass(other_manager, case.reference, "   ")
    assert not AccessGrant.objects.exists()


def test_break_glass_opens_briefly_alerts_the_manager_and_stands_out(manager, case):
    other_manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    services.break_glass(other_manager, case.reference, "Call from the subject's school")
    assert selectors.get_case(other_manager, case.pk, "emergency") == case
    (alert,) = Notification.objects.filter(user=manager)
    assert (alert.category, alert.reference) == ("break_glass", case.reference)
    entry = LedgerEntry.objects.get(action=Action.BREAK_GLASS)
    assert entry.recipients == [manager.username]
    assert LedgerEntry.objects.latest("id").details["route"] == "break_glass"
    later = timezone.now() + timedelta(minutes=31)
    with mock.patch("django.utils.timezone.now", return_value=later):
        with pytest.raises(selectors.CaseNotFound):
            selectors.get_case(other_manager, case.pk, "emergency")


def test_only_managers_break_glass(case):
    with pytest.raises(PermissionDenied):
        services.break_glass(UserFactory(roles=[Role.PROTECTION_OFFICER]), case.reference, "x")


def test_break_glass_does_not_open_the_identity_compartment(case):
    identity_manager = UserFactory(
        roles=[Role.PROTECTION_MANAGER, Role.IDENTITY_OFFICER], clearance=Clearance.TOP_SECRET
    )
    services.break_glass(identity_manager, case.reference, "emergency")
    with pytest.raises(selectors.CaseNotFound):
        selectors.get_identity(identity_manager, case.pk, "emergency")


def test_identity_compartment_needs_team_and_identity_role(officer, case):
    identity_officer = UserFactory(roles=[Role.PROTECTION_OFFICER, Role.IDENTITY_OFFICER])
    services.add_member(case, identity_officer, TeamRole.OFFICER)
    services.record_identity(identity_officer, case.pk, legacy_name="Old Name", new_name="New Name")
    record = selectors.get_identity(identity_officer, case.pk, "case_management")
    assert record.new_name == "New Name"
    assert (
        LedgerEntry.objects.filter(object_type="identity", action=Action.CONSULTATION).count() == 1
    )
    with pytest.raises(selectors.CaseNotFound):
        selectors.get_identity(officer, case.pk, "case_management")


def test_manager_grants_time_limited_access(manager, case):
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER])
    services.grant_access(manager, case.pk, colleague, reason="covering leave", days=2)
    assert selectors.get_case(colleague, case.pk, "case_management") == case
    later = timezone.now() + timedelta(days=3)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert not selectors.cases_visible_to(colleague).exists()


def test_non_manager_cannot_grant(officer, case):
    with pytest.raises(selectors.CaseNotFound):
        services.grant_access(officer, case.pk, UserFactory(), reason="x", days=1)
    assert not AccessGrant.objects.exists()


def test_grant_refused_for_an_uncleared_colleague(manager, case):
    junior = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.OFFICIAL)
    with pytest.raises(ValidationError):
        services.grant_access(manager, case.pk, junior, reason="x", days=1)


def test_stale_update_is_a_conflict_not_a_lost_update(officer, case):
    services.update_case(officer, case.pk, version=1, reason="typo", address="1 New Road")
    with pytest.raises(services.ConflictError):
        services.update_case(officer, case.pk, version=1, reason="mine", address="2 Old Road")
    assert Case.objects.get(pk=case.pk).address == "1 New Road"


def test_update_is_logged_with_fields_and_reason(officer, case):
    services.update_case(officer, case.pk, version=1, reason="moved", address="1 New Road")
    entry = LedgerEntry.objects.get(action=Action.ALTERATION)
    assert entry.fields == ["address"] and entry.justification == ""  # sealed, not in clear
    assert ledger.open_sealed(entry) == {"justification": "moved"}


def test_future_date_of_birth_is_refused_and_nothing_saved(officer):
    with pytest.raises(ValidationError):
        make_case(officer, subject_dob=timezone.localdate() + timedelta(days=1))
    assert not Case.objects.exists()
    assert not LedgerEntry.objects.filter(action=Action.COLLECTION).exists()


def test_case_page_asks_for_a_purpose_then_shows_the_case(client, officer, case):
    force_sign_in(client, officer)
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/purpose/")
    client.post("/purpose/", {"purpose": "case_management", "next": f"/cases/{case.pk}/"})
    page = client.get(f"/cases/{case.pk}/")
    assert "Ivy Testcase" in page.content.decode()
    assert 'data-testid="classification"' in page.content.decode()
    assert "SECRET" in page.content.decode()


def test_case_page_for_an_inaccessible_case_is_404_before_any_purpose(client, case):
    force_sign_in(client, UserFactory(roles=[Role.PROTECTION_OFFICER]))
    assert client.get(f"/cases/{case.pk}/").status_code == 404


def test_api_read_needs_purpose_header(client, officer, case):
    from haven.accounts import services as account_services

    _, secret = account_services.issue_api_token(
        officer, "t", modules=officer.modules, can_write=True
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    response = client.get(f"/api/cases/{case.pk}", **auth)
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    response = client.get(f"/api/cases/{case.pk}", HTTP_X_HAVEN_PURPOSE="case_management", **auth)
    assert response.json()["subject_name"] == "Ivy Testcase"


def test_api_conflict_and_malformed_json(client, officer, case):
    from haven.accounts import services as account_services

    _, secret = account_services.issue_api_token(
        officer, "t", modules=officer.modules, can_write=True
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    url = f"/api/cases/{case.pk}"
    response = client.patch(url, "{not json", content_type="application/json", **auth)
    assert 400 <= response.status_code < 500
    response = client.patch(
        url, {"version": 1, "reason": "r", "address": "A"}, content_type="application/json", **auth
    )
    assert response.status_code == 200
    response = client.patch(
        url, {"version": 1, "reason": "r", "address": "B"}, content_type="application/json", **auth
    )
    assert response.status_code == 409 and response.json()["status"] == 409
    response = client.patch(
        url,
        {"version": 2, "reason": "r", "subject_dob": "2999-01-01"},
        content_type="application/json",
        **auth,
    )
    assert response.status_code == 422


def test_the_case_file_names_the_route_it_was_opened_by_and_refuses_outsiders(manager, case):
    selectors.get_case_file(manager, case.pk, "case_management")
    assert LedgerEntry.objects.latest("id").details["route"] == "team"
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER])
    with pytest.raises(selectors.CaseNotFound):
        selectors.get_case_file(colleague, case.pk, "case_management")
    services.grant_access(manager, case.pk, colleague, reason="cover", days=1)
    assert selectors.get_case_file(colleague, case.pk, "case_management").case == case
    assert LedgerEntry.objects.latest("id").details["route"] == "grant"
    uncleared = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.OFFICIAL)
    assert case.classification > Clearance.OFFICIAL
    TeamMembership.objects.create(
        object_type="case", object_id=case.pk, user=uncleared, team_role=TeamRole.OFFICER
    )
    with pytest.raises(selectors.CaseNotFound):
        selectors.get_case_file(uncleared, case.pk, "case_management")
