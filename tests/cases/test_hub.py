"""The case hub (issue 20): every part of a case one tab away, only permitted actions offered,
and a team managed safely (eligible colleagues only, remove and revoke with a reason)."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from haven.access.models import AccessGrant, TeamMembership
from haven.accounts.roles import Clearance, Role
from haven.audit import state
from haven.audit.models import Action, LedgerEntry
from haven.cases import services
from haven.notifications.models import Notification
from tests.cases.test_casework import advance, web
from tests.factories import UserFactory, issue_token

pytestmark = pytest.mark.django_db

TABS = ("people", "contacts", "tasks", "documents", "members", "timeline")


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Olive")


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER], first_name="Manon")


@pytest.fixture
def authoriser():
    return UserFactory(roles=[Role.AUTHORISING_OFFICER], first_name="Aurelio")


@pytest.fixture
def case(officer, manager, authoriser):
    return services.create_case(
        officer, subject_name="Ottilie Fictional", manager=manager, authoriser=authoriser
    )


def access_rows_unexplained() -> list[str]:
    """`haven audit verify --state` on team and grant rows (factory accounts are not ledgered)."""
    return [line for line in state.unexplained_rows() if not line.startswith("account")]


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# --------------------------------------------------------------------------- hub


def test_every_tab_is_linked_from_the_summary_and_opens(client, officer, case):
    web(client, officer)
    summary = page(client, f"/cases/{case.pk}/")
    for tab in TABS:
        assert f'href="/cases/{case.pk}/{tab}/"' in summary
        assert 'aria-current="page"' in page(client, f"/cases/{case.pk}/{tab}/")
    assert f'href="/risk/cases/{case.pk}/"' in summary
    assert 'data-testid="case-nav"' in page(client, f"/risk/cases/{case.pk}/")


def test_saving_a_record_returns_to_its_tab(client, officer, case):
    web(client, officer)
    response = client.post(
        f"/cases/{case.pk}/tasks/new/",
        {"kind": "task", "title": "Call school", "owner": officer.pk, "due_on": "2026-12-01"},
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/tasks/"


def test_risk_is_in_the_main_navigation_for_protection_roles_only(client, officer):
    web(client, officer)
    assert 'href="/risk/"' in page(client, "/")
    technician = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    web(client, technician)
    assert 'href="/risk/"' not in page(client, "/")


def test_home_shows_each_roles_entry_points(client, officer, manager):
    web(client, officer)
    home = page(client, "/")
    assert 'href="/cases/referrals/new/"' in home and 'href="/cases/dashboard/"' not in home
    web(client, manager)
    assert 'href="/cases/dashboard/"' in page(client, "/")


# --------------------------------------------------------------------------- permitted actions


def test_only_the_authorising_officer_is_offered_acceptance(client, officer, authoriser, case):
    advance(officer, case, "assessed")
    web(client, officer)
    assert "Accept the arrangement" not in page(client, f"/cases/{case.pk}/")
    response = client.get(f"/cases/{case.pk}/decision/?to=accepted")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    web(client, authoriser)
    assert "Accept the arrangement" in page(client, f"/cases/{case.pk}/")


def test_the_service_still_refuses_a_decision_that_is_not_offered(client, officer, case):
    advance(officer, case, "assessed")
    with pytest.raises(PermissionDenied, match="authorising officer"):
        advance(officer, case, "accepted")
    web(client, officer)
    response = client.post(
        f"/cases/{case.pk}/decision/",
        {"version": "2", "to_status": "accepted", "decided_on": "2026-01-01", "reason": "ok"},
    )
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.status == "assessed"


def test_a_joint_provider_is_offered_only_to_managers_and_authorisers(
    client, officer, manager, case
):
    web(client, officer)
    assert "Add a joint provider" not in page(client, f"/cases/{case.pk}/")
    web(client, manager)
    assert "Add a joint provider" in page(client, f"/cases/{case.pk}/")


# --------------------------------------------------------------------------- team and grants


@pytest.fixture
def outsiders():
    return {
        "official": UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.OFFICIAL),
        "auditor": UserFactory(roles=[Role.AUDITOR], clearance=Clearance.TOP_SECRET),
        "inactive": UserFactory(roles=[Role.PROTECTION_OFFICER], is_active=False),
    }


def test_the_pickers_offer_only_eligible_colleagues_with_role_and_clearance(
    client, manager, case, outsiders
):
    eligible = UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Eligible")
    web(client, manager)
    body = page(client, f"/cases/{case.pk}/team/")
    assert f'value="{eligible.pk}"' in body and "protection officer; cleared SECRET" in body
    for user in outsiders.values():
        assert f'value="{user.pk}"' not in body


def test_ineligible_colleagues_are_refused_when_posted_anyway(client, manager, case, outsiders):
    web(client, manager)
    for user in (outsiders["official"], outsiders["auditor"]):
        member = {"member-user": user.pk, "member-team_role": "officer"}
        grant = {"grant-user": user.pk, "grant-reason": "cover", "grant-days": "3"}
        for data in (member, grant):
            body = client.post(f"/cases/{case.pk}/team/", data).content.decode()
            assert "govuk-error-summary" in body
        with pytest.raises(ValidationError):
            services.add_team_member(manager, case.pk, user, "officer")
        with pytest.raises(ValidationError):
            services.grant_access(manager, case.pk, user, reason="cover", days=3)
    assert not TeamMembership.objects.filter(user__in=outsiders.values()).exists()
    assert not AccessGrant.objects.filter(user__in=outsiders.values()).exists()


def test_a_decision_maker_place_needs_the_decision_role(manager, case):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    with pytest.raises(ValidationError, match="authorising officer"):
        services.add_team_member(manager, case.pk, officer, "authorising")


def test_removing_a_member_asks_for_a_reason_then_is_ledgered_and_notified(
    client, officer, manager, case
):
    place = TeamMembership.objects.get(object_id=case.pk, user=officer)
    web(client, manager)
    assert f"/team/members/{place.pk}/remove/" in page(client, f"/cases/{case.pk}/team/")
    url = f"/cases/{case.pk}/team/members/{place.pk}/remove/"
    assert "Remove from team" in page(client, url)
    assert "Say why" in client.post(url, {"reason": ""}).content.decode()
    assert TeamMembership.objects.filter(pk=place.pk).exists()
    assert client.post(url, {"reason": "Moved to another region"}).status_code == 302
    assert not TeamMembership.objects.filter(pk=place.pk).exists()
    entry = LedgerEntry.objects.filter(case_id=str(case.pk)).latest("id")
    assert entry.action == Action.SECURITY and entry.details["event"] == "team_member_removed"
    assert any("took you off" in n.message for n in Notification.objects.filter(user=officer))
    assert access_rows_unexplained() == []
    TeamMembership.objects.create(
        object_type="case", object_id=case.pk, user=officer, team_role=place.team_role
    )  # put back without a service: the replayed removal makes it stand out
    assert any(officer.username in line for line in access_rows_unexplained())


def test_the_last_manager_cannot_be_removed(manager, case):
    place = TeamMembership.objects.get(object_id=case.pk, user=manager)
    with pytest.raises(ValidationError, match="needs a manager"):
        services.remove_team_member(manager, case.pk, place.pk, reason="leaving")


def test_grants_are_listed_with_expiry_and_revoked_with_a_reason(client, manager, case):
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER])
    grant = services.grant_access(manager, case.pk, colleague, reason="Cover", days=3)
    web(client, manager)
    team_page = page(client, f"/cases/{case.pk}/team/")
    assert f"{grant.expires_at:%-d %b %Y}" in team_page
    url = f"/cases/{case.pk}/team/grants/{grant.pk}/revoke/"
    assert url in team_page and "Revoke access" in page(client, url)
    assert client.post(url, {"reason": "Cover ended"}).status_code == 302
    grant.refresh_from_db()
    assert grant.expires_at <= timezone.now()
    assert f"/team/grants/{grant.pk}/" not in page(client, f"/cases/{case.pk}/team/")
    assert any("revoked" in n.message for n in Notification.objects.filter(user=colleague))
    assert access_rows_unexplained() == []


def test_the_managers_team_tab_is_where_they_manage_it(client, manager, case):
    web(client, manager)
    body = page(client, f"/cases/{case.pk}/members/")
    assert "Add to team" in body and f'action="/cases/{case.pk}/team/"' in body


def test_only_the_case_manager_reaches_remove_and_revoke(client, officer, case):
    place = TeamMembership.objects.get(object_id=case.pk, user=officer)
    web(client, officer)
    assert "/remove/" not in page(client, f"/cases/{case.pk}/members/")
    assert client.get(f"/cases/{case.pk}/team/members/{place.pk}/remove/").status_code == 404
    with pytest.raises(Exception, match="No such case"):
        services.remove_team_member(officer, case.pk, place.pk, reason="x")


def api_call(user, method: str, path: str, body: dict | None = None):
    from django.test import Client

    _, secret = issue_token(user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="case_management")
    return client.generic(method, path, json.dumps(body or {}), content_type="application/json")


def test_the_api_lists_the_team_and_removes_and_revokes_with_a_reason(officer, manager, case):
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER])
    grant = services.grant_access(manager, case.pk, colleague, reason="Cover", days=3)
    place = TeamMembership.objects.get(object_id=case.pk, user=officer)
    listed = api_call(officer, "GET", f"/api/cases/{case.pk}/team").json()
    assert [g["username"] for g in listed["grants"]] == [colleague.username]
    removal = f"/api/cases/{case.pk}/team/{place.pk}/removal"
    assert api_call(officer, "POST", removal, {"reason": "x"}).status_code == 404
    refused = api_call(manager, "POST", removal, {"reason": ""})
    assert refused.status_code == 422 and refused["Content-Type"] == "application/problem+json"
    assert api_call(manager, "POST", removal, {"reason": "Moved"}).status_code == 204
    revocation = f"/api/cases/{case.pk}/grants/{grant.pk}/revocation"
    assert api_call(manager, "POST", revocation, {"reason": "Ended"}).status_code == 204
    assert api_call(manager, "GET", f"/api/cases/{case.pk}/team").json()["grants"] == []


def test_contact_concerns_are_shown_by_their_labels_not_their_codes(client, officer, case):
    services.log_contact(
        officer, case.pk, occurred_at=timezone.now(), method="phone", summary="Call",
        concerns=["strain"],
    )  # fmt: skip
    web(client, officer)
    html = page(client, f"/cases/{case.pk}/contacts/")
    assert 'govuk-tag--orange">Strain</strong>' in html
    assert 'govuk-tag--orange">strain</strong>' not in html
