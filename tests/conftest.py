from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from haven.accounts.models import User
from haven.accounts.roles import Role

from .built_once import built_once
from .factories import PASSWORD, UserFactory, current_code
from .live_server import start_live_server
from .sqlite_subprocess import migrate_test_sqlite

# Tests never time: a per-example deadline fails on a loaded 2-core CI machine, not on a bug.
hypothesis_settings.register_profile(
    "haven", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("haven")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """xdist (--dist loadgroup) runs xdist_group tests before all others on their worker. A
    transactional test's flush there would empty the reference data the migrations wrote (kinds
    of kit, the measure catalogue, allowance tiers) for every test after it on that worker, so
    a group holds only tests that leave the test database alone."""
    for item in items:
        if item.get_closest_marker("xdist_group") and flushes_database(item):
            raise pytest.UsageError(
                f"{item.nodeid}: an xdist_group test must not flush the database"
            )


def flushes_database(item: pytest.Item) -> bool:
    """A transactional test: Django flushes the database after it (its fixtures' closure
    holds transactional_db, as resettable_ledger's does, or live_server)."""
    marker = item.get_closest_marker("django_db")
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & fixtures
    )


def sign_in(client: Client, user: User) -> Client:
    """Sign in through the real two-step flow (password, then TOTP)."""
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    response = client.post("/accounts/verify/", {"code": current_code(user)})
    assert response.status_code == 302 and response["Location"] == "/", response.content
    return client


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[object]:
    """pytest-django's live server (same address rules), whose stop waits for the threads
    serving its connections: see tests/live_server.py."""
    addr = (
        request.config.getvalue("liveserver")
        or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS")
        or "localhost"
    )
    server = start_live_server(addr)
    yield server
    server.stop()


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
def resettable_ledger(transactional_db: None) -> None:
    """A transactional test; kept as a name for the tests that say they write the ledger.
    The flush that follows is handled by ``flushable_append_only_tables``."""


@pytest.fixture(autouse=True)
def flushable_append_only_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Django flushes the database after a transactional test, row by row on SQLite, which
    the append-only triggers refuse: lift them for that flush only, as a DBA would.  The
    flush ends with post_migrate, on which the product reinstalls them (the same install
    function the migrations run); tests never install a trigger themselves."""
    if not flushes_database(request.node):
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so its flush comes after this
    yield
    from django.db import connection

    from haven.audit import triggers

    if connection.vendor != "sqlite":
        return  # PostgreSQL flushes with TRUNCATE, which the row triggers do not see
    with connection.cursor() as cursor:
        for append_only in triggers.every_append_only():
            append_only.drop(cursor.execute, connection.vendor)


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A SQLite file the run migrated from zero once, with the test settings (and so the test
    keys); every test that needs a database built only by the migrations copies it (migrating
    from zero takes half a minute of CPU)."""
    folder = built_once(tmp_path_factory, worker_id, "migrated-test-sqlite", migrate_test_sqlite)
    return folder / "haven.sqlite3"


@pytest.fixture
def migrated_sqlite_file(tmp_path: Path, migrated_sqlite_template: Path) -> Path:
    """A SQLite file of this test's own, copied from migrated_sqlite_template (the migrations'
    triggers and all)."""
    return Path(shutil.copy(migrated_sqlite_template, tmp_path / "haven.sqlite3"))
