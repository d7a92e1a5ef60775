"""The two probes of issue 18, re-run as tests.

(a) A database dump after a realistic set-up (sign-ins, TOTP and passkey enrolment, recovery
    codes, API tokens, a password reset code) holds no usable session key, TOTP seed, token,
    recovery code, reset code or password in clear: every table, every column, as stored.
(b) User-name enumeration: an unknown name and a known one get the same status and the same page
    at every attempt, before, at and after the lockout limit, at sign-in and at the reset-code
    page (responses are compared, not timings)."""

from __future__ import annotations

import base64
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django_otp.oath import totp
from soft_webauthn import SoftWebauthnDevice

from haven.accounts import services
from haven.accounts.models import AuthenticatorDevice, User
from haven.accounts.roles import Role
from haven.concurrency.transactions import service_transaction
from tests.conftest import sign_in
from tests.factories import PASSWORD, UserFactory, issue_token

from .factor_helpers import reauthenticate, register_passkey
from .test_passwords import issue_reset, verified_email

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def dump() -> str:
    """Every row of every table as a dump shows it (bytes as hex and as latin-1 text)."""
    cells: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        raw = bytes(value)
                        cells += [raw.hex(), raw.decode("latin-1")]
                    elif value is not None:
                        cells.append(str(value))
    return "\n".join(cells)


def forms_of(secret: str) -> set[str]:
    """A secret as it might be written down: as given, without separators, in either case."""
    bare = re.sub(r"[\s-]", "", secret)
    return {form for form in (secret, bare, bare.lower(), bare.upper()) if len(form) >= 6}


def enrol_totp(user: User) -> bytes:
    """First sign-in: password, then the enrolment page's QR code, confirmed with a code."""
    browser = Client()
    assert browser.post(LOGIN, {"username": user.username, "password": PASSWORD}).status_code == 302
    browser.get("/accounts/enrol/")
    device = AuthenticatorDevice.objects.get(user=user, confirmed=False)
    seed = device.bin_key
    assert browser.post("/accounts/enrol/", {"code": f"{totp(seed):06d}"}).status_code == 302
    return bytes(seed)


def test_a_database_dump_holds_no_usable_secret(django_capture_on_commit_callbacks):
    admin = UserFactory(roles=[Role.ADMINISTRATOR])
    officer = UserFactory(with_totp=False)
    seed = enrol_totp(officer)
    browsers = [sign_in(Client(), officer), sign_in(Client(), UserFactory())]
    sessions = [b.cookies[settings.SESSION_COOKIE_NAME].value for b in browsers]
    reauthenticate(browsers[0], officer)
    assert register_passkey(browsers[0], SoftWebauthnDevice()).status_code == 200
    with service_transaction():
        recovery = services.generate_recovery_codes(officer)
    _, token = issue_token(officer)
    verified_email(officer)
    reset_code = issue_reset(admin, officer, django_capture_on_commit_callbacks)

    secrets = {
        "session key": set(sessions),
        "TOTP seed": {seed.hex(), base64.b32encode(seed).decode().rstrip("=")},
        "API token": {token},
        "recovery code": set().union(*(forms_of(code) for code in recovery)),
        "password reset code": forms_of(reset_code),
        "password": {PASSWORD},
    }
    stored = dump()
    assert officer.username in stored  # the dump is real: it holds what is not secret
    found = {kind for kind, values in secrets.items() if any(v in stored for v in values)}
    assert not found, f"in clear in the database: {sorted(found)}"


def answer(client: Client, path: str, form: dict[str, str], name: str) -> tuple[int, str, str]:
    """Status, redirect and page, without the per-request CSRF token or the typed name."""
    response = client.post(path, form)
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return response.status_code, response.get("Location", ""), body.replace(name, "NAME")


def test_unknown_and_known_names_answer_alike_before_and_after_the_lockout_limit():
    known = UserFactory()
    unknown = "nobody-by-this-name"
    attempts = settings.LOGIN_ACCOUNT_FAILURE_LIMIT + 2
    for attempt in range(attempts):
        # Each attempt from its own address, the same for both names: only the name differs.
        address = f"198.51.100.{attempt + 1}"
        for_known = answer(
            Client(REMOTE_ADDR=address),
            LOGIN,
            {"username": known.username, "password": "wrong guess"},
            known.username,
        )
        for_unknown = answer(
            Client(REMOTE_ADDR=address.replace("198.51.100", "198.51.101")),
            LOGIN,
            {"username": unknown, "password": "wrong guess"},
            unknown,
        )
        assert for_known == for_unknown, f"attempt {attempt + 1} tells the names apart"
        assert for_known[0] == 200 and "is locked" not in for_known[2]
    known.refresh_from_db()
    assert known.is_locked()  # the known account did lock, and nothing said so


def test_the_reset_code_page_answers_unknown_and_known_names_alike():
    known = UserFactory()
    form = {
        "code": "AAAA-BBBB-CCCC-DDDD",
        "new_password": "a long enough new passphrase 9",
        "new_password_again": "a long enough new passphrase 9",
    }
    for_known = answer(
        Client(REMOTE_ADDR="198.51.102.1"),
        "/accounts/reset-password/",
        {**form, "username": known.username},
        known.username,
    )
    for_unknown = answer(
        Client(REMOTE_ADDR="198.51.102.2"),
        "/accounts/reset-password/",
        {**form, "username": "nobody-by-this-name"},
        "nobody-by-this-name",
    )
    assert for_known == for_unknown
    assert services.RESET_REFUSAL in for_known[2]
