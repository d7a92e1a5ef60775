"""Single-use recovery codes (issue 18, item 3): shown once, stored as keyed hashes, each a
second factor once, replaced as a set, their use ledgered and told to the holder."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from haven.accounts import services
from haven.accounts.models import RecoveryCode
from haven.notifications.models import Notification
from tests.factories import PASSWORD, UserFactory, force_sign_in

from .factor_helpers import events, password_step, reauthenticate

pytestmark = pytest.mark.django_db

CODE = re.compile(r"<code>((?:[A-Z0-9]{4}-){5}[A-Z0-9]{4})</code>")


def codes_from_page(client: Client) -> list[str]:
    response = client.post("/accounts/security/recovery-codes/")
    assert response["Cache-Control"].startswith("max-age=0")
    return CODE.findall(response.content.decode())


def test_codes_need_a_fresh_password_and_code_and_are_shown_once():
    user = UserFactory()
    web = force_sign_in(Client(), user)
    assert codes_from_page(web) == [] and not RecoveryCode.objects.exists()
    reauthenticate(web, user)
    codes = codes_from_page(web)
    assert len(codes) == 10 == len(set(codes))
    page = web.get("/accounts/security/").content.decode()
    assert "10 of 10 recovery codes left" in page and codes[0] not in page


def test_a_code_signs_in_once_and_the_holder_is_told():
    user = UserFactory()
    code = services.generate_recovery_codes(user)[0]
    first = Client()
    password_step(first, user)
    response = first.post("/accounts/verify/recovery-code/", {"code": code.lower()})
    assert response.status_code == 302 and first.get("/").status_code == 200
    assert [e.details["count"] for e in events("recovery_code_used")] == [9]
    assert Notification.objects.filter(user=user, category="security").count() == 1

    second = Client()
    password_step(second, user)
    again = second.post("/accounts/verify/recovery-code/", {"code": code})
    assert again.status_code == 200 and "not correct or was already used" in again.content.decode()
    assert second.get("/").status_code == 302


def test_new_codes_replace_the_old_set():
    user = UserFactory()
    old = services.generate_recovery_codes(user)
    new = services.generate_recovery_codes(user)
    assert not set(old) & set(new)
    browser = Client()
    password_step(browser, user)
    browser.post("/accounts/verify/recovery-code/", {"code": old[1]})
    assert browser.get("/").status_code == 302
    browser.post("/accounts/verify/recovery-code/", {"code": new[1]})
    assert browser.get("/").status_code == 200


def test_a_code_is_no_use_without_the_password_step():
    user = UserFactory()
    code = services.generate_recovery_codes(user)[0]
    stranger = Client()
    response = stranger.post("/accounts/verify/recovery-code/", {"code": code})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert RecoveryCode.objects.filter(used_at__isnull=True).count() == 10


def test_guessing_recovery_codes_locks_the_account(settings):
    user = UserFactory()
    code = services.generate_recovery_codes(user)[0]
    browser = Client()
    password_step(browser, user)
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        browser.post("/accounts/verify/recovery-code/", {"code": "ZZZZ-ZZZZ-ZZZZ"})
    locked = browser.post("/accounts/verify/recovery-code/", {"code": "ZZZZ-ZZZZ-ZZZZ"})
    assert "locked" in locked.content.decode().lower()
    user.refresh_from_db()
    assert user.is_locked()
    # While the lock lasts the password step is refused, and even a right code opens nothing
    # (nor is it used up).
    refused = Client().post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert refused.status_code == 200
    attempt = services.use_recovery_code(user, code)
    assert attempt.locked and attempt.device is None
    assert RecoveryCode.objects.filter(used_at__isnull=True).count() == 10


def test_codes_carry_at_least_112_random_bits_and_stay_typeable():
    """ASVS 2.6.2: six groups of four from a 30-symbol alphabet without look-alikes."""
    import math

    [code, *_] = services.generate_recovery_codes(UserFactory())
    groups = code.split("-")
    assert [len(group) for group in groups] == [4] * 6
    assert set("".join(groups)) <= set(services.CODE_ALPHABET)
    assert 24 * math.log2(len(services.CODE_ALPHABET)) >= 112


def test_a_code_of_the_earlier_shorter_set_keeps_working_until_regenerated():
    from haven.accounts.models import RecoveryCodeDevice, factor_secret_digest

    user = UserFactory()
    services.generate_recovery_codes(user)
    device = RecoveryCodeDevice.objects.get(user=user)
    # Three-group codes handed out before the longer ones.
    old, unused = "ABCD-EFGH-JKMN", "PQRS-TVWX-YZ23"
    for code in (old, unused):
        digest = factor_secret_digest("recovery", user.pk, code)
        RecoveryCode.objects.create(device=device, digest=digest)
    client = Client()
    password_step(client, user)
    response = client.post("/accounts/verify/recovery-code/", {"code": old})
    assert response.status_code == 302 and client.get("/").status_code == 200
    services.generate_recovery_codes(user)  # regenerated: the old set is gone
    retry = Client()
    password_step(retry, user)
    assert retry.post("/accounts/verify/recovery-code/", {"code": unused}).status_code == 200
    assert retry.get("/").status_code == 302
