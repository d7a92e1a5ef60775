"""`haven check --deploy`: each check fires on the configuration it exists to refuse, and a
production-like configuration passes them all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core import checks
from django.db import OperationalError, connection

from haven.audit.checkpoint import private_key_to_pem
from haven.runtime import deploychecks
from haven.settings import DEV_SECRET_KEY

# check_database asks the PostgreSQL server for its settings.
pytestmark = pytest.mark.django_db

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
        assert all(m.id == "haven.deploy.W002" for m in messages)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL server setting")
def test_the_server_is_asked_whether_autovacuum_runs(production: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        (autovacuum,) = cursor.fetchone()
        cursor.execute("SHOW track_counts")
        (track_counts,) = cursor.fetchone()
    running = autovacuum == "on" and track_counts == "on"
    assert deploychecks.autovacuum_on() is running
    assert ids(deploychecks.check_database) == ([] if running else ["haven.deploy.W002"])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL server setting")
@pytest.mark.parametrize("running", [True, False])
def test_autovacuum_off_is_a_warning_not_a_refusal(
    production: Any, monkeypatch: pytest.MonkeyPatch, running: bool
) -> None:
    monkeypatch.setattr(deploychecks, "autovacuum_on", lambda: running)
    messages = deploychecks.check_database()
    expected = [] if running else [("haven.deploy.W002", checks.WARNING)]
    assert [(m.id, m.level) for m in messages] == expected


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL server setting")
def test_a_database_that_cannot_be_asked_is_left_to_its_own_errors(
    production: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable() -> bool:
        raise OperationalError("connection refused")

    monkeypatch.setattr(deploychecks, "autovacuum_on", unreachable)
    assert deploychecks.check_database() == []
