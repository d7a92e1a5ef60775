"""`haven check --deploy`: each check fires on the configuration it exists to refuse, and a
production-like configuration passes them all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import checks
from django.db import connection

from haven.audit.checkpoint import private_key_to_pem
from haven.runtime import deploychecks
from haven.settings import DEV_SECRET_KEY

Check = Callable[..., list[checks.CheckMessage]]


@pytest.fixture
def production(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    settings.DEBUG = False
    settings.DEMO_MODE = False
    settings.SECRET_KEY = "k" * 30 + "secret-for-the-deploy-check-test-only"
    settings.ALLOWED_HOSTS = ["haven.example.org"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://haven.example.org"]
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    pem = private_key_to_pem(Ed25519PrivateKey.generate()).decode()
    monkeypatch.setenv("HAVEN_LEDGER_SIGNING_KEY", pem)
    yield settings


def ids(check: Check) -> list[str]:
    return [message.id or "" for message in check()]


def test_a_production_configuration_passes_every_refusing_check(production: Any) -> None:
    errors = [
        message
        for check in deploychecks.DEPLOY_CHECKS
        for message in check()
        if message.level >= checks.ERROR
    ]
    assert errors == []


@pytest.mark.parametrize(
    ("change", "check", "expected"),
    [
        ({"DEBUG": True}, deploychecks.check_debug_off, "haven.deploy.E001"),
        ({"DEMO_MODE": True}, deploychecks.check_demo_off, "haven.deploy.E002"),
        ({"SECRET_KEY": DEV_SECRET_KEY}, deploychecks.check_secret_key, "haven.deploy.E003"),
        ({"SECRET_KEY": "short"}, deploychecks.check_secret_key, "haven.deploy.E003"),
        ({"ALLOWED_HOSTS": ["*"]}, deploychecks.check_hosts, "haven.deploy.E005"),
        ({"ALLOWED_HOSTS": []}, deploychecks.check_hosts, "haven.deploy.E005"),
        ({"ALLOWED_HOSTS": ["localhost"]}, deploychecks.check_hosts, "haven.deploy.E005"),
        (
            {"CSRF_TRUSTED_ORIGINS": ["http://haven.example.org"]},
            deploychecks.check_hosts,
            "haven.deploy.E006",
        ),
        ({"CSRF_TRUSTED_ORIGINS": ["https://*"]}, deploychecks.check_hosts, "haven.deploy.E006"),
        ({"SESSION_COOKIE_SECURE": False}, deploychecks.check_tls, "haven.deploy.E007"),
        ({"SECURE_HSTS_SECONDS": 0}, deploychecks.check_tls, "haven.deploy.E007"),
    ],
)
def test_each_check_refuses_its_risk(
    production: Any, change: dict[str, Any], check: Check, expected: str
) -> None:
    assert ids(check) == []
    for name, value in change.items():
        setattr(production, name, value)
    assert ids(check) == [expected]


def test_a_missing_ledger_signing_key_is_refused(
    production: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    assert ids(deploychecks.check_signing_key) == []
    monkeypatch.delenv("HAVEN_LEDGER_SIGNING_KEY")
    production.KEY_DIR = tmp_path

    [message] = deploychecks.check_signing_key()

    assert message.id == "haven.deploy.E004"
    assert "haven audit init-key" in message.msg


def test_sqlite_is_a_warning_not_a_refusal(production: Any) -> None:
    messages = deploychecks.check_database()
    if connection.vendor == "sqlite":
        assert [(m.id, m.level) for m in messages] == [("haven.deploy.W001", checks.WARNING)]
    else:
        assert messages == []
