"""Scoped, re-authenticated API tokens (item 4) and security events in the ledger (item 7)."""

from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from haven.accounts import services
from haven.accounts.models import ApiToken, User
from haven.accounts.roles import Module, Role
from haven.audit import ledger
from haven.audit.models import Action, LedgerEntry
from haven.concurrency.transactions import service_transaction
from tests.factories import PASSWORD, UserFactory, current_code, force_sign_in, issue_token

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}", "HTTP_X_HAVEN_PURPOSE": "case_management"}


def events(name: str) -> list[LedgerEntry]:
    return [
        entry
        for entry in LedgerEntry.objects.filter(action=Action.SECURITY)
        if entry.details.get("event") == name
    ]


def test_issuing_a_token_needs_the_password_and_a_fresh_code():
    user = UserFactory(roles=[Role.PROTECTION_OFFICER])
    web = force_sign_in(Client(), user)
    form = {"name": "script", "modules": [Module.PROTECTION], "password": PASSWORD}
    no_password = {**form, "password": "not mine", "code": current_code(user)}
    wrong = web.post("/accounts/profile/", no_password).content.decode()
    assert "Your password or security code is not correct" in wrong
    assert not ApiToken.objects.exists()
    web.post("/accounts/profile/", {**form, "code": current_code(user)})
    token = ApiToken.objects.get()
    replayed = web.post("/accounts/profile/", {**form, "code": "000000"}).content.decode()
    assert "Your password or security code is not correct" in replayed
    assert ApiToken.objects.count() == 1
    assert token.modules == [Module.PROTECTION] and not token.can_write
    lifetime = token.expires_at - token.created_at
    assert timedelta(days=29) < lifetime <= timedelta(days=settings.API_TOKEN_DAYS) and (
        settings.API_TOKEN_DAYS == 30
    )
    assert len(events("token_issued")) == 1 and len(events("reauthentication_failed")) == 2


def test_a_token_cannot_be_scoped_to_a_module_the_user_lacks():
    user = UserFactory(roles=[Role.PROTECTION_OFFICER])
    with pytest.raises(Exception, match="do not open"):
        services.issue_api_token(user, "x", modules=[Module.OPERATIONS], can_write=False)


def test_a_read_token_only_reads_and_a_token_opens_only_its_module(client):
    user = UserFactory(roles=[Role.PROTECTION_OFFICER, Role.TECHNICAL_OFFICER])
    _, read = issue_token(user, modules=[Module.PROTECTION], can_write=False)
    assert client.get("/api/cases", **bearer(read)).status_code == 200
    refused = client.post("/api/notifications/read-all", **bearer(read))
    assert refused.status_code == 403 and "only read" in refused.json()["detail"]
    other_module = client.get("/api/equipment/assets", **bearer(read))
    assert other_module.status_code == 403
    _, write = issue_token(user, modules=[Module.PROTECTION], can_write=True)
    assert client.post("/api/notifications/read-all", **bearer(write)).status_code == 200


def test_last_use_is_shown_on_the_account_page(client):
    user = UserFactory()
    issue_token(user, "script")
    page = force_sign_in(Client(), user).get("/accounts/profile/").content.decode()
    assert 'data-testid="token-last-used">Never' in page
    _, secret = issue_token(user, "used")
    client.get("/api/me", **bearer(secret))
    page = force_sign_in(Client(), user).get("/accounts/profile/").content.decode()
    assert f"{timezone.localtime():%-d %b %Y}" in page.split('data-testid="token-last-used">')[1]


