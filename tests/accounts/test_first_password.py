"""ASVS 2.3.1: a first password made by Haven is short-lived (FIRST_PASSWORD_HOURS, default
72 h). After it the account cannot sign in with it, the person is told plainly to ask for a
reset code, and a reset code from an administrator opens the account again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from haven.accounts import services
from haven.accounts.roles import Clearance, Role
from tests.factories import UserFactory

from .factor_helpers import events
from .test_passwords import NEW_PASSWORD, issue_reset, redeem, verified_email

pytestmark = pytest.mark.django_db


def new_account(admin):  # type: ignore[no-untyped-def]
    return services.create_account(
        admin,
        services.NewAccount(
            username="newstarter",
            first_name="Nia",
            last_name="Fictional",
            email="",
            roles=[Role.PROTECTION_OFFICER],
            clearance=Clearance.OFFICIAL,
        ),
    )


def sign_in_with(password: str):  # type: ignore[no-untyped-def]
    return Client().post("/accounts/login/", {"username": "newstarter", "password": password})


def test_the_default_lifetime_is_72_hours():
    assert settings.FIRST_PASSWORD_HOURS == 72


def test_a_first_password_works_until_it_expires_then_says_so(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    account, password = new_account(admin)
    assert account.first_password_expires == timezone.now() + timedelta(hours=72)
    time_machine.shift(timedelta(hours=71, minutes=59))
    assert sign_in_with(password)["Location"] == "/accounts/enrol/"
    time_machine.shift(timedelta(minutes=2))
    refused = sign_in_with(password)
    assert refused.status_code == 200
    assert services.FIRST_PASSWORD_EXPIRED in refused.content.decode()
    assert len(events("sign_in_failed")) == 1
    # A wrong password still gets the one generic answer: the expiry is told only to whoever
    # knows the first password.
    wrong = sign_in_with("not the first password").content.decode()
    assert services.FIRST_PASSWORD_EXPIRED not in wrong


def test_a_reset_code_replaces_an_expired_first_password(
    time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(timezone.now(), tick=False)
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    account, password = new_account(admin)
    verified_email(account)
    time_machine.shift(timedelta(hours=73))
    assert services.FIRST_PASSWORD_EXPIRED in sign_in_with(password).content.decode()
    code = issue_reset(admin, account, django_capture_on_commit_callbacks)
    assert redeem("newstarter", code).status_code == 302
    account.refresh_from_db()
    assert account.first_password_expires is None
    assert sign_in_with(NEW_PASSWORD)["Location"] == "/accounts/enrol/"


def test_accounts_made_otherwise_have_no_first_password_expiry():
    assert UserFactory().first_password_expires is None
