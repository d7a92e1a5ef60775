"""Two real `haven scheduler` processes against one database: one acts, the other stands by
and takes over when the first is killed. SQLite (flock) always; PostgreSQL (advisory lock) when
HAVEN_DATABASE_URL is PostgreSQL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 60.0

StateReader = Callable[[], dict[int, str]]  # pid -> "active" | "standby"


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    # The real settings (the database task backend), not the test ones (tasks run in-line).
    env["DJANGO_SETTINGS_MODULE"] = "haven.settings"
    env["PYTHONPATH"] = str(ROOT / "src")
    env["HAVEN_TESTING"] = "1"
    return env


def _haven(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "haven.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _states_from_rows(rows: list[tuple[str, str]]) -> dict[int, str]:
    return {int(instance.rsplit(":", 1)[1]): detail for instance, detail in rows}


@pytest.fixture
def sqlite_database(
    migrated_sqlite_file: Path, tmp_path: Path
) -> tuple[dict[str, str], StateReader, Callable[[], int]]:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant")
    env = _env(HAVEN_DATA_DIR=str(tmp_path))
    env.pop("HAVEN_DATABASE_URL", None)
    database = migrated_sqlite_file

    def query(sql: str) -> list[tuple[str, str]]:
        with sqlite3.connect(database, timeout=10) as db:
            return db.execute(sql).fetchall()

    def states() -> dict[int, str]:
        return _states_from_rows(
            query("SELECT instance, detail FROM runtime_heartbeat WHERE part = 'scheduler'")
        )

    def enqueued() -> int:
        return int(query("SELECT count(*) FROM django_tasks_database_dbtaskresult")[0][0])

    return env, states, enqueued


@pytest.fixture
def postgres_database(
    request: pytest.FixtureRequest,
) -> tuple[dict[str, str], StateReader, Callable[[], int]]:
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL variant runs when HAVEN_DATABASE_URL is PostgreSQL")
    from django_tasks_db.models import DBTaskResult

    from haven.runtime.models import Heartbeat

    params = connection.settings_dict
    url = (
        f"postgres://{params['USER']}:{params['PASSWORD'] or ''}@{params['HOST']}:"
        f"{params['PORT'] or 5432}/{params['NAME']}"
    )
    env = _env(HAVEN_DATABASE_URL=url)

    def states() -> dict[int, str]:
        rows = Heartbeat.objects.filter(part="scheduler").values_list("instance", "detail")
        return _states_from_rows(list(rows))

    return env, states, DBTaskResult.objects.count


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(
    request: pytest.FixtureRequest,
) -> tuple[dict[str, str], StateReader, Callable[[], int]]:
    name = "sqlite_database" if request.param == "sqlite" else "postgres_database"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


# Committed rows (transaction=True), so the schedulers and this test see the same database.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("resettable_ledger")
def test_one_scheduler_acts_and_the_standby_takes_over(shared_database, processes):
    env, states, enqueued = shared_database
    first = _haven(env, "scheduler", "--tick", "0.2")
    processes.append(first)
    _wait_for(lambda: states().get(first.pid) == "active", "the first scheduler to be active")
    second = _haven(env, "scheduler", "--tick", "0.2")
    processes.append(second)
    _wait_for(lambda: states().get(second.pid) == "standby", "the second to stand by")
    jobs_enqueued = enqueued()
    assert jobs_enqueued > 0
    time.sleep(1)  # several ticks of both: the standby must not act (nothing new is due)
    assert states()[second.pid] == "standby"
    assert enqueued() == jobs_enqueued  # no job enqueued twice (no worker runs them)

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    _wait_for(lambda: states().get(second.pid) == "active", "the standby to take over")

    second.send_signal(signal.SIGTERM)  # a clean stop
    assert second.wait(timeout=30) == 0
