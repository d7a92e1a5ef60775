"""Oversight statistics at scale: time to build the published tables (with suppression) and to
compute overdue flags, against a baseline in the same run (a plain COUNT GROUP BY).

    .venv/bin/python bench/oversight_statistics.py [--complaints 5000] [--workforce 20000]
        [--postgres URL] [--database NAME]

Uses a throwaway database (bench_settings): a temporary SQLite file, or --database (default
haven_bench_oversight) created and dropped on the --postgres server. No goal in the issue, so
the RESULT line is informative; never asserts on time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")

from benchkit import add_database_options, bench_database, result  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=5000)
    parser.add_argument("--workforce", type=int, default=20000)
    add_database_options(parser, "haven_bench_oversight")
    args = parser.parse_args()
    with bench_database(args, "oversight"):
        measure(args)


def measure(args: argparse.Namespace) -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    call_command("migrate", verbosity=0)
    import random
    from datetime import date, timedelta

    from haven.oversight import characteristics, statistics
    from haven.oversight.demo import create_demo_oversight
    from haven.oversight.imports import pseudonym
    from haven.oversight.models import Complaint, WorkforceRecord

    rng = random.Random(1)
    started = time.perf_counter()
    create_demo_oversight(args.complaints)
    created = time.perf_counter() - started
    WorkforceRecord.objects.all().delete()
    WorkforceRecord.objects.bulk_create(
        WorkforceRecord(
            pseudonym=pseudonym(f"B{n}"),
            snapshot_on=date(2025, 3, 31),
            force="Bench",
            grade=rng.choice(characteristics.GRADE_CODES),
            **{c.code: rng.choice(c.codes) for c in characteristics.CHARACTERISTICS},
        )
        for n in range(args.workforce)
    )

    def timed(label: str, fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        return best

    baseline = timed(
        "baseline",
        lambda: list(Complaint.objects.values("category", "outcome").annotate(n=Count("pk"))),
    )
    print(
        f"database: {connection.vendor}; complaints {args.complaints} "
        f"(demo build {created:.1f}s), workforce {args.workforce}"
    )
    print(f"baseline COUNT GROUP BY category, outcome: {baseline * 1000:.1f} ms")
    for code in ["timeliness", "outcomes", "reviews", "overdue", "workforce-sex", "workforce-race"]:
        elapsed = timed(code, lambda code=code: statistics.build(code))
        print(f"{code:<16} {elapsed * 1000:8.1f} ms   x{elapsed / baseline:6.1f} baseline")
    all_tables = timed("all", lambda: [statistics.build(c) for c in statistics.TABLES], 1)
    print(f"all {len(statistics.TABLES)} tables   {all_tables * 1000:8.1f} ms")
    _ = timedelta
    result(
        "oversight_statistics",
        "none set (informative)",
        f"all {len(statistics.TABLES)} tables {all_tables * 1000:.1f} ms",
        f"{baseline * 1000:.1f} ms (COUNT GROUP BY, same run)",
        all_tables / baseline,
        None,
    )


if __name__ == "__main__":
    main()
