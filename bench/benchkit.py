"""Plumbing shared by the benchmarks: which database, creating and dropping it, the result line.

Every bench takes ``--postgres URL`` (a PostgreSQL server; the database part of the URL is
ignored) and ``--database NAME`` (the database it creates there and drops when done, so two
people never share one), else it runs on a temporary SQLite file it deletes. Every bench ends
with one ``RESULT`` line per goal, in one format, so figures can be collected with grep:

    RESULT <bench> | goal <goal> | figure <x> | baseline <y> (<what>, same run) | ratio <r> | met
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def add_database_options(parser: argparse.ArgumentParser, default_name: str) -> None:
    """--postgres URL and --database NAME, the same in every bench."""
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default="",
        help="PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres (else SQLite)",
    )
    parser.add_argument(
        "--database",
        metavar="NAME",
        default=default_name,
        help=f"PostgreSQL database to create and drop (default {default_name})",
    )


def server_url(postgres: str, database: str) -> str:
    """``postgres`` with its database part replaced by ``database``."""
    return postgres.rstrip("/").rpartition("/")[0] + f"/{database}"


def pg_admin(postgres: str, statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the server's maintenance database."""
    import psycopg

    with psycopg.connect(server_url(postgres, "postgres"), autocommit=True) as conn:
        conn.execute(statement)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def drop_database(postgres: str, database: str) -> None:
    pg_admin(postgres, f"DROP DATABASE IF EXISTS {_quoted(database)} WITH (FORCE)")


@contextmanager
def bench_database(args: argparse.Namespace, prefix: str, keep: bool = False) -> Iterator[str]:
    """Yield a database URL: ``args.database`` created afresh on ``args.postgres`` or a
    temporary SQLite file; HAVEN_DATA_DIR points at a temporary directory. Both are removed
    on the way out, also after an error or Ctrl-C, unless ``keep`` (a SQLite run kept for a
    later ``--reuse``)."""
    data_dir = tempfile.mkdtemp(prefix=f"haven-bench-{prefix}-")
    os.environ["HAVEN_DATA_DIR"] = data_dir
    if args.postgres:
        drop_database(args.postgres, args.database)
        pg_admin(args.postgres, f"CREATE DATABASE {_quoted(args.database)}")
        url = server_url(args.postgres, args.database)
    else:
        url = f"sqlite:///{data_dir}/bench.sqlite3"
    os.environ["HAVEN_DATABASE_URL"] = url
    try:
        yield url
    finally:
        close_django_connections()
        if args.postgres:
            drop_database(args.postgres, args.database)
        if keep and not args.postgres:
            print(f"kept {data_dir} (run again with --reuse {data_dir}; delete it when done)")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def close_django_connections() -> None:
    try:
        from django.db import connections
    except ImportError:  # pragma: no cover - Django is always installed with Haven
        return
    try:
        connections.close_all()
    except Exception:  # noqa: BLE001, S110 - Django may never have been set up; nothing to close
        pass


def vendor(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgres") else "SQLite"


def result(
    bench: str, goal: str, figure: str, baseline: str, ratio: float, met: bool | None
) -> None:
    """The one-line verdict: goal, figure, same-run baseline and ratio (``met`` None: no goal
    on this figure, informative only)."""
    verdict = "info" if met is None else ("met" if met else "NOT met")
    print(
        f"RESULT {bench} | goal {goal} | figure {figure} | baseline {baseline} | "
        f"ratio {ratio:.3g}x | {verdict}",
        flush=True,
    )


TICK = os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU-seconds the whole machine has been busy (not idle or waiting on I/O), all cores."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / TICK
