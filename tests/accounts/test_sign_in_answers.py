"""Unknown, wrong and locked accounts get the same answer after the same work; throttling is
per source address and per (address, name), so one address cannot lock an account out for its
owner (issue 18, item 2)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client, override_settings

from haven.accounts.models import User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


class CountingHasher(MD5PasswordHasher):
    """The test suite's hasher, counting how often it hashes: the costly step whose absence
    made unknown and locked accounts answer faster."""

    runs = 0

    def encode(self, password: str, salt: str) -> str:
        CountingHasher.runs += 1
        return super().encode(password, salt)


def hashes_for(client: Client, username: str, password: str) -> tuple[int, str]:
    """How many times the hasher ran for one sign-in attempt, and the page without its
    per-request parts (CSRF token, the typed name)."""
    CountingHasher.runs = 0
    with override_settings(PASSWORD_HASHERS=[f"{__name__}.CountingHasher"]):
        response = client.post(LOGIN, {"username": username, "password": password})
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return CountingHasher.runs, body.replace(username, "NAME")


def lock(user: User) -> None:
    for attempt in range(settings.LOGIN_ACCOUNT_FAILURE_LIMIT):
        address = f"10.2.{attempt // (settings.LOGIN_FAILURE_LIMIT - 1)}.1"
        Client(REMOTE_ADDR=address).post(LOGIN, {"username": user.username, "password": "x"})
    user.refresh_from_db()
    assert user.is_locked()


def test_unknown_wrong_and_locked_answer_alike_after_one_hash_each():
    known, locked = UserFactory(), UserFactory()
    lock(locked)
    answers = {
        "unknown": hashes_for(Client(REMOTE_ADDR="10.3.0.1"), "nobody-here", "guess"),
        "wrong": hashes_for(Client(REMOTE_ADDR="10.3.0.2"), known.username, "guess"),
        "locked, wrong": hashes_for(Client(REMOTE_ADDR="10.3.0.3"), locked.username, "guess"),
        "locked, right": hashes_for(Client(REMOTE_ADDR="10.3.0.4"), locked.username, PASSWORD),
    }
    assert {runs for runs, _ in answers.values()} == {1}, answers
    pages = {body for _, body in answers.values()}
    assert len(pages) == 1
    [page] = pages
    assert "Enter a correct user name and password" in page and "is locked" not in page
    assert "ask an administrator to unlock your account" in page


def test_one_address_shuts_itself_out_of_a_name_but_not_the_owner():
    user = UserFactory()
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(settings.LOGIN_FAILURE_LIMIT * 3):
        attacker.post(LOGIN, {"username": user.username, "password": "guess"})
    user.refresh_from_db()
    assert not user.is_locked()
    refused = attacker.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert refused.status_code == 200
    owner = Client(REMOTE_ADDR="198.51.100.7")
    assert owner.post(LOGIN, {"username": user.username, "password": PASSWORD}).status_code == 302


def test_an_address_failing_across_many_names_is_throttled_for_every_name():
    user = UserFactory()
    spray = Client(REMOTE_ADDR="203.0.113.10")
    for attempt in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        spray.post(LOGIN, {"username": f"guess{attempt}", "password": "guess"})
    refused = spray.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert refused.status_code == 200
    elsewhere = Client(REMOTE_ADDR="198.51.100.8")
    response = elsewhere.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_a_right_password_clears_the_pair_count():
    user = UserFactory()
    client = Client(REMOTE_ADDR="192.0.2.1")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        client.post(LOGIN, {"username": user.username, "password": "typo"})
    assert client.post(LOGIN, {"username": user.username, "password": PASSWORD}).status_code == 302
    fresh = Client(REMOTE_ADDR="192.0.2.1")
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        fresh.post(LOGIN, {"username": user.username, "password": "typo"})
    assert fresh.post(LOGIN, {"username": user.username, "password": PASSWORD}).status_code == 302


@override_settings(CLIENT_ADDRESS_HEADER="X-Forwarded-For")
def test_behind_the_proxy_the_forwarded_address_is_the_source():
    user = UserFactory()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        Client(HTTP_X_FORWARDED_FOR="203.0.113.11").post(
            LOGIN, {"username": user.username, "password": "guess"}
        )
    # Same proxy address (REMOTE_ADDR), another client: not throttled.
    owner = Client(HTTP_X_FORWARDED_FOR="198.51.100.9")
    assert owner.post(LOGIN, {"username": user.username, "password": PASSWORD}).status_code == 302
