"""Benchmark: the audit ledger's write cost and the Django-side verify speed.

1. "ledger append cost": one protected-record change (User.first_name, saved in its own
   transaction) recorded (a) not at all, (b) with Haven's ``ledger.record`` in the same
   transaction, (c) with django-auditlog (the library a Django team would otherwise use),
   registered on the model.  Prints microseconds per change and the ratios b/a, c/a, b/c.
   Runs on a temporary SQLite file, and also on PostgreSQL when HAVEN_DATABASE_URL is set
   (database ``haven_bench`` on that server, dropped and recreated).
2. "ledger verify": 1,000,000 synthetic ledger rows bulk-inserted into SQLite, two signed
   checkpoints, then ``haven.audit.verification.verify_ledger`` (what `haven audit verify` runs)
   vs a bare ``hashlib.sha256`` over the same canonical bytes held in memory.

Run:  .venv/bin/python bench/ledger_append.py [--changes 5000] [--entries 1000000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PG_BENCH_DB = "haven_bench"


def configure(database_url: str) -> None:
    """Point Django at ``database_url`` and set it up (must run before importing models)."""
    os.environ["HAVEN_DATABASE_URL"] = database_url
    os.environ.setdefault("HAVEN_DATA_DIR", tempfile.mkdtemp(prefix="haven-bench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    sys.path[:0] = [str(BENCH_DIR), str(BENCH_DIR.parent)]  # bench_settings; tests apps
    import django

    django.setup()


def recreate_pg_database(url: str, create: bool = True) -> str:
    """Drop (and create) haven_bench on the server of ``url``; return its URL."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    params = {
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        "dbname": "postgres",
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB}")
        if create:
            conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    base, _, _ = url.rpartition("/")
    return f"{base}/{PG_BENCH_DB}"


# --- 1. append cost -------------------------------------------------------------------------


def append_cost(changes: int, rounds: int) -> dict[str, float]:
    from auditlog.context import set_actor
    from auditlog.models import LogEntry
    from auditlog.registry import auditlog
    from django.db import connection, transaction

    from haven.accounts.models import User
    from haven.audit import ledger
    from haven.audit.models import LedgerEntry

    user = User.objects.create(username="bench-officer", first_name="Start")
    counter = iter(range(10**9))

    def change() -> None:
        user.first_name = f"Name {next(counter)}"
        user.save(update_fields=["first_name"])

    def baseline() -> None:
        for _ in range(changes):
            with transaction.atomic():
                change()

    def haven_ledger() -> None:
        for _ in range(changes):
            with transaction.atomic():
                change()
                ledger.record(
                    actor=user,
                    action="alteration",
                    object_type="user",
                    object_id=user.pk,
                    fields=["first_name"],
                    justification="bench: name correction",
                )

    def with_auditlog() -> None:
        auditlog.register(User)
        try:
            with set_actor(user):
                for _ in range(changes):
                    with transaction.atomic():
                        change()
        finally:
            auditlog.unregister(User)

    variants: dict[str, Callable[[], None]] = {
        "a update only": baseline,
        "b + haven ledger": haven_ledger,
        "c + auditlog": with_auditlog,
    }
    best = {label: float("inf") for label in variants}
    baseline()  # warm up connection, caches, statement preparation
    for _ in range(rounds):
        for label, function in variants.items():
            start = time.perf_counter()
            function()
            best[label] = min(best[label], time.perf_counter() - start)
    expected = changes * rounds
    assert LedgerEntry.objects.count() == expected, "every haven change has its entry"
    assert LogEntry.objects.count() >= expected, "every auditlog change has its entry"
    per_change = {label: seconds / changes * 1e6 for label, seconds in best.items()}
    print(f"\nledger append cost on {connection.vendor} ({changes:,} changes, best of {rounds})")
    for label, micros in per_change.items():
        print(f"  {label:<18} {micros:8.1f} us/change")
    a, b, c = per_change.values()
    verdict = "meets" if b <= c else "MISSES"
    print(f"  b/a = {b / a:.2f}   c/a = {c / a:.2f}   b/c = {b / c:.2f} ({verdict} goal b/c <= 1)")
    print(f"  ledger overhead (b-a) {b - a:.1f} us vs auditlog overhead (c-a) {c - a:.1f} us")
    return per_change


# --- 2. verify speed ------------------------------------------------------------------------


def synthetic_rows(count: int) -> tuple[list[object], list[bytes]]:
    """LedgerEntry objects (leaf hashes filled in) and their canonical bytes."""
    import random

    from haven.audit import ledger
    from haven.audit.models import LedgerEntry

    rng = random.Random(6962)
    actions = ["consultation", "alteration", "disclosure", "collection", "combination"]
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    rows: list[object] = []
    canonicals: list[bytes] = []
    for number in range(count):
        officer = rng.randrange(1, 500)
        entry = LedgerEntry(
            recorded_at=start + datetime.timedelta(milliseconds=number * 37),
            actor_id=officer,
            actor_username=f"officer-{officer:05d}",
            action=rng.choice(actions),
            object_type="witness",
            object_id=str(rng.randrange(10**7)),
            case_id=f"CASE-{rng.randrange(10**5):05d}",
            fields=["address", "new_identity"] if number % 3 else ["name"],
            recipients=[] if number % 50 else ["IOPC"],
            justification=f"case review {rng.getrandbits(32):08x}",
            details={} if number % 7 else {"via": "api"},
        )
        canonical = ledger.canonical_bytes(entry)
        entry.leaf_hash = ledger.leaf_hash_hex(canonical)
        rows.append(entry)
        canonicals.append(canonical)
    return rows, canonicals


