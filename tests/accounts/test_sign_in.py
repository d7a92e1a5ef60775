from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from haven.accounts.models import AuthenticatorDevice, HashedSession, User, session_key_digest
from tests.conftest import sign_in
from tests.factories import PASSWORD, UserFactory, current_code

pytestmark = pytest.mark.django_db


def test_password_then_totp_signs_in(client):
    user = UserFactory()
    sign_in(client, user)
    page = client.get("/")
    assert page.status_code == 200
    assert user.username in page.content.decode() or user.first_name in page.content.decode()


def test_password_alone_does_not_sign_in(client):
    user = UserFactory()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login")


def test_wrong_password_gives_error_summary_and_no_session(client):
    user = UserFactory()
    response = client.post("/accounts/login/", {"username": user.username, "password": "nope"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-error-summary" in body and "Enter a correct user name and password" in body
    assert client.get("/").status_code == 302


def test_unknown_user_gets_same_message_as_wrong_password(client):
    response = client.post("/accounts/login/", {"username": "ghost", "password": "x"})
    assert "Enter a correct user name and password" in response.content.decode()


def test_wrong_totp_code_is_refused(client):
    user = UserFactory()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    wrong = f"{(int(current_code(user)) + 1) % 1_000_000:06d}"
    response = client.post("/accounts/verify/", {"code": wrong})
    assert response.status_code == 200
    assert "The security code is not correct" in response.content.decode()
    assert client.get("/").status_code == 302


def test_malformed_totp_code_is_a_field_error(client):
    user = UserFactory()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    response = client.post("/accounts/verify/", {"code": "abc"})
    assert "Enter the 6-digit code" in response.content.decode()


def fail_from_many_addresses(username: str, failures: int) -> None:
    """Wrong passwords from several addresses, staying under each address's own limits."""
    from django.test import Client

    for attempt in range(failures):
        address = f"10.1.{attempt // (settings.LOGIN_FAILURE_LIMIT - 1)}.1"
        Client(REMOTE_ADDR=address).post(
            "/accounts/login/", {"username": username, "password": "wrong"}
        )


def test_account_locks_after_failures_from_many_addresses(client):
    user = UserFactory()
    fail_from_many_addresses(user.username, settings.LOGIN_ACCOUNT_FAILURE_LIMIT)
    user.refresh_from_db()
    assert user.is_locked()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    body = response.content.decode()
    assert "Enter a correct user name and password" in body and "locked" not in body.lower()
    assert client.get("/").status_code == 302


def test_lockout_expires(client):
    user = UserFactory()
    fail_from_many_addresses(user.username, settings.LOGIN_ACCOUNT_FAILURE_LIMIT)
    later = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}
        )
    assert response.status_code == 302


def test_failed_totp_codes_also_lock_the_account(client):
    user = UserFactory()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        response = client.post("/accounts/verify/", {"code": "000000"})
    # Past the password step, saying so tells an attacker nothing they did not know.
    assert "Your account is locked" in response.content.decode()
    user.refresh_from_db()
    assert user.is_locked()


def test_first_sign_in_enrols_totp_with_a_qr_code(client):
    user = UserFactory(with_totp=False)
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response["Location"] == "/accounts/enrol/"
    page = client.get("/accounts/enrol/")
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()
    device = AuthenticatorDevice.objects.get(user=user, confirmed=False)
    from django_otp.oath import totp

    code = f"{totp(device.bin_key):06d}"
    response = client.post("/accounts/enrol/", {"code": code})
    assert response.status_code == 302
    assert AuthenticatorDevice.objects.filter(user=user, confirmed=True).count() == 1
    assert client.get("/").status_code == 200


def test_idle_timeout_signs_out_after_15_minutes(client):
    sign_in(client, UserFactory())
    assert client.get("/").status_code == 200
    later = timezone.now() + timedelta(minutes=16)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.get("/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_activity_within_15_minutes_keeps_the_session(client):
    sign_in(client, UserFactory())
    later = timezone.now() + timedelta(minutes=14)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert client.get("/").status_code == 200


def test_sign_out_everywhere_ends_other_sessions(client):
    from django.test import Client

    user = UserFactory()
    other_device = sign_in(Client(), user)
    sign_in(client, user)
    client.post("/accounts/logout-everywhere/")
    assert other_device.get("/").status_code == 302


def test_sign_out_requires_post(client):
    sign_in(client, UserFactory())
    assert client.get("/accounts/logout/").status_code == 405
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_production_settings_hash_with_argon2id():
    from haven import settings as production

    assert production.PASSWORD_HASHERS[0].endswith("PepperedArgon2PasswordHasher")
    user = User(username="x")
    from django.contrib.auth.hashers import make_password

    with mock.patch.object(settings, "PASSWORD_HASHERS", production.PASSWORD_HASHERS):
        from django.contrib.auth.hashers import get_hashers

        get_hashers.cache_clear()
        try:
            encoded = make_password("a long enough password")
        finally:
            get_hashers.cache_clear()
    assert encoded.startswith("argon2_peppered$argon2id$")
    del user


def test_activity_is_stamped_once_per_resolution_not_on_every_request(client):
    sign_in(client, UserFactory())
    client.get("/")
    key = session_key_digest(client.session.session_key)
    Session = HashedSession  # noqa: N806
    stamped = Session.objects.get(pk=key).expire_date
    soon = timezone.now() + timedelta(seconds=settings.SESSION_ACTIVITY_RESOLUTION_SECONDS - 5)
    with mock.patch("django.utils.timezone.now", return_value=soon):
        assert client.get("/").status_code == 200
    assert Session.objects.get(pk=key).expire_date == stamped
    later = timezone.now() + timedelta(seconds=settings.SESSION_ACTIVITY_RESOLUTION_SECONDS + 5)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert client.get("/").status_code == 200
    assert Session.objects.get(pk=key).expire_date > stamped


def test_idle_timeout_counts_from_the_last_stamped_activity(client):
    sign_in(client, UserFactory())
    client.get("/")
    start = timezone.now()
    for minutes in (10, 20):  # active at 10, so still signed in at 20
        with mock.patch(
            "django.utils.timezone.now", return_value=start + timedelta(minutes=minutes)
        ):
            assert client.get("/").status_code == 200


def test_completing_sign_in_issues_a_new_http_only_same_site_session_key(client):
    """ASVS 3.2.1 and 3.4.2-3: the half-signed-in session's key does not survive sign-in."""
    user = UserFactory()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    half = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = client.post("/accounts/verify/", {"code": current_code(user)})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value and cookie.value != half
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = half
    assert stale.get("/").status_code == 302