@override_settings(API_TOKEN_RATE="3/m")
def test_each_token_has_its_own_rate_limit(client):
    user = UserFactory()
    _, busy = issue_token(user, "busy")
    _, calm = issue_token(user, "calm")
    answers = [client.get("/api/me", **bearer(busy)).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    limited = client.get("/api/me", **bearer(busy))
    assert limited["Content-Type"] == "application/problem+json" and limited["Retry-After"]
    assert client.get("/api/me", **bearer(calm)).status_code == 200


def test_a_tokens_last_use_is_stamped_once_per_resolution_not_on_every_request(client):
    token, secret = issue_token(UserFactory())
    assert client.get("/api/me", **bearer(secret)).status_code == 200
    token.refresh_from_db()
    stamped = token.last_used_at
    assert stamped is not None
    resolution = settings.SESSION_ACTIVITY_RESOLUTION_SECONDS
    soon = stamped + timedelta(seconds=resolution - 5)
    with mock.patch("django.utils.timezone.now", return_value=soon):
        assert client.get("/api/me", **bearer(secret)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == stamped
    later = stamped + timedelta(seconds=resolution + 5)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert client.get("/api/me", **bearer(secret)).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == later


def test_lockout_suspends_tokens_and_ends_sessions(client):
    user = UserFactory()
    _, secret = issue_token(user)
    web = force_sign_in(Client(), user)
    assert web.get("/").status_code == 200
    with service_transaction():
        services.record_failure(User.objects.get(pk=user.pk), 1)
    assert client.get("/api/me", **bearer(secret)).status_code == 401
    assert web.get("/").status_code == 302
    services.unlock_account(user)
    assert client.get("/api/me", **bearer(secret)).status_code == 200
    assert len(events("account_locked")) == 1 and len(events("account_unlocked")) == 1


def test_sign_out_everywhere_revokes_tokens(client):
    user = UserFactory()
    _, secret = issue_token(user)
    web = force_sign_in(Client(), user)
    web.post("/accounts/logout-everywhere/")
    assert client.get("/api/me", **bearer(secret)).status_code == 401
    assert events("signed_out_everywhere")[0].details["tokens"] == 1


def test_sign_in_success_failure_and_enrolment_are_ledgered_without_typed_names():
    user = UserFactory(with_totp=False)
    Client().post("/accounts/login/", {"username": "Typed Secret Name", "password": "x"})
    Client().post("/accounts/login/", {"username": user.username, "password": "x"})
    failures = events("sign_in_failed")
    assert len(failures) == 2
    assert "Typed Secret Name" not in json.dumps([entry.details for entry in failures])
    assert failures[0].details["name_digest"] and failures[1].object_id == str(user.pk)
    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    client.get("/accounts/enrol/")
    from django_otp.oath import totp

    from haven.accounts.models import AuthenticatorDevice

    device = AuthenticatorDevice.objects.get(user=user)
    client.post("/accounts/enrol/", {"code": f"{totp(device.bin_key):06d}"})
    assert events("factor_enrolled")[0].object_id == str(user.pk)
    assert events("sign_in")[0].actor_username == user.username


def test_token_revoke_and_role_changes_are_ledgered():
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    user = UserFactory(roles=[Role.PROTECTION_OFFICER])
    token, _ = issue_token(user)
    services.revoke_api_token(user, token.pk)
    services.change_roles_and_clearance(
        user, roles=[Role.PROTECTION_MANAGER], clearance=1, by=admin, reason="promotion"
    )
    assert events("token_revoked")[0].details["token"] == token.pk
    [change] = events("roles_changed")
    assert change.actor_username == admin.username
    # Before and after are sealed like any free-form detail; the new state stays clear.
    assert "before" not in change.details
    opened = ledger.open_sealed(change)["details"]
    assert opened["before"]["roles"] == [Role.PROTECTION_OFFICER]
    assert opened["after"]["roles"] == [Role.PROTECTION_MANAGER]
    assert change.details["state"] == [["account", user.pk, Role.PROTECTION_MANAGER, 1]]


def test_refused_object_access_is_ledgered_rate_limited(client):
    user = UserFactory(roles=[Role.PROTECTION_OFFICER])
    _, secret = issue_token(user)
    for _ in range(12):
        assert (
            client.get(
                "/api/cases/00000000-0000-4000-8000-000000000000", **bearer(secret)
            ).status_code
            == 404
        )
    refusals = events("access_refused")
    assert [entry.details["refusals_in_window"] for entry in refusals] == [1, 10]
    assert refusals[0].details["target"] == "/api/cases/00000000-0000-4000-8000-000000000000"
    web = force_sign_in(Client(), user)
    web.get("/cases/00000000-0000-4000-8000-000000000000/")
    assert len(events("access_refused")) == 3
    # A page with no object id is not a probe of protected data.
    web.get("/no/such/page/")
    assert len(events("access_refused")) == 3
