"""Issue 18 item 5: an administrator creates, changes, deactivates, reactivates and unlocks
accounts from the browser and the API, and confirms the periodic access review; every step is
ledgered, and nobody changes their own account."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from haven.access.models import AccessGrant, TeamMembership, TeamRole
from haven.accounts import services
from haven.accounts.models import AccessReview, ApiToken, User
from haven.accounts.roles import Clearance, Role
from haven.audit import ledger, state
from haven.audit.models import Action, LedgerEntry
from haven.cases import services as case_services
from haven.notifications.models import Notification
from tests.factories import UserFactory, force_sign_in, issue_token, make_case

pytestmark = pytest.mark.django_db


def events(name: str) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(action=Action.SECURITY, details__event=name).order_by("id")
    )


def unexplained_about(user: User) -> list[str]:
    return [line for line in state.unexplained_rows() if f"(#{user.pk})" in line]


@pytest.fixture
def admin() -> User:
    return UserFactory(roles=[Role.ADMINISTRATOR], clearance=Clearance.OFFICIAL)


@pytest.fixture
def admin_client(admin: User) -> Client:
    return force_sign_in(Client(), admin)


def bearer(user: User) -> dict[str, str]:
    _, secret = issue_token(user)
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def test_home_leads_to_the_account_pages_and_they_offer_the_actions(admin_client, admin):
    home = admin_client.get("/").content.decode()
    assert "/administration/" in home
    listing = admin_client.get("/administration/").content.decode()
    assert "/administration/users/new/" in listing and "/administration/access-review/" in listing
    other = UserFactory()
    page = admin_client.get(f"/administration/users/{other.pk}/").content.decode()
    for action in ("access/", "vetting/", "qualifications/new/", "deactivate/"):
        assert f"/administration/users/{other.pk}/{action}" in page
    # On their own account an administrator is offered nothing to change.
    own = admin_client.get(f"/administration/users/{admin.pk}/").content.decode()
    assert 'data-testid="account-actions"' not in own and "your own account" in own


def test_a_created_account_signs_in_with_its_first_password_and_enrols(admin_client, admin):
    response = admin_client.post(
        "/administration/users/new/",
        {
            "username": "newstarter",
            "first_name": "Nia",
            "last_name": "Fictional",
            "roles": [Role.PROTECTION_OFFICER],
            "clearance": Clearance.OFFICIAL,
        },
    )
    assert response.status_code == 200
    password = re.search(r'data-testid="first-password">([^<]+)<', response.content.decode())[1]
    account = User.objects.get(username="newstarter")
    [created] = events("account_created")
    assert created.actor_username == admin.username
    assert created.details["state"] == [["account", account.pk, Role.PROTECTION_OFFICER, 1]]
    # No authenticator yet: the first sign-in goes to enrolment.
    first = Client().post("/accounts/login/", {"username": "newstarter", "password": password})
    assert first["Location"] == "/accounts/enrol/"


def test_a_taken_user_name_is_a_field_error(admin_client):
    UserFactory(username="taken")
    response = admin_client.post(
        "/administration/users/new/",
        {
            "username": "TAKEN",
            "first_name": "A",
            "last_name": "B",
            "roles": [Role.AUDITOR],
            "clearance": Clearance.OFFICIAL,
        },
    )
    assert response.status_code == 200 and "That user name is taken" in response.content.decode()
    assert not User.objects.filter(username="TAKEN").exists()


def test_changing_roles_needs_a_reason_is_ledgered_and_tells_the_person(admin_client, admin):
    person = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.OFFICIAL)
    url = f"/administration/users/{person.pk}/access/"
    form = {"roles": [Role.PROTECTION_MANAGER], "clearance": Clearance.OFFICIAL}
    refused = admin_client.post(url, form)
    assert refused.status_code == 200 and "Enter reason" in refused.content.decode()
    assert admin_client.post(url, {**form, "reason": "Promoted"}).status_code == 302
    person.refresh_from_db()
    assert person.roles == [Role.PROTECTION_MANAGER]
    [change] = events("roles_changed")
    assert ledger.open_sealed(change)["details"]["reason"] == "Promoted"
    assert change.details["state"] == [["account", person.pk, Role.PROTECTION_MANAGER, 1]]
    assert Notification.objects.filter(user=person).count() == 1
    assert unexplained_about(person) == []


def test_an_administrator_never_changes_or_deactivates_their_own_account(admin_client, admin):
    for action in ("access", "deactivate", "vetting"):
        response = admin_client.post(
            f"/administration/users/{admin.pk}/{action}/",
            {"roles": [Role.AUDITOR], "clearance": 1, "reason": "mine"},
        )
        assert response.status_code == 302
    admin.refresh_from_db()
    assert admin.roles == [Role.ADMINISTRATOR] and admin.is_active
    with pytest.raises(ValidationError):
        services.deactivate_account(admin, by=admin, reason="leaving")
    response = Client().post(
        f"/api/accounts/{admin.pk}/access",
        json.dumps({"roles": [Role.AUDITOR], "clearance": 1, "reason": "mine"}),
        content_type="application/json",
        **bearer(admin),
    )
    assert response.status_code == 422 and "your own account" in response.json()["title"]


def test_deactivation_lists_what_is_lost_then_ends_sessions_tokens_and_teams(admin_client, admin):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    case = make_case(officer, manager=manager)
    granted = make_case(manager, manager=manager)
    case_services.grant_access(manager, granted.pk, officer, reason="cover", days=1)
    officer_client = force_sign_in(Client(), officer)
    token, secret = issue_token(officer)
    url = f"/administration/users/{officer.pk}/deactivate/"

    preview = admin_client.get(url).content.decode()
    assert f"Case {case.reference}" in preview and f"Case {granted.reference}" in preview
    assert "Enter reason" in admin_client.post(url, {}).content.decode()
    assert officer_client.get("/").status_code == 200  # nothing happened yet

    assert admin_client.post(url, {"reason": "Left the unit"}).status_code == 302
    officer.refresh_from_db()
    assert not officer.is_active
    assert not TeamMembership.objects.filter(user=officer).exists()
    assert not AccessGrant.objects.filter(user=officer).exists()
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert officer_client.get("/")["Location"].startswith("/accounts/login/")
    api = Client().get("/api/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.status_code == 401
    [entry] = events("account_deactivated")
    assert entry.details["state"] == [["active", officer.pk, False]]
    assert not [line for line in unexplained_about(officer) if "active" in line]
    # The person's colleagues keep their places.
    assert TeamMembership.objects.filter(object_id=case.pk, user=manager).exists()


def test_an_account_reactivated_by_sql_is_named_and_a_reactivation_is_explained(admin):
    person = UserFactory()
    services.deactivate_account(person, by=admin, reason="Left")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET is_active = %s WHERE id = %s", [True, person.pk])
    [line] = [line for line in unexplained_about(person) if "active" in line]
    assert "the ledger last deactivated it" in line
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET is_active = %s WHERE id = %s", [False, person.pk])
    person.refresh_from_db()
    services.reactivate_account(person, by=admin, reason="Returned")
    assert User.objects.get(pk=person.pk).is_active
    assert not [line for line in unexplained_about(person) if "active" in line]


def test_reactivate_and_unlock_from_the_account_page(admin_client, admin):
    person = UserFactory(is_active=False)
    page = admin_client.get(f"/administration/users/{person.pk}/").content.decode()
    assert "/reactivate/" in page and "/deactivate/" not in page
    url = f"/administration/users/{person.pk}/reactivate/"
    assert admin_client.post(url, {"reason": "Back from secondment"}).status_code == 302
    person.refresh_from_db()
    person.locked_until = timezone.now() + timedelta(minutes=10)
    person.save(update_fields=["locked_until"])
    assert "/unlock/" in admin_client.get(f"/administration/users/{person.pk}/").content.decode()
    admin_client.post(f"/administration/users/{person.pk}/unlock/")
    person.refresh_from_db()
    assert person.is_active and not person.is_locked()
    assert [e.actor_username for e in events("account_unlocked")] == [admin.username]


def test_the_access_review_lists_who_reaches_what_and_its_confirmation_is_ledgered(
    admin_client, admin
):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    case = make_case(officer)
    home = admin_client.get("/").content.decode()
    assert "Access review to confirm" in home
    page = admin_client.get("/administration/access-review/").content.decode()
    assert officer.username in page and f"Case {case.reference}" in page
    assert "Never confirmed" in page and "Ivy Testcase" not in page  # references, no content
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', page)[1]

    # Access that changes under the reviewer's eyes must be reviewed again.
    case_services.add_member(case, UserFactory(), TeamRole.OFFICER)
    stale = admin_client.post("/administration/access-review/", {"digest": digest})
    assert "Access changed while you were reviewing it" in stale.content.decode()
    assert not AccessReview.objects.exists()

    fresh = re.search(r'name="digest" value="([0-9a-f]{64})"', stale.content.decode())[1]
    assert admin_client.post("/administration/access-review/", {"digest": fresh}).status_code == 302
    review = AccessReview.objects.get()
    assert review.confirmed_by == admin
    [entry] = events("access_review_confirmed")
    lines = ledger.open_sealed(entry)["details"]["lines"]
    assert any(line.startswith(f"{officer.username}:") and case.reference in line for line in lines)
    assert "Access review to confirm" not in admin_client.get("/").content.decode()


def test_the_api_runs_the_same_lifecycle(admin):
    auth = bearer(admin)
    client = Client()

    def call(method: str, path: str, body: dict | None = None):  # type: ignore[no-untyped-def]
        return client.generic(
            method, path, json.dumps(body or {}), content_type="application/json", **auth
        )

    created = call(
        "POST",
        "/api/accounts",
        {
            "username": "apiuser",
            "first_name": "Api",
            "last_name": "Person",
            "roles": [Role.TECHNICAL_OFFICER],
            "clearance": 1,
        },
    )
    assert created.status_code == 201 and created.json()["first_password"]
    user_id = created.json()["account"]["id"]
    changed = call(
        "POST",
        f"/api/accounts/{user_id}/access",
        {"roles": [Role.TECHNICAL_SUPERVISOR], "clearance": 1, "reason": "Promoted"},
    )
    assert changed.status_code == 200 and changed.json()["roles"] == [Role.TECHNICAL_SUPERVISOR]
    assert call("GET", f"/api/accounts/{user_id}/deactivation").json() == []
    gone = call("POST", f"/api/accounts/{user_id}/deactivate", {"reason": "Left"})
    assert gone.status_code == 200 and gone.json()["account"]["active"] is False
    assert call("POST", f"/api/accounts/{user_id}/deactivate", {"reason": "x"}).status_code == 422
    back = call("POST", f"/api/accounts/{user_id}/reactivate", {"reason": "Back"})
    assert back.json()["active"] is True
    review = call("GET", "/api/access-review").json()
    confirmed = call("POST", "/api/access-review/confirmations", {"digest": review["digest"]})
    assert confirmed.status_code == 201
    assert call("POST", "/api/access-review/confirmations", {"digest": "0" * 64}).status_code == 422


@pytest.mark.parametrize("role", [role for role in Role.values if role != Role.ADMINISTRATOR])
def test_no_other_role_reaches_the_administration_pages_or_api(role):
    user = UserFactory(roles=[role], clearance=Clearance.TOP_SECRET)
    target = UserFactory()
    client = force_sign_in(Client(), user)
    for path in (
        "/administration/",
        f"/administration/users/{target.pk}/",
        f"/administration/users/{target.pk}/deactivate/",
        "/administration/access-review/",
    ):
        assert client.get(path).status_code == 404, path
    assert (
        client.post(f"/administration/users/{target.pk}/deactivate/", {"reason": "x"}).status_code
        == 404
    )
    api = Client()
    assert api.get("/api/accounts", **bearer(user)).status_code == 404
    target.refresh_from_db()
    assert target.is_active
