"""Password change by the signed-in user, and password reset by a one-time code that an
administrator has sent to the account's verified contact methods (issue 18, findings)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils import timezone

from haven.accounts import services
from haven.accounts.forms import PasswordChangeForm, PasswordResetForm
from haven.accounts.models import PasswordReset
from haven.accounts.roles import Role
from haven.concurrency.transactions import service_transaction
from haven.notifications.models import Channel, ContactMethod, Notification
from tests.factories import PASSWORD, UserFactory, current_code, force_sign_in, issue_token

from .factor_helpers import events

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a different long passphrase 7"
RESET_CODE = re.compile(r"reset code is ([A-Z0-9-]{19})")


def change(client: Client, user, **fields: str):  # type: ignore[no-untyped-def]
    form = {
        "current_password": PASSWORD,
        "new_password": NEW_PASSWORD,
        "new_password_again": NEW_PASSWORD,
        "code": current_code(user),
        **fields,
    }
    return client.post("/accounts/security/password/", form)


def test_changing_the_password_needs_the_current_one_and_a_code_and_ends_other_sessions():
    user = UserFactory()
    web, elsewhere = force_sign_in(Client(), user), force_sign_in(Client(), user)
    wrong = change(web, user, current_password="not my password").content.decode()
    assert "current password or security code is not correct" in wrong
    weak = change(web, user, new_password="password", new_password_again="password")
    assert "This password is too short" in weak.content.decode()
    assert change(web, user).status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert web.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302
    assert len(events("password_changed")) == 1


def verified_email(user) -> ContactMethod:  # type: ignore[no-untyped-def]
    contact = ContactMethod(
        user=user, channel=Channel.EMAIL, address="person@example.test", verified_at=timezone.now()
    )
    contact.save()
    return contact


def issue_reset(admin, user, capture) -> str:  # type: ignore[no-untyped-def]
    """An administrator sends a reset code from the account list; returns what the user got."""
    web = force_sign_in(Client(), admin)
    with capture(execute=True):
        response = web.post(
            f"/administration/accounts/{user.pk}/reset-password/", {"reason": "ticket 41"}
        )
    assert response.status_code == 302
    followed = web.get(response["Location"]).content.decode()
    [sent] = mail.outbox
    code = RESET_CODE.search(sent.body).group(1)  # type: ignore[union-attr]
    assert code not in followed
    return code


def redeem(username: str, code: str, password: str = NEW_PASSWORD):  # type: ignore[no-untyped-def]
    form = {
        "username": username,
        "code": code,
        "new_password": password,
        "new_password_again": password,
    }
    return Client().post("/accounts/reset-password/", form)


def test_a_reset_code_goes_only_to_the_verified_contact_and_works_once(
    django_capture_on_commit_callbacks,
):
    admin, user = UserFactory(roles=[Role.ADMINISTRATOR]), UserFactory()
    verified_email(user)
    code = issue_reset(admin, user, django_capture_on_commit_callbacks)
    assert len(events("password_reset_issued")) == 1
    assert redeem(user.username, code).status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    again = redeem(user.username, code, "yet another long passphrase 8")
    assert services.RESET_REFUSAL in again.content.decode()
    # The second factor still stands between the new password and the account.
    browser = Client()
    response = browser.post(
        "/accounts/login/", {"username": user.username, "password": NEW_PASSWORD}
    )
    assert response["Location"] == "/accounts/verify/" and browser.get("/").status_code == 302


def test_unknown_names_wrong_and_expired_codes_get_one_answer(django_capture_on_commit_callbacks):
    admin, user = UserFactory(roles=[Role.ADMINISTRATOR]), UserFactory()
    verified_email(user)
    code = issue_reset(admin, user, django_capture_on_commit_callbacks)
    answers = {
        redeem("nobody-by-this-name", code).content.decode().count(services.RESET_REFUSAL),
        redeem(user.username, "AAAA-BBBB-CCCC-DDDD").content.decode().count(services.RESET_REFUSAL),
    }
    # ASVS 2.7.2: an out-of-band code expires within 10 minutes of being sent.
    assert PasswordReset.objects.get().expires_at <= timezone.now() + timedelta(minutes=10)
    PasswordReset.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    answers.add(redeem(user.username, code).content.decode().count(services.RESET_REFUSAL))
    assert answers == {1}
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_no_reset_without_a_verified_contact_or_for_oneself():
    admin, user = UserFactory(roles=[Role.ADMINISTRATOR]), UserFactory()
    web = force_sign_in(Client(), admin)
    refused = web.post(f"/administration/accounts/{user.pk}/reset-password/", {"reason": "x"})
    assert "no verified contact method" in refused.content.decode()
    own = web.post(f"/administration/accounts/{admin.pk}/reset-password/", {"reason": "x"})
    assert 'data-testid="own-account"' in own.content.decode()
    assert not PasswordReset.objects.exists()
    officer = force_sign_in(Client(), UserFactory())
    page = officer.get(f"/administration/accounts/{user.pk}/reset-password/")
    assert page.status_code == 404


def test_the_api_sends_a_reset_code_for_an_administrator_only(django_capture_on_commit_callbacks):
    admin, user = UserFactory(roles=[Role.ADMINISTRATOR]), UserFactory()
    verified_email(user)
    path, body = f"/api/accounts/{user.pk}/password-reset", json.dumps({"reason": "ticket 7"})
    manager = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(UserFactory())[1]}")
    assert manager.post(path, body, content_type="application/json").status_code == 404
    admin_api = Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(admin)[1]}")
    own = f"/api/accounts/{admin.pk}/password-reset"
    assert admin_api.post(own, body, content_type="application/json").status_code == 422
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_api.post(path, body, content_type="application/json")
    assert answer.status_code == 201 and set(answer.json()) == {"username", "expires_at"}
    code = RESET_CODE.search(mail.outbox[0].body).group(1)  # type: ignore[union-attr]
    assert code not in answer.content.decode()


def test_an_undelivered_reset_code_is_ledgered_and_the_administrator_told(
    django_capture_on_commit_callbacks, settings
):
    settings.EMAIL_BACKEND = "tests.accounts.test_passwords.RefusingBackend"
    admin, user = UserFactory(roles=[Role.ADMINISTRATOR]), UserFactory()
    verified_email(user)
    with django_capture_on_commit_callbacks(execute=True), service_transaction():
        services.issue_password_reset(user, by=admin, reason="ticket 8")
    [event] = events("password_reset_undelivered")
    assert event.details["count"] == 1
    assert Notification.objects.filter(user=admin, category="security").exists()


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise OSError("mail server refused")


@pytest.mark.parametrize("form_class", [PasswordChangeForm, PasswordResetForm])
def test_a_new_password_typed_differently_the_second_time_is_refused(form_class):
    form = form_class(
        {"new_password": "correct horse battery", "new_password_again": "correct horse staple"}
    )
    assert not form.is_valid()
    assert form.errors["new_password_again"] == ["The passwords do not match"]
