"""A database dump yields no usable session and no TOTP seed (issue 18, item 1)."""

from __future__ import annotations

import binascii
import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.accounts.models import AuthenticatorDevice
from tests.conftest import sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def dumped(sql: str) -> list[tuple[object, ...]]:
    """Rows as a database dump shows them: the columns, not what the models make of them."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def test_a_session_key_read_from_the_database_does_not_sign_in(client):
    sign_in(client, UserFactory())
    assert client.get("/").status_code == 200
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    stored = [row[0] for row in dumped("SELECT session_key FROM accounts_session")]
    assert stored and cookie not in stored
    for key in stored:
        replay = Client()
        replay.cookies[settings.SESSION_COOKIE_NAME] = key
        response = replay.get("/")
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login")
    assert not dumped("SELECT * FROM django_session")


def test_signing_out_deletes_the_hashed_row(client):
    sign_in(client, UserFactory())
    client.post("/accounts/logout/")
    assert not dumped("SELECT session_key FROM accounts_session WHERE session_data LIKE '%_auth%'")


def test_a_stored_totp_seed_is_ciphertext_no_code_can_be_computed_from(db):
    user = UserFactory()
    device = AuthenticatorDevice.objects.get(user=user)
    seed = device.key  # the plaintext, through the vault
    [(stored,)] = dumped(f"SELECT key FROM accounts_authenticatordevice WHERE id = {device.pk}")
    assert stored.startswith("hv1.") and seed not in stored
    with pytest.raises((binascii.Error, ValueError)):
        totp(binascii.unhexlify(stored.encode()))
    assert not TOTPDevice.objects.exists()


def test_existing_clear_seeds_are_sealed_and_removed_by_the_migration(db):
    user = UserFactory(with_totp=False)
    clear = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    migration = importlib.import_module(
        "haven.accounts.migrations.0002_secrets_at_rest_and_token_scopes"
    )
    migration.seal_totp_seeds(apps, None)
    sealed = AuthenticatorDevice.objects.get(user=user)
    assert sealed.key == clear.key and sealed.confirmed and sealed.name == "phone"
    assert not TOTPDevice.objects.exists()
    [(stored,)] = dumped(f"SELECT key FROM accounts_authenticatordevice WHERE id = {sealed.pk}")
    assert clear.key not in stored
