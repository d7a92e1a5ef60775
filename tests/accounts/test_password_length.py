"""ASVS 2.1.2 at its bounds: a new password of 64 or 128 characters is accepted, one of 129 is
refused with a clear message and nothing changes, on the web forms and in the API."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import PASSWORD, UserFactory, current_code, force_sign_in, issue_token

from .test_passwords import change

pytestmark = pytest.mark.django_db

TOO_LONG = "Your password must be 128 characters or fewer"


def of_length(n: int) -> str:
    return ("correct horse battery staple " * 10)[:n]


@pytest.fixture
def next_step(time_machine):  # type: ignore[no-untyped-def]
    time_machine.move_to(timezone.now(), tick=False)
    return lambda: time_machine.shift(dt.timedelta(seconds=31))


@pytest.mark.parametrize("length", [64, 128])
def test_the_change_form_accepts_64_and_128_characters(length):
    user = UserFactory()
    web = force_sign_in(Client(), user)
    new = of_length(length)
    answer = change(web, user, new_password=new, new_password_again=new)
    assert answer.status_code == 302, answer.content.decode()
    user.refresh_from_db()
    assert user.check_password(new)


def test_the_change_form_refuses_129_characters_and_keeps_the_password():
    user = UserFactory()
    web = force_sign_in(Client(), user)
    new = of_length(129)
    answer = change(web, user, new_password=new, new_password_again=new)
    assert answer.status_code == 200 and TOO_LONG in answer.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_api_accepts_128_and_refuses_129_characters(next_step):
    user = UserFactory()
    _, secret = issue_token(user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def post(new: str, current: str):  # type: ignore[no-untyped-def]
        body = {"current_password": current, "new_password": new, "code": current_code(user)}
        return api.post("/api/account/password", json.dumps(body), content_type="application/json")

    next_step()
    refused = post(of_length(129), PASSWORD)
    assert refused.status_code == 422
    assert "new_password" in refused.json()["title"] and TOO_LONG in json.dumps(refused.json())
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    next_step()
    assert post(of_length(128), PASSWORD).status_code == 204
    user.refresh_from_db()
    assert user.check_password(of_length(128))
