from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from haven.accounts.models import User
from haven.accounts.roles import Role

from .factories import PASSWORD, UserFactory, current_code

# Tests never time: a per-example deadline fails on a loaded 2-core CI machine, not on a bug.
hypothesis_settings.register_profile(
    "haven", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("haven")


def sign_in(client: Client, user: User) -> Client:
    """Sign in through the real two-step flow (password, then TOTP)."""
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    response = client.post("/accounts/verify/", {"code": current_code(user)})
    assert response.status_code == 302 and response["Location"] == "/", response.content
    return client


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(*roles: str, **kwargs: object) -> User:
        return UserFactory(roles=list(roles) or [Role.PROTECTION_OFFICER], **kwargs)

    return make


@pytest.fixture
def signed_in(client: Client, make_user: Callable[..., User]) -> Callable[..., Client]:
    def login_as(*roles: str, **kwargs: object) -> Client:
        return sign_in(Client(), make_user(*roles, **kwargs))

    return login_as


@pytest.fixture
def resettable_ledger(transactional_db: None) -> Iterator[None]:
    """Transactional tests end with a flush, which SQLite does row by row: lift the ledger's
    append-only triggers for that reset only, and put them back for the next test."""
    from django.db import connection

    from haven.audit import triggers

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            triggers.install(cursor.execute, connection.vendor)
    yield
    with connection.cursor() as cursor:
        triggers.drop_for_test_reset(cursor.execute, connection.vendor)


@pytest.fixture(autouse=True)
def append_only_triggers(request: pytest.FixtureRequest) -> None:
    """A flush after a transactional test lifts the SQLite append-only triggers (see
    resettable_ledger); put them back before any later test on the same worker uses the DB."""
    database_fixtures = {"db", "transactional_db", "live_server"}
    if not request.node.get_closest_marker("django_db") and not (
        database_fixtures & set(request.fixturenames)
    ):
        return
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    request.getfixturevalue("_django_db_helper")
    from haven.audit import triggers as ledger_triggers
    from haven.equipment import triggers as custody_triggers
    from haven.risk import triggers as risk_triggers

    with connection.cursor() as cursor:
        for append_only in (ledger_triggers, custody_triggers, risk_triggers):
            append_only.install(cursor.execute, connection.vendor)
