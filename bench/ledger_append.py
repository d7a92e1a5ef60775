"""Benchmark: the audit ledger's write cost.

"ledger append cost": one protected-record change (User.first_name, saved in its own
transaction) recorded (a) not at all, (b) with Haven's ``ledger.record`` in the same
transaction, (c) with django-auditlog (the library a Django team would otherwise use),
registered on the model. Prints microseconds per change and the ratios b/a, c/a, b/c; the goal
is b/c <= 1.

"writer scaling" (issue 22 item 2): 1, 2 and 4 writer processes, each appending one
consultation per transaction (as a logged read does) for --seconds, in three modes run in the
same database one after the other:

  haven        ``ledger.record`` as Haven writes (no lock that writers wait for)
  global lock  the same, holding the ledger's advisory lock through commit (every append before
               issue 22; today only entries that carry access-control state)
  bypassed     a bare INSERT of a pre-hashed entry in its own transaction (no record(), no
               lock): the floor

and prints appends/s; goal: haven >= 2,000/s with 4 writers on PostgreSQL. SQLite has one
writer at a time, so it runs 1 writer only.

Runs on a temporary SQLite file, or on PostgreSQL with --postgres URL (database --database,
default haven_bench_ledger, created and dropped). The verify speed of the ledger is
bench/audit_verify.py.

Run:  .venv/bin/python bench/ledger_append.py [--changes 5000] [--rounds 2] [--seconds 3]
      [--postgres URL] [--database NAME]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from benchkit import add_database_options, bench_database, result  # noqa: E402


def configure(database_url: str) -> None:
    """Point Django at ``database_url`` and set it up (must run before importing models)."""
    os.environ["HAVEN_DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    sys.path[:0] = [str(BENCH_DIR), str(BENCH_DIR.parent)]  # bench_settings; tests apps
    import django

    django.setup()


# --- append cost ---------------------------------------------------------------------------


def append_cost(changes: int, rounds: int) -> dict[str, float]:
    from auditlog.context import set_actor
    from auditlog.models import LogEntry
    from auditlog.registry import auditlog
    from django.db import connection, transaction

    from haven.accounts.models import User
    from haven.audit import ledger
    from haven.audit.models import LedgerEntry
    from haven.concurrency.transactions import service_transaction

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
            # As a service writes: the ledger refuses entries outside a service transaction.
            with service_transaction():
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
    print(f"  b/a = {b / a:.2f}   c/a = {c / a:.2f}   b/c = {b / c:.2f}")
    print(f"  ledger overhead (b-a) {b - a:.1f} us vs auditlog overhead (c-a) {c - a:.1f} us")
    result(
        f"ledger_append ({connection.vendor})",
        "haven ledger <= django-auditlog per change (b/c <= 1)",
        f"{b:.1f} us/change",
        f"{c:.1f} us/change (auditlog, same run; bare update {a:.1f} us)",
        b / c,
        b <= c,
    )
    return per_change


# --- writer scaling ------------------------------------------------------------------------

GOAL_APPENDS = 2000
WRITER_COUNTS = (1, 2, 4)
MODES = ("haven", "global lock", "bypassed")


def _append_loop(
    mode: str, seconds: float, start: Any, counts: Any, slot: int, no_sync: bool
) -> None:
    """One writer process: append until ``seconds`` after the shared start, count commits."""
    from django.db import connection, transaction
    from django.utils import timezone

    from haven.access.purposes import Purpose
    from haven.accounts.models import User
    from haven.audit import ledger
    from haven.concurrency.transactions import service_transaction

    user = User.objects.get(username="bench-officer")
    purpose = next(iter(Purpose.values))
    connection.ensure_connection()
    if no_sync:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
    template = ledger.new_entry(
        actor=user,
        action="consultation",
        object_type="witness",
        object_id=slot,
        recorded_at=timezone.now(),
        fields=["address"],
        justification=purpose,
    )
    start.wait()
    deadline = time.perf_counter() + seconds
    done = 0
    while time.perf_counter() < deadline:
        if mode == "bypassed":
            with transaction.atomic():
                template.pk = None
                template.save(force_insert=True)
        else:
            with service_transaction():
                ledger.prepare_append(ordered=mode == "global lock")
                ledger.record(
                    actor=user,
                    action="consultation",
                    object_type="witness",
                    object_id=done,
                    fields=["address"],
                    justification=purpose,
                    case_id=f"CASE-{slot}",
                )
        done += 1
    counts[slot] = done
    connection.close()


def appends_per_second(mode: str, writers: int, seconds: float, no_sync: bool) -> float:
    from django.db import connections

    connections.close_all()  # children open their own connections
    context = multiprocessing.get_context("fork")
    start = context.Barrier(writers + 1)
    counts = context.Array("q", writers)
    processes = [
        context.Process(target=_append_loop, args=(mode, seconds, start, counts, slot, no_sync))
        for slot in range(writers)
    ]
    for process in processes:
        process.start()
    start.wait()
    for process in processes:
        process.join()
        assert process.exitcode == 0, f"a {mode} writer failed"
    return sum(counts) / seconds


def writer_scaling(seconds: float, no_sync: bool) -> None:
    from django.db import connection

    vendor = connection.vendor
    counts = WRITER_COUNTS if vendor == "postgresql" else (1,)
    rates: dict[tuple[str, int], float] = {}
    for mode in MODES:  # warm up: server caches, plans, page allocation (not counted)
        appends_per_second(mode, 1, min(seconds, 1.0), no_sync)
    sync = ", synchronous_commit off" if no_sync else ""
    print(f"\nledger appends/s on {vendor} ({seconds:g} s per figure{sync}, machine shared)")
    print(f"  {'writers':<8}" + "".join(f"{mode:>14}" for mode in MODES))
    for writers in counts:
        for mode in MODES:
            rates[mode, writers] = appends_per_second(mode, writers, seconds, no_sync)
        print(f"  {writers:<8}" + "".join(f"{rates[mode, writers]:>14,.0f}" for mode in MODES))
    top = counts[-1]
    haven, bypassed = rates["haven", top], rates["bypassed", top]
    if top > 1:
        print(
            f"  haven {top} writers / 1 writer = {haven / rates['haven', 1]:.2f}x "
            f"(global lock {rates['global lock', top] / rates['global lock', 1]:.2f}x, "
            f"bypassed {bypassed / rates['bypassed', 1]:.2f}x)"
        )
    result(
        f"ledger_append writers ({vendor}{sync}, {top} writer{'s' if top > 1 else ''})",
        f">= {GOAL_APPENDS:,} appends/s with 4 writers on PostgreSQL",
        f"{haven:,.0f} appends/s (1 writer {rates['haven', 1]:,.0f}/s)",
        f"{bypassed:,.0f} appends/s bare INSERT, {rates['global lock', top]:,.0f}/s global lock",
        haven / bypassed,
        haven >= GOAL_APPENDS if vendor == "postgresql" else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=3.0, help="per writer-scaling figure")
    parser.add_argument(
        "--no-sync",
        action="store_true",
        help="writers commit with synchronous_commit off (PostgreSQL): measures locking and "
        "CPU, not the disk's flush time (which dominates on a shared disk)",
    )
    parser.add_argument("--skip-cost", action="store_true", help="only the writer scaling")
    add_database_options(parser, "haven_bench_ledger")
    arguments = parser.parse_args()
    with bench_database(arguments, "ledger") as url:
        configure(url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0, skip_checks=True)
        if not arguments.skip_cost:
            append_cost(arguments.changes, arguments.rounds)
        else:
            from haven.accounts.models import User

            User.objects.create(username="bench-officer", first_name="Start")
        writer_scaling(arguments.seconds, arguments.no_sync)


if __name__ == "__main__":
    main()
