"""ASVS 2.8.5: a security code that was already used (a replay inside its window) is refused,
ledgered as a replay, and the holder is told through the notification system, once per code."""

from __future__ import annotations

import pytest
from django.test import Client

from haven.notifications.models import Notification
from tests.factories import PASSWORD, UserFactory, current_code

from .factor_helpers import events

pytestmark = pytest.mark.django_db


def security_notices(user) -> int:  # type: ignore[no-untyped-def]
    return Notification.objects.filter(user=user, category="security").count()


def attempt(user, code: str):  # type: ignore[no-untyped-def]
    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    return client, client.post("/accounts/verify/", {"code": code})


def test_a_replayed_code_is_refused_ledgered_and_its_holder_told_once(time_machine):
    time_machine.move_to("2026-12-06 04:00:05", tick=False)
    user = UserFactory()
    code = current_code(user)
    signed_in, answer = attempt(user, code)
    assert answer.status_code == 302 and signed_in.get("/").status_code == 200
    assert security_notices(user) == 0

    for _ in range(2):  # the same code again, within its window
        replay, answer = attempt(user, code)
        assert answer.status_code == 200  # refused: the code form again
        assert replay.get("/").status_code == 302
    assert len(events("totp_replayed")) == 2
    assert security_notices(user) == 1  # told once for this code, not once per try


def test_a_wrong_code_is_not_called_a_replay(time_machine):
    time_machine.move_to("2026-12-06 04:00:05", tick=False)
    user = UserFactory()
    _, answer = attempt(user, "000000" if current_code(user) != "000000" else "111111")
    assert answer.status_code == 200
    assert events("totp_replayed") == [] and security_notices(user) == 0
    assert len(events("sign_in_failed")) == 1


def test_a_replayed_code_cannot_confirm_it_is_you(time_machine):
    time_machine.move_to("2026-12-06 04:00:05", tick=False)
    user = UserFactory()
    code = current_code(user)
    client, _ = attempt(user, code)
    answer = client.post("/accounts/security/", {"password": PASSWORD, "code": code})
    assert answer.status_code == 200  # refused, the page again with the error
    assert "not correct" in answer.content.decode()
    assert len(events("totp_replayed")) == 1 and security_notices(user) == 1
