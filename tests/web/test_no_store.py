"""ASVS 4.0.3 8.1.1, 8.1.2, 8.2.2: no signed-in page or API answer may be kept by a browser or
shared cache, and no script Haven ships writes to the browser's storage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

import haven.web
from haven.accounts.roles import Role
from tests.factories import UserFactory, force_sign_in, issue_token

pytestmark = pytest.mark.django_db

PROTECTED_PAGES = [
    "/",
    "/cases/",  # a redirect answer is kept out of caches as well
    "/accounts/profile/",
    "/accounts/security/",
    "/accounts/security/password/",
    "/no/such/page/",  # a refusal is a signed-in answer too
]


@pytest.mark.parametrize("path", PROTECTED_PAGES)
def test_every_signed_in_page_is_no_store(path):
    web = force_sign_in(Client(), UserFactory(roles=[Role.PROTECTION_MANAGER]))
    answer = web.get(path)
    assert answer.status_code in (200, 302, 404), answer.status_code
    assert answer["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/api/me", "/api/account/passkeys", "/api/no-such-operation"])
def test_every_api_answer_is_no_store(path):
    _, secret = issue_token(UserFactory())
    answer = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").get(path)
    assert answer["Cache-Control"] == "no-store"
    assert Client().get("/api/me")["Cache-Control"] == "no-store"  # the refusal too


def haven_scripts() -> list[Path]:
    static = Path(haven.web.__file__).parent / "static" / "haven"
    return sorted([*static.glob("*.js"), *static.glob("*.mjs")])


def test_no_script_haven_ships_uses_browser_storage():
    scripts = haven_scripts()
    assert len(scripts) >= 5  # the walk found the bundle
    storage = re.compile(r"\b(localStorage|sessionStorage|indexedDB|document\.cookie)\b")
    users = [script.name for script in scripts if storage.search(script.read_text())]
    assert users == []
