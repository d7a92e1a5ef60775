"""ASVS 3.3.4: a user sees where they are signed in (browser, signed-in time, last seen) on
"Sign-in and security" and ends any other session after confirming it is them; the API twin
under /api/account/sessions. Ending one is ledgered; another person's session cannot be ended."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from haven.accounts.models import HashedSession
from haven.accounts.sessions import describe_user_agent
from tests.conftest import sign_in
from tests.factories import PASSWORD, UserFactory, current_code, issue_token

from .factor_helpers import events, reauthenticate

pytestmark = pytest.mark.django_db

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def next_step(time_machine):  # type: ignore[no-untyped-def]
    """TOTP takes one code per 30-second step: move the clock on before each new code."""
    time_machine.move_to(timezone.now(), tick=False)
    return lambda: time_machine.shift(dt.timedelta(seconds=31))


def browser(user_agent: str) -> Client:
    return Client(HTTP_USER_AGENT=user_agent)


def handles(user) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.handle for s in HashedSession.objects.filter(user=user, signed_in_at__isnull=False)]


@pytest.mark.parametrize(
    ("agent", "words"),
    [
        (FIREFOX_WINDOWS, "Firefox on Windows"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        ("curl/8.5", "Unknown browser"),
    ],
)
def test_the_user_agent_is_named_in_a_persons_words(agent, words):
    assert describe_user_agent(agent) == words


def test_the_security_page_lists_ones_sessions_and_ends_another_after_confirmation(next_step):
    user = UserFactory()
    laptop = sign_in(browser(FIREFOX_WINDOWS), user)
    next_step()
    phone = sign_in(browser(SAFARI_IPHONE), user)
    others = sign_in(browser(FIREFOX_WINDOWS), UserFactory())  # someone else's: never listed

    page = phone.get("/accounts/security/").content.decode()
    assert "Firefox on Windows" in page and "Safari on iPhone" in page
    assert "This session" in page
    assert 'data-testid="end-session"' not in page  # not offered before confirming it is you
    assert len(handles(user)) == 2

    laptop_handle = next(
        s.handle for s in HashedSession.objects.filter(user=user, device="Firefox on Windows")
    )
    # Not yet confirmed: refused, nothing ends.
    phone.post("/accounts/security/sessions/end/", {"session": laptop_handle})
    assert laptop.get("/").status_code == 200

    next_step()
    reauthenticate(phone, user)
    page = phone.get("/accounts/security/").content.decode()
    assert page.count('data-testid="end-session"') == 1  # the laptop's; not this session's
    answer = phone.post("/accounts/security/sessions/end/", {"session": laptop_handle})
    assert answer.status_code == 302
    assert laptop.get("/").status_code == 302  # signed out
    assert phone.get("/").status_code == 200 and others.get("/").status_code == 200
    assert len(events("session_ended")) == 1


def test_one_cannot_end_another_persons_session_or_ones_own_current_one(next_step):
    user, other = UserFactory(), UserFactory()
    client = sign_in(Client(), user)
    victim = sign_in(Client(), other)
    next_step()
    reauthenticate(client, user)
    (their_handle,) = handles(other)
    (own_handle,) = handles(user)
    for handle in (their_handle, own_handle, "", "x" * 200):
        client.post("/accounts/security/sessions/end/", {"session": handle})
    assert victim.get("/").status_code == 200 and client.get("/").status_code == 200
    assert events("session_ended") == []


def test_the_api_lists_and_ends_ones_sessions_behind_reauthentication(next_step):
    user = UserFactory()
    laptop = sign_in(browser(FIREFOX_WINDOWS), user)
    _, secret = issue_token(user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    listed = api.get("/api/account/sessions").json()
    assert [s["device"] for s in listed] == ["Firefox on Windows"]
    assert listed[0]["signed_in_at"] and listed[0]["last_seen_at"]
    (handle,) = handles(user)
    assert listed[0]["id"] == handle

    def end(session_id: str, code: str) -> int:
        return api.post(
            f"/api/account/sessions/{session_id}/end",
            json.dumps({"password": PASSWORD, "code": code}),
            content_type="application/json",
        ).status_code

    next_step()
    assert end(handle, "000000") == 422
    assert laptop.get("/").status_code == 200
    next_step()
    assert end(handle, current_code(user)) == 204
    assert laptop.get("/").status_code == 302
    assert len(events("session_ended")) == 1


def test_the_api_answers_404_for_anothers_or_nobodys_session():
    user, other = UserFactory(), UserFactory()
    victim = sign_in(Client(), other)
    (their_handle,) = handles(other)
    _, secret = issue_token(user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/account/sessions").json() == []
    for session_id in (their_handle, "0" * 16, "short"):
        answer = api.post(
            f"/api/account/sessions/{session_id}/end",
            json.dumps({"password": PASSWORD, "code": "000000"}),
            content_type="application/json",
        )
        assert answer.status_code == 404
        assert answer["Content-Type"].startswith("application/problem+json")
    assert victim.get("/").status_code == 200