def verify_speed(count: int, rounds: int) -> float:
    import base64

    from django.db import connection, transaction

    from haven.audit import verification
    from haven.audit.checkpoint import generate_signing_key, key_id_for, sign_checkpoint
    from haven.audit.merkle import root_from_entries
    from haven.audit.models import Checkpoint, LedgerEntry

    assert connection.vendor == "sqlite"
    started = time.perf_counter()
    rows, canonicals = synthetic_rows(count)
    with transaction.atomic():
        LedgerEntry.objects.bulk_create(rows, batch_size=2000)  # type: ignore[arg-type]
    del rows
    key = generate_signing_key()
    for size in (count // 2, count):
        signed = sign_checkpoint(
            key, size, root_from_entries(canonicals[:size]), "2025-02-01T00:00:00Z"
        )
        Checkpoint.objects.create(
            tree_size=size,
            root_hash=signed.root_hash.hex(),
            signed_at=signed.timestamp,
            key_id=signed.key_id,
            signature=base64.b64encode(signed.signature).decode(),
        )
    megabytes = sum(map(len, canonicals)) / 1e6
    print(
        f"\nledger verify on sqlite: {count:,} rows, {megabytes:.1f} MB canonical "
        f"({megabytes * 1e6 / count:.0f} B/entry), setup {time.perf_counter() - started:.1f} s"
    )
    keys = {key_id_for(key.public_key()): key.public_key()}

    def full_verify() -> object:
        report = verification.verify_ledger(keys)
        assert report.entries == count and report.checkpoints == 2
        return report

    def orm_fetch() -> object:  # Django's values_list over the same columns, no hashing
        rows = LedgerEntry.objects.order_by("id").values_list(*verification.ROW_FIELDS)
        return sum(1 for _ in rows.iterator(chunk_size=5000))

    def db_fetch() -> object:  # the floor for any DB-side verify: fetch the rows, nothing else
        sql, params = (
            LedgerEntry.objects.order_by("id").values_list(*verification.ROW_FIELDS).query
        ).sql_with_params()
        count = 0
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(5000):
                count += len(rows)
        return count

    def raw_sha256() -> object:
        sha256 = hashlib.sha256
        return [sha256(entry).digest() for entry in canonicals]

    def merkle_only() -> object:
        return root_from_entries(canonicals)

    candidates = {
        "raw sha256": raw_sha256,
        "merkle (in memory)": merkle_only,
        "db fetch (raw)": db_fetch,
        "orm values_list": orm_fetch,
        "verify_ledger": full_verify,
    }
    best = {label: float("inf") for label in candidates}
    for _ in range(rounds):
        for label, function in candidates.items():
            start = time.perf_counter()
            function()
            best[label] = min(best[label], time.perf_counter() - start)
    for label, seconds in best.items():
        print(
            f"  {label:<19} {seconds:7.3f} s {count / seconds:12,.0f} entries/s "
            f"{megabytes / seconds:8.1f} MB/s"
        )
    ratio = best["raw sha256"] / best["verify_ledger"]
    print(f"  ratio verify_ledger/raw throughput = {ratio:.3f} (goal 0.5)")
    merkle_ratio = best["raw sha256"] / best["merkle (in memory)"]
    print(f"  ratio merkle/raw throughput        = {merkle_ratio:.3f}")
    floor = best["raw sha256"] / best["db fetch (raw)"]
    print(f"  ratio db-fetch/raw throughput      = {floor:.3f} (ceiling for any DB-side verify)")
    return ratio


def use_database(url: str) -> None:
    """Re-point the default connection at ``url`` (any backend) and migrate it."""
    import dj_database_url
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    config = dj_database_url.parse(url)
    if config["ENGINE"].endswith("sqlite3"):
        config["OPTIONS"] = settings.DATABASES["default"].get("OPTIONS", {})
    connections.close_all()
    connections.settings["default"] = connections.configure_settings({"default": config})["default"]
    del connections["default"]  # the next use opens a connection with the new backend
    call_command("migrate", verbosity=0, skip_checks=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=5000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-append", action="store_true")
    parser.add_argument("--skip-verify", action="store_true")
    arguments = parser.parse_args()
    pg_url = os.environ.get("HAVEN_DATABASE_URL", "")
    workdir = Path(tempfile.mkdtemp(prefix="haven-bench-"))
    configure(f"sqlite:///{workdir / 'append.sqlite3'}")
    use_database(f"sqlite:///{workdir / 'append.sqlite3'}")
    if not arguments.skip_append:
        append_cost(arguments.changes, arguments.rounds)
        if pg_url.startswith("postgres"):
            use_database(recreate_pg_database(pg_url))
            append_cost(arguments.changes, arguments.rounds)
            use_database(f"sqlite:///{workdir / 'append.sqlite3'}")
            recreate_pg_database(pg_url, create=False)  # leave the server as we found it
    if not arguments.skip_verify:
        use_database(f"sqlite:///{workdir / 'verify.sqlite3'}")
        verify_speed(arguments.entries, arguments.rounds)


if __name__ == "__main__":
    main()
