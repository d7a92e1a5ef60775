"""`haven check --deploy`: refuse a configuration that would lose data or leak.

Each check is a Django system check registered with deploy=True, so it runs only under
`--deploy` (a developer's `make run` has DEBUG and demo mode on by design). Errors make the
command exit non-zero; SQLite is only a warning because a single small office may choose it.
The vault key check (haven.vault.E001) runs always; the ledger's append-only triggers and the
scheduler lock are checked by haven.audit and the scheduler.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connection

from haven.audit.signing import SigningKeyError, load_signing_key

MIN_SECRET_KEY_LENGTH = 50
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def check_debug_off(**kwargs: Any) -> list[checks.CheckMessage]:
    if settings.DEBUG:
        return [
            checks.Error(
                "HAVEN_DEBUG is on: tracebacks and settings would be shown to anyone.",
                hint="Unset HAVEN_DEBUG in /etc/haven/haven.env.",
                id="haven.deploy.E001",
            )
        ]
    return []


def check_demo_off(**kwargs: Any) -> list[checks.CheckMessage]:
    if getattr(settings, "DEMO_MODE", False):
        return [
            checks.Error(
                "HAVEN_DEMO is on: demo commands (such as `haven otp`) would be available.",
                hint="Unset HAVEN_DEMO in /etc/haven/haven.env.",
                id="haven.deploy.E002",
            )
        ]
    return []


def check_secret_key(**kwargs: Any) -> list[checks.CheckMessage]:
    from haven.settings import DEV_SECRET_KEY

    secret = settings.SECRET_KEY
    if (
        secret == DEV_SECRET_KEY
        or len(secret) < MIN_SECRET_KEY_LENGTH
        or secret.startswith("django-insecure")
    ):
        return [
            checks.Error(
                "HAVEN_SECRET_KEY is the development value or too short: sessions and CSRF "
                "tokens could be forged.",
                hint=f"Set HAVEN_SECRET_KEY to at least {MIN_SECRET_KEY_LENGTH} random "
                "characters: python3 -c 'import secrets; print(secrets.token_urlsafe(64))'",
                id="haven.deploy.E003",
            )
        ]
    return []


def check_signing_key(**kwargs: Any) -> list[checks.CheckMessage]:
    try:
        load_signing_key()
    except SigningKeyError as error:
        return [
            checks.Error(
                f"{error}: ledger checkpoints could not be signed.",
                id="haven.deploy.E004",
            )
        ]
    return []


def check_database(**kwargs: Any) -> list[checks.CheckMessage]:
    if connection.vendor == "sqlite":
        return [
            checks.Warning(
                "The database is SQLite: one machine only, no streaming replica.",
                hint="Set HAVEN_DATABASE_URL=postgres://... (deploy/README.md).",
                id="haven.deploy.W001",
            )
        ]
    try:
        running = autovacuum_on()
    except DatabaseError:
        return []  # no database to ask: the connection's own errors say why
    if not running:
        return [
            checks.Warning(
                "PostgreSQL's autovacuum is off: no table is analysed or vacuumed unless "
                "someone does it by hand. Query plans are made from missing or stale "
                "statistics (cached plans, such as the risk portfolio triggers', are never "
                "remade) and updated tables grow without bound.",
                hint="ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf(); "
                "(and track_counts = on, which autovacuum needs)",
                id="haven.deploy.W002",
            )
        ]
    return []


def autovacuum_on() -> bool:
    """Whether the PostgreSQL server runs autovacuum: it is on, and so is track_counts (the
    statistics it works from); a server without it says so in its log only."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('autovacuum'), current_setting('track_counts')")
        return all(setting == "on" for setting in cursor.fetchone())


def check_hosts(**kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    hosts = list(settings.ALLOWED_HOSTS)
    if not hosts or "*" in hosts or set(hosts) <= LOCAL_HOSTS:
        errors.append(
            checks.Error(
                f"HAVEN_ALLOWED_HOSTS is {','.join(hosts) or 'empty'}: it must name the "
                "server's public host name(s), and never '*'.",
                hint="HAVEN_ALLOWED_HOSTS=haven.example.org",
                id="haven.deploy.E005",
            )
        )
    for origin in getattr(settings, "CSRF_TRUSTED_ORIGINS", []):
        parts = urlsplit(origin)
        if parts.scheme != "https" or not parts.hostname or "*" in origin:
            errors.append(
                checks.Error(
                    f"CSRF trusted origin {origin!r} must be one https:// host, no wildcard.",
                    id="haven.deploy.E006",
                )
            )
    return errors


def check_tls(**kwargs: Any) -> list[checks.CheckMessage]:
    if not (
        settings.SESSION_COOKIE_SECURE
        and settings.CSRF_COOKIE_SECURE
        and settings.SECURE_HSTS_SECONDS > 0
    ):
        return [
            checks.Error(
                "Cookies are sent without TLS or HSTS is off (HAVEN_INSECURE_HTTP is on?): "
                "session cookies could be read on the network.",
                hint="Serve Haven behind the TLS proxy (deploy/Caddyfile) and unset "
                "HAVEN_INSECURE_HTTP.",
                id="haven.deploy.E007",
            )
        ]
    return []


DEPLOY_CHECKS = [
    check_debug_off,
    check_demo_off,
    check_secret_key,
    check_signing_key,
    check_database,
    check_hosts,
    check_tls,
]
