"""Fixtures for the Django-side ledger tests: a throwaway signing key and a user."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from haven.accounts.models import User
from haven.audit.checkpoint import generate_signing_key, private_key_to_pem, public_key_to_pem
from haven.audit.signing import SIGNING_KEY_ENV_VAR
from tests.factories import UserFactory


@pytest.fixture
def ledger_key(monkeypatch: pytest.MonkeyPatch, settings: Any) -> Ed25519PrivateKey:
    """A fresh signing key, supplied the way production may: HAVEN_LEDGER_SIGNING_KEY, with
    its public half pinned as the one key verification trusts."""
    key = generate_signing_key()
    monkeypatch.setenv(SIGNING_KEY_ENV_VAR, private_key_to_pem(key).decode("ascii"))
    settings.LEDGER_TRUSTED_KEYS = [public_key_to_pem(key.public_key()).decode("ascii")]
    return key


@pytest.fixture
def officer(db: None) -> User:
    return UserFactory(username="officer-ledger")
