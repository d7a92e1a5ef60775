"""Round trips of the case page, the case list and a case update (issue 22, item 4): each reads
and writes in a fixed number of queries, whatever the case holds, with every check and ledger
entry still made. A change that goes back to a query per question, per record or per check
fails here."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haven.access.models import TeamMembership
from haven.accounts.roles import Role
from haven.audit.models import Action, LedgerEntry
from haven.cases import selectors, services
from haven.cases.models import Person
from haven.vault.keyring import get_keyring
from tests.cases.helpers import PURPOSE, api_headers, web
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The statements of one request as the application issues them (savepoints are the test
# transaction's, BEGIN/COMMIT the connection's).
BOOKKEEPING = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")
# The case page: session, user and sign-in factor; the case with the reader's team places;
# the eight kinds of record on it; the ledger entry; unread notifications for the header.
CASE_PAGE_QUERIES = 14
# The case list: session, user, factor; count and page of visible cases; the ledger entry;
# unread notifications.
CASE_LIST_QUERIES = 7
# A case update through the API: the token (and its last use); the case, locked; one UPDATE
# of the case (its version checked as read); the ledger entry.
CASE_UPDATE_QUERIES = 5


def statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured if not q["sql"].startswith(BOOKKEEPING)]


@pytest.fixture(autouse=True)
def encryptions_leased() -> None:
    """The vault reserves encryptions a lease at a time (a write, on SQLite's shared test
    database seen here); whether a request's own encryptions cross a lease's end depends on
    what the worker ran before. Lease enough now, so the counts are the request's alone."""
    get_keyring().reserve_ahead(64)


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Olive")


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER], first_name="Manon")


@pytest.fixture
def case(officer, manager):
    return services.create_case(
        officer, subject_name="Ottilie Fictional", manager=manager, subject_dob=date(1980, 3, 7)
    )


def fill(officer, case, n: int) -> None:
    """n of each kind of record an officer adds to a case."""
    principal = Person.objects.get(case=case, role="principal")
    for day in range(1, n + 1):
        services.add_person(officer, case.pk, full_name=f"Associate {day}", relationship="sibling")
        services.add_location(
            officer, case.pk, kind="residence", address=f"{day} Lane", valid_from=date(2026, 1, day)
        )
        services.log_contact(
            officer,
            case.pk,
            occurred_at=datetime(2026, 2, day, 9, tzinfo=UTC),
            method="phone",
            summary=f"Call {day}",
            person_id=principal.pk,
        )
        services.create_task(officer, case.pk, title=f"Task {day}", due_on=date(2026, 12, day))


def case_page(client, case) -> list[str]:
    client.get(f"/cases/{case.pk}/")  # first request of the session: its own bookkeeping
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return statements(captured)


def test_the_case_page_reads_in_a_fixed_number_of_queries_whatever_the_case_holds(
    client, officer, case
):
    web(client, officer)
    few = case_page(client, case)
    fill(officer, case, 4)
    many = case_page(client, case)
    assert len(few) == len(many) <= CASE_PAGE_QUERIES, many


def test_the_readers_places_come_with_the_case_not_one_query_per_question(
    client, officer, manager, case
):
    """Route, compartment, team management and corrections are all asked of the reader's team
    places: read with the case, by one subquery, for a team member and for a manager."""
    for reader in (officer, manager):
        web(client, reader)
        before = LedgerEntry.objects.count()
        page = case_page(client, case)
        alone = [sql for sql in page if sql.startswith('SELECT "access_teammembership"')]
        assert alone == [], alone
        entry = LedgerEntry.objects.order_by("-id").first()
        assert LedgerEntry.objects.count() == before + 2  # both pages ledgered, as before
        assert entry.details["route"] == "team" and entry.actor_username == reader.username
    manager_page = client.get(f"/cases/{case.pk}/").content.decode()
    assert f'href="/cases/{case.pk}/members/"' in manager_page


def test_a_grant_holder_is_offered_no_team_action_and_ledgered_as_a_grant(client, manager, case):
    reader = UserFactory(roles=[Role.PROTECTION_OFFICER])
    services.grant_access(manager, case.pk, reader, reason="cover", days=1)
    web(client, reader)
    case_file = selectors.get_case_file(reader, case.pk, PURPOSE)
    from haven.cases import permissions

    assert not permissions.may_correct_records(reader, case_file.case)
    assert not permissions.may_manage_team(reader, case_file.case)
    assert LedgerEntry.objects.latest("id").details["route"] == "grant"


def test_places_read_for_one_user_are_never_used_for_another(officer, manager, case):
    from haven.cases import permissions

    case_file = selectors.get_case_file(officer, case.pk, PURPOSE)
    assert permissions.known_places(officer, case_file.case) == {"lead"}
    assert permissions.known_places(manager, case_file.case) is None
    assert permissions.may_manage_team(manager, case_file.case)  # looked up for the manager
    TeamMembership.objects.filter(user=officer).delete()
    assert permissions.may_correct_records(officer, case_file.case)  # as read with the page
    fresh = selectors.find_visible_case(manager, case.pk)
    assert not permissions.may_correct_records(officer, fresh)  # anything else asks again


def test_the_case_list_reads_in_a_fixed_number_of_queries(client, officer):
    for n in range(3):
        services.create_case(officer, subject_name=f"Subject {n}")
    web(client, officer)
    client.get("/cases/")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/cases/?page=1")
    assert response.status_code == 200
    assert len(statements(captured)) <= CASE_LIST_QUERIES, statements(captured)


def test_a_case_update_is_one_locked_read_one_update_and_its_ledger_entry(client, officer, case):
    headers = api_headers(officer)
    body = {"version": case.version, "reason": "moved", "address": "1 Bench Road"}
    with CaptureQueriesContext(connection) as captured:
        response = client.patch(
            f"/api/cases/{case.pk}", json.dumps(body), content_type="application/json", **headers
        )
    assert response.status_code == 200, response.content
    sql = statements(captured)
    assert len(sql) <= CASE_UPDATE_QUERIES, sql
    assert len([s for s in sql if s.startswith('UPDATE "cases_case"')]) == 1
    if connection.features.has_select_for_update:
        assert any(s.startswith('SELECT "cases_case"') and "FOR UPDATE" in s for s in sql)
    entry = LedgerEntry.objects.latest("id")
    assert entry.action == Action.ALTERATION and entry.fields == ["address"]
    assert response.json()["address"] == "1 Bench Road" and response.json()["version"] == 2


def test_an_update_rewrites_a_blind_index_only_when_its_source_changes(officer, case):
    def indexes():
        return selectors.find_visible_case(officer, case.pk)

    before = indexes()
    services.update_case(officer, case.pk, version=1, reason="moved", address="2 Road")
    after_address = indexes()
    assert (after_address.name_index, after_address.dob_index) == (
        before.name_index,
        before.dob_index,
    )
    services.update_case(officer, case.pk, version=2, reason="name", subject_name="Ida Renamed")
    search = selectors.CaseSearch(name="Ida Renamed")
    assert list(selectors.search_cases(officer, search)) == [case]
    assert not list(selectors.search_cases(officer, selectors.CaseSearch(name="Ottilie Fictional")))
    assert list(selectors.search_cases(officer, selectors.CaseSearch(dob="1980-03-07"))) == [case]
