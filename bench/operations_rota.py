"""Rota resolution and welfare assessment speed (pure functions, no database).

Prints figures and ratios against a baseline measured in the same run: resolving 30 days of a
one-layer daily rota. No database (nothing to create or drop); no goal in the issue, so the
RESULT line is informative.

Run: .venv/bin/python bench/operations_rota.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import result  # noqa: E402

from haven.rota import oncall, welfare  # noqa: E402
from haven.rota.working_time import ruleset_for  # noqa: E402

LONDON = ZoneInfo("Europe/London")
START = dt.datetime(2025, 3, 1, tzinfo=LONDON)


def layer(number: int, priority: int, period: int, members: int, days: tuple[int, ...] = ()):
    return oncall.LayerSpec(
        id=number,
        name=f"L{number}",
        priority=priority,
        period_days=period,
        handover=dt.time(9),
        starts_on=dt.date(2025, 1, 6),
        ends_on=None,
        days_of_week=days,
        member_ids=tuple(range(number * 100, number * 100 + members)),
    )


def timed(function: Callable[[], object], repeat: int = 7) -> float:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="repetitions; the median is kept")
    rounds = parser.parse_args().rounds
    one = [layer(1, 1, 1, 2)]
    three = [layer(1, 1, 7, 6), layer(2, 5, 1, 4, (5, 6)), layer(3, 9, 1, 3, (0, 2, 4))]
    overrides = [
        oncall.OverrideSpec(
            900 + n,
            START + dt.timedelta(hours=13 * n),
            START + dt.timedelta(hours=13 * n + 4),
            n,
        )
        for n in range(50)
    ]
    end30 = START + dt.timedelta(days=30)
    end365 = START + dt.timedelta(days=365)
    baseline = timed(lambda: oncall.resolve(one, [], LONDON, START, end30), rounds)
    cases = {
        "30 days, 1 layer (baseline)": baseline,
        "30 days, 3 layers + 50 overrides": timed(
            lambda: oncall.resolve(three, overrides, LONDON, START, end30), rounds
        ),
        "365 days, 3 layers + 50 overrides": timed(
            lambda: oncall.resolve(three, overrides, LONDON, START, end365), rounds
        ),
    }
    print(f"cores: {os.cpu_count()}")
    for name, seconds in cases.items():
        print(f"resolve {name:38s} {seconds * 1000:8.2f} ms   x{seconds / baseline:6.1f}")
    lookups = 2000
    instants = [START + dt.timedelta(minutes=37 * n) for n in range(lookups)]
    seconds = timed(lambda: [oncall.who_at(three, overrides, LONDON, t) for t in instants], 3)
    print(
        f"who is on call (3 layers, 50 overrides): {seconds / lookups * 1e6:8.1f} µs per lookup"
        f"   x{seconds / lookups / baseline:6.2f} of baseline"
    )
    rules = ruleset_for(dt.date(2025, 6, 1))
    as_of = dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC)
    work = [
        welfare.Period(
            as_of - dt.timedelta(days=d, hours=10), as_of - dt.timedelta(days=d), 30 if d % 4 else 0
        )
        for d in range(1, 17 * 7)
        if d % 7 not in (0, 6)
    ]
    deployments = [
        welfare.Period(as_of + dt.timedelta(days=d), as_of + dt.timedelta(days=d + 4))
        for d in range(0, 60, 5)
    ]

    def assess() -> object:
        return welfare.assess(
            work=work,
            deployments=deployments,
            on_call_hours=120,
            last_psych_assessment=dt.date(2024, 9, 1),
            as_of=as_of,
            rules=rules,
            zone=LONDON,
        )

    seconds = timed(assess, rounds)
    print(
        f"welfare assessment, 17 weeks of shifts ({len(work)} periods): {seconds * 1000:6.2f} ms"
        f" per person; 200 people ≈ {seconds * 200:5.2f} s   x{seconds / baseline:6.1f}"
    )

    year = cases["365 days, 3 layers + 50 overrides"]
    result(
        "operations_rota",
        "none set (informative)",
        f"resolve 365 days, 3 layers + 50 overrides {year * 1000:.2f} ms",
        f"{baseline * 1000:.2f} ms (30 days, 1 layer, same run)",
        year / baseline,
        None,
    )


if __name__ == "__main__":
    main()
