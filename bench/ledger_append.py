"""Benchmark: the audit ledger's write cost.

"ledger append cost": one protected-record change (User.first_name, saved in its own
transaction) recorded (a) not at all, (b) with Haven's ``ledger.record`` in the same
transaction, (c) with django-auditlog (the library a Django team would otherwise use),
registered on the model. Prints microseconds per change and the ratios b/a, c/a, b/c; the goal
is b/c <= 1. Runs on a temporary SQLite file, or on PostgreSQL with --postgres URL (database
--database, default haven_bench_ledger, created and dropped). The verify speed of the ledger is
bench/audit_verify.py.

Run:  .venv/bin/python bench/ledger_append.py [--changes 5000] [--rounds 2] [--postgres URL]
      [--database NAME]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=2)
    add_database_options(parser, "haven_bench_ledger")
    arguments = parser.parse_args()
    with bench_database(arguments, "ledger") as url:
        configure(url)
        from django.core.management import call_command

        call_command("migrate", verbosity=0, skip_checks=True)
        append_cost(arguments.changes, arguments.rounds)


if __name__ == "__main__":
    main()
