"""Benchmark: `haven audit verify` (the real command) against raw SHA-256 over the same bytes.

Loads N ledger entries shaped like real ones (one in five with a sealed free-text reason,
details on some, distinct times and objects) with their stored canonical bytes, signs a
checkpoint over all of them with `haven audit checkpoint`, then times, in rounds:

  verify    call_command("audit", "verify", "--quiet"): the command as `haven audit verify`
            runs it (in this process, so Django's start-up is not counted)
  columns   the same verification re-encoding every entry from its columns (what
            `haven audit verify --from-columns` does, and SQLite and older entries)
  raw       hashlib.sha256 of every entry's canonical bytes, already in memory: the floor

and prints throughput and the ratio raw time / verify time (goal >= 0.25), and the time for
1M entries (goal < 10 s on PostgreSQL; measured directly with --entries 1000000, else scaled
linearly from N, which the line says).

Run:  .venv/bin/python bench/audit_verify.py [--entries 200000] [--rounds 2]
      [--postgres URL] [--database NAME]
SQLite on a temporary file by default; PostgreSQL with --postgres URL (database --database,
default haven_bench_audit_verify, created and dropped).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src"), str(ROOT / "bench")]

from benchkit import add_database_options, bench_database, result, vendor  # noqa: E402

GOAL_RATIO = 0.25
GOAL_MILLION_S = 10.0
BATCH = 5000
COLUMNS = (
    "recorded_at",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "case_id",
    "fields",
    "recipients",
    "justification",
    "details",
    "leaf_hash",
    "canonical",
)


def configure(url: str) -> None:
    os.environ["HAVEN_DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "haven.settings_test"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def templates(count: int) -> list[object]:
    """Entries made by ledger.new_entry (sealing included), reused with new times and ids."""
    from haven.access.purposes import Purpose
    from haven.accounts.models import User
    from haven.audit import ledger

    officers = [
        User.objects.create(username=f"bench-officer-{n:03d}", first_name="Bench")
        for n in range(20)
    ]
    purposes = list(Purpose.values)
    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    made = []
    for number in range(count):
        made.append(
            ledger.new_entry(
                actor=officers[number % len(officers)],
                action=("consultation", "alteration", "disclosure")[number % 3],
                object_type="witness",
                object_id=number,
                recorded_at=start,
                fields=["address", "new_identity"] if number % 3 else ["name"],
                recipients=["IOPC"] if number % 50 == 0 else [],
                justification=(
                    f"case review after call {number:05d} from the witness care unit"
                    if number % 5 == 0
                    else purposes[number % len(purposes)]
                ),
                case_id=f"CASE-{number % 997:05d}",
                details={"asset": f"TRK-{number:05d}"} if number % 7 == 0 else {},
            )
        )
    return made


def rows(count: int, pool: list[object]) -> Iterator[tuple[object, ...]]:
    """COLUMNS values for ``count`` distinct entries, canonical bytes and leaf hash included."""
    from haven.audit import ledger

    start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
    encode = ledger.canonical_bytes_from_values
    for number in range(count):
        entry = pool[number % len(pool)]
        values = (
            start + datetime.timedelta(milliseconds=37 * number),
            entry.actor_id,
            entry.actor_username,
            entry.action,
            entry.object_type,
            str(number),
            entry.case_id,
            entry.fields,
            entry.recipients,
            entry.justification,
            entry.details,
        )
        canonical = encode(*values)
        yield (*values, ledger.leaf_hash_hex(canonical), canonical)


def load(count: int) -> None:
    from django.db import connection, transaction

    # Before the loading transaction: sealing reserves encryptions on a connection of its own,
    # which would wait for a data key this transaction had not committed yet.
    pool = templates(min(count, 2000))
    if connection.vendor == "postgresql":
        load_by_copy(count, pool)
        return
    from haven.audit.models import LedgerEntry

    batch: list[LedgerEntry] = []
    with transaction.atomic():
        for values in rows(count, pool):
            batch.append(LedgerEntry(**dict(zip(COLUMNS, values, strict=True))))
            if len(batch) == BATCH:
                LedgerEntry.objects.bulk_create(batch)
                batch = []
        LedgerEntry.objects.bulk_create(batch)


def load_by_copy(count: int, pool: list[object]) -> None:
    """PostgreSQL COPY: a million rows in well under a minute (INSERTs take several)."""
    from django.db import connection, transaction

    json_columns = {COLUMNS.index(name) for name in ("fields", "recipients", "details")}
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        statement = f"COPY audit_ledgerentry ({', '.join(COLUMNS)}) FROM STDIN"
        with raw.copy(statement) as copy:
            for values in rows(count, pool):
                copy.write_row(
                    [
                        json.dumps(value) if index in json_columns else value
                        for index, value in enumerate(values)
                    ]
                )
    # What autovacuum does to a ledger in service (an insert-only table is vacuumed after
    # every 20 % growth): statistics, and the visibility map that lets the verify count and
    # split the entries by index alone (~1 s at 1M entries without it, ~0.2 s with).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_ledgerentry")


def canonical_bytes_in_memory() -> list[bytes]:
    from haven.audit.models import LedgerEntry

    return [
        bytes(canonical)
        for canonical in LedgerEntry.objects.order_by("id")
        .values_list("canonical", flat=True)
        .iterator(chunk_size=BATCH)
    ]


def measure(options: argparse.Namespace, database: str) -> None:
    from django.conf import settings
    from django.core.management import call_command

    from haven.audit import signing, verification

    count = options.entries
    began = time.perf_counter()
    load(count)
    call_command("audit", "init-key", "--if-missing", stdout=io.StringIO())
    # Pin the new key, as an operator does with HAVEN_LEDGER_TRUSTED_KEYS.
    settings.LEDGER_TRUSTED_KEYS = [signing.public_key_pem()]
    call_command("audit", "checkpoint", "--quiet", stdout=io.StringIO())
    canonicals = canonical_bytes_in_memory()
    assert len(canonicals) == count
    megabytes = sum(map(len, canonicals)) / 1e6
    print(
        f"{database}: {count:,} entries, {megabytes:.1f} MB canonical "
        f"({megabytes * 1e6 / count:.0f} B/entry), loaded and signed in "
        f"{time.perf_counter() - began:.0f} s"
    )
    keys = verification.public_keys_by_id(signing.trusted_public_keys())
    checkpoints = verification.stored_checkpoints()
    last_id = verification.snapshot_last_id()
    if database == "PostgreSQL":  # the timed command must take the fast pass, not fall back
        fast = verification._fast_verify(keys, checkpoints, last_id)
        assert fast is not None and fast.entries == count, "the fast pass declined"
    out = io.StringIO()

    def verify() -> None:
        call_command("audit", "verify", "--quiet", "--max-unsigned-age", "1e12", stdout=out)

    def columns() -> None:
        verification._verify_rows(keys, checkpoints, None, None, last_id)

    def raw() -> None:
        sha256 = hashlib.sha256
        for canonical in canonicals:
            sha256(canonical).digest()

    candidates: dict[str, Callable[[], None]] = {"verify": verify, "columns": columns, "raw": raw}
    best = dict.fromkeys(candidates, float("inf"))
    for _ in range(options.rounds):
        for label, function in candidates.items():
            start = time.perf_counter()
            function()
            best[label] = min(best[label], time.perf_counter() - start)
    assert out.getvalue().startswith(f"verified {count} entries"), out.getvalue()
    for label, seconds in best.items():
        print(
            f"  {label:<8} {seconds:7.2f} s {count / seconds:12,.0f} entries/s "
            f"{megabytes / seconds:8.1f} MB/s"
        )
    ratio = best["raw"] / best["verify"]
    print(f"  verify is {best['columns'] / best['verify']:.1f}x faster than the columns path")
    result(
        f"audit_verify ({database}, {count:,} entries)",
        f"verify >= {GOAL_RATIO:.0%} of raw SHA-256 throughput",
        f"{count / best['verify']:,.0f} entries/s",
        f"{count / best['raw']:,.0f} entries/s (raw SHA-256 of the same bytes, same run)",
        ratio,
        ratio >= GOAL_RATIO,
    )
    million = best["verify"] * 1_000_000 / count
    scaled = "" if count == 1_000_000 else f", scaled from {count:,}"
    result(
        f"audit_verify 1M entries ({database}{scaled})",
        f"1M entries < {GOAL_MILLION_S:.0f} s on PostgreSQL",
        f"{million:.1f} s",
        f"{best['columns'] * 1_000_000 / count:.1f} s (re-encoding from columns, same run)",
        million / (best["columns"] * 1_000_000 / count),
        million < GOAL_MILLION_S if database == "PostgreSQL" else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2, help="the best round is kept")
    add_database_options(parser, "haven_bench_audit_verify")
    options = parser.parse_args()
    with bench_database(options, "audit-verify") as url:
        configure(url)
        measure(options, vendor(url))


if __name__ == "__main__":
    main()
