from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from haven.accounts import services
from haven.accounts.models import ApiToken
from haven.accounts.roles import Role
from tests.factories import PASSWORD, current_code, force_sign_in

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def token_form(user, **extra):  # type: ignore[no-untyped-def]
    """The profile page's token form, re-authenticated with the password and a fresh code."""
    return {
        "name": "script",
        "modules": user.modules,
        "password": PASSWORD,
        "code": current_code(user),
        **extra,
    }


def test_token_created_on_profile_page_works_and_is_hashed(make_user, client):
    user = make_user(Role.PROTECTION_OFFICER)
    web = force_sign_in(Client(), user)
    page = web.post("/accounts/profile/", token_form(user)).content.decode()
    secret = page.split('data-testid="new-token">')[1].split("<")[0]
    token = ApiToken.objects.get()
    assert token.key_hash != secret and secret not in token.key_hash
    response = client.get("/api/me", **bearer(secret))
    assert response.status_code == 200
    assert response.json()["roles"] == [Role.PROTECTION_OFFICER]


def test_missing_token_is_a_problem_json_401(client):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Not authenticated"


def test_bad_expired_and_revoked_tokens_are_refused(make_user, client):
    user = make_user(Role.PROTECTION_OFFICER)
    assert client.get("/api/me", **bearer("hvn_nonsense")).status_code == 401
    expired, expired_secret = services.issue_api_token(
        user, "old", modules=user.modules, can_write=True
    )
    expired.expires_at = timezone.now() - timedelta(seconds=1)
    expired.save()
    assert client.get("/api/me", **bearer(expired_secret)).status_code == 401
    revoked, revoked_secret = services.issue_api_token(
        user, "gone", modules=user.modules, can_write=True
    )
    assert services.revoke_api_token(user, revoked.pk)
    assert client.get("/api/me", **bearer(revoked_secret)).status_code == 401


def test_token_revoked_from_profile_page(make_user):
    user = make_user(Role.PROTECTION_OFFICER)
    web = force_sign_in(Client(), user)
    page = web.post("/accounts/profile/", token_form(user)).content.decode()
    token = ApiToken.objects.get()
    web.post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoked" in web.get("/accounts/profile/").content.decode()
    del page


def test_user_cannot_revoke_someone_elses_token(signed_in, make_user):
    other = make_user(Role.PROTECTION_OFFICER)
    token, _ = services.issue_api_token(other, "theirs", modules=other.modules, can_write=True)
    signed_in(Role.PROTECTION_OFFICER).post(f"/accounts/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is None


def test_empty_token_name_is_a_field_error(signed_in):
    body = (
        signed_in(Role.PROTECTION_OFFICER).post("/accounts/profile/", {"name": ""}).content.decode()
    )
    assert "govuk-error-summary" in body
    assert ApiToken.objects.count() == 0


def test_openapi_schema_and_docs_are_served_to_a_signed_in_user(signed_in):
    client = signed_in(Role.PROTECTION_OFFICER)
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200 and schema.json()["info"]["title"] == "Haven API"
    assert client.get("/api/docs").status_code == 200


@pytest.mark.parametrize("page", ["/api/openapi.json", "/api/docs", "/api/"])
def test_openapi_schema_and_docs_need_sign_in_in_production(client, page):
    """The suite runs with DEBUG off, as production does: no session, no map of the API."""
    assert not settings.DEBUG
    response = client.get(page)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert b"openapi" not in response.content


def test_a_half_signed_in_session_does_not_open_the_docs(client, make_user):
    user = make_user(Role.PROTECTION_OFFICER)
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert client.get("/api/openapi.json").status_code == 302


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
