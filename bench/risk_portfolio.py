"""Benchmark: the manager's risk portfolio (/risk/) over a large caseload.

Builds N cases (default 100,000), each with 3 assessment versions (2 superseded, 1 current;
about 10% of reviews overdue), all on one manager's team, with bulk inserts. A second manager
whose team holds only 1,000 of those cases is the baseline measured in the same run. Each
request is a full Django request through the test client (session, middleware, selectors, the
ledger consultation entry, template), timed end to end, and its queries counted.

Prints p50/p95 latency and the query count per request for several portfolio pages, and the
ratio of the large portfolio to the baseline. A constant query count is the no-N+1 check.

Run:  .venv/bin/python bench/risk_portfolio.py [--cases 100000] [--requests 30]
      [--postgres URL] [--database NAME] [--keep | --reuse DIR]
SQLite by default (temporary file, deleted unless --keep); PostgreSQL with --postgres URL (the
database --database, default haven_bench_risk, on that server is created and dropped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from benchkit import add_database_options, bench_database, result  # noqa: E402


def configure(url: str) -> str:
    os.environ["HAVEN_DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "haven.settings_test"
    sys.path[:0] = [str(BENCH_DIR.parent)]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url.split(":")[0]


def build(n_cases: int, baseline_cases: int) -> tuple[object, object]:
    from django.db import transaction
    from django.utils import timezone
    from tests.factories import UserFactory

    from haven.access.models import TeamMembership
    from haven.accounts.roles import Role
    from haven.cases.models import Case
    from haven.demo.cases import refresh_statistics
    from haven.risk import config
    from haven.risk.models import RiskAssessment, Status

    author = UserFactory(username="bench-officer", roles=[Role.PROTECTION_OFFICER])
    big = UserFactory(username="bench-manager", roles=[Role.PROTECTION_MANAGER])
    small = UserFactory(username="bench-baseline", roles=[Role.PROTECTION_MANAGER])
    scheme = config.current_scheme()
    today = timezone.localdate()
    now = timezone.now()
    batch = 5000
    started = time.perf_counter()
    for start in range(0, n_cases, batch):
        with transaction.atomic():
            cases = [
                Case(
                    reference=f"BENCH-{i:07d}",
                    subject_name=f"Bench Person {i}",
                    classification=2,
                    status="active",
                )
                for i in range(start, min(start + batch, n_cases))
            ]
            Case.objects.bulk_create(cases, batch_size=1000)
            members = [
                TeamMembership(object_type="case", object_id=c.pk, user=big, team_role="manager")
                for c in cases
            ]
            members += [
                TeamMembership(object_type="case", object_id=c.pk, user=small, team_role="manager")
                for c in cases
                if int(c.reference[6:]) < baseline_cases
            ]
            TeamMembership.objects.bulk_create(members, batch_size=2000)
            rows = []
            for c in cases:
                i = int(c.reference[6:])
                for number in (1, 2, 3):
                    likelihood, impact = (i + number) % 5 + 1, (i * 7 + number) % 5 + 1
                    residual = max(1, likelihood - 2)
                    score, residual_score = likelihood * impact, residual * impact
                    current = number == 3
                    rows.append(
                        RiskAssessment(
                            id=uuid.uuid4(),
                            case=c,
                            number=number,
                            status=Status.APPROVED if current else Status.SUPERSEDED,
                            is_current=current,
                            likelihood=likelihood,
                            impact=impact,
                            score=score,
                            band=scheme.band_for(score).code,
                            residual_likelihood=residual,
                            residual_impact=impact,
                            residual_score=residual_score,
                            residual_band=scheme.band_for(residual_score).code,
                            scheme_code=scheme.code,
                            scheme_version=scheme.version,
                            threat_to_life=score >= 20,
                            author=author,
                            approved_at=now,
                            classification=2,
                            next_review_on=today + timedelta(days=(i % 100) - 10)
                            if current
                            else None,
                        )
                    )
            RiskAssessment.objects.bulk_create(rows, batch_size=1000)
        # The risk triggers' look-ups are planned once per connection, from the statistics of
        # that moment: refreshed after each batch, or each membership insert scans every
        # assessment so far on a server without autovacuum (as on this project's machines), and
        # 100,000 cases take over ten minutes, slowing as they grow.
        refresh_statistics(Case, TeamMembership, RiskAssessment)
        done = min(start + batch, n_cases)
        rate = done / (time.perf_counter() - started)
        print(f"\r  built {done:,}/{n_cases:,} cases ({rate:,.0f}/s)", end="", flush=True)
    print()
    return big, small


def cursor_path(user: object, path: str, pages: int) -> str:
    """The address of page `pages` of the list at `path` (or of its last page, if shorter),
    reached as a user does: by following the "Next" cursor from the first page (keyset
    pagination has no page numbers)."""
    from haven.risk import selectors

    after = None
    for _ in range(pages - 1):
        view = selectors.portfolio(user, "supervision", after=after)  # type: ignore[arg-type]
        if not view.page.next_cursor:
            break  # a shorter list: its last page stands in for page `pages`
        after = selectors.PortfolioCursor.decode(view.page.next_cursor)
    return f"{path}?after={after.encode()}" if after else path


def measure(user: object, path: str, requests: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from tests.factories import force_sign_in

    client = force_sign_in(Client(HTTP_HOST="127.0.0.1"), user)  # type: ignore[arg-type]
    session = client.session
    session["haven_purpose"] = "supervision"
    session.save()
    assert client.get(path).status_code == 200  # warm up
    timings, queries = [], set()
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
        queries.add(len(captured.captured_queries))
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(round(0.95 * len(timings))) - 1)]
    return statistics.median(timings), p95, max(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument(
        "--reuse", default="", help="data directory of an earlier --keep SQLite run (no build)"
    )
    parser.add_argument("--keep", action="store_true", help="SQLite: keep the data for --reuse")
    add_database_options(parser, "haven_bench_risk")
    args = parser.parse_args()
    if args.reuse:
        os.environ["HAVEN_DATA_DIR"] = args.reuse
        run(args, configure(f"sqlite:///{args.reuse}/bench.sqlite3"))
        return
    with bench_database(args, "risk", keep=args.keep) as url:
        run(args, configure(url))


def run(args: argparse.Namespace, vendor: str) -> None:
    print(f"risk portfolio benchmark on {vendor}: {args.cases:,} cases x 3 assessment versions")
    began = time.perf_counter()
    if args.reuse:
        from haven.accounts.models import User

        big = User.objects.get(username="bench-manager")
        small = User.objects.get(username="bench-baseline")
        print(f"  reusing {args.reuse}")
    else:
        big, small = build(args.cases, min(args.baseline, args.cases))
        print(f"  data built in {time.perf_counter() - began:.0f} s")
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    pages = [
        ("portfolio page 1", "/risk/"),
        ("overdue reviews", "/risk/?show=overdue"),
        ("band = high", "/risk/?band=high"),
        ("page 20", None),
    ]
    print(
        f"\n  {'page':<18} {'cases':>8} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}"
        f"   {'baseline p95':>12} {'q':>3} {'ratio p95':>9}"
    )
    worst = (0.0, 0.0, -1.0, "")
    for label, path in pages:
        big_path = path or cursor_path(big, "/risk/", 20)
        small_path = path or cursor_path(small, "/risk/", 20)
        p50, p95, queries = measure(big, big_path, args.requests)
        _, base_p95, base_queries = measure(small, small_path, args.requests)
        print(
            f"  {label:<18} {args.cases:>8,} {p50:>8.1f} {p95:>8.1f} {queries:>8}"
            f"   {base_p95:>12.1f} {base_queries:>3} {p95 / base_p95:>8.1f}x"
        )
        if p95 / base_p95 > worst[2]:
            worst = (p95, base_p95, p95 / base_p95, label)
    print(
        f"\n  baseline = a manager with {min(args.baseline, args.cases):,} cases in the same "
        "database; equal query counts mean no N+1."
    )
    p95, base_p95, ratio, label = worst
    result(
        f"risk_portfolio ({vendor}, {args.cases:,} cases, worst page: {label or 'none'})",
        "p95 < 100 ms and <= 1.5x the 1k-case manager",
        f"p95 {p95:.1f} ms",
        f"p95 {base_p95:.1f} ms ({min(args.baseline, args.cases):,}-case manager, same run)",
        ratio,
        p95 < 100 and ratio <= 1.5,
    )


if __name__ == "__main__":
    main()
