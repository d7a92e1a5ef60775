"""Casework under load: case list, case page and case update at 20 concurrent users.

    .venv/bin/python bench/casework.py [--cases 100000] [--ledger 1000000] [--seconds 240]
        [--rounds 8] [--load-workers 2] [--postgres URL] [--database PREFIX] [--keep]

Needs PostgreSQL (--postgres URL, default 127.0.0.1:5432, trust auth). Two databases are
prepared with the demo loader (PREFIX_secure_N, PREFIX_plain_N for N cases, PREFIX from
--database, default haven_bench; dropped at the end unless --keep, then reused; the loader
prints how long each took: 100,000 cases and 1,000,000 ledger entries in 73 s with two load
processes, 119 s with one, on a quiet 2-core machine): "secure" as
in production, "plain" with need-to-know, the ledger and field encryption all switched off
together by a bench-only WSGI module (bench/casework_wsgi.py, HAVEN_BENCH_PLAIN=1), which is
the baseline. Both are served by
gunicorn (sync workers) at once and driven by Locust (bench extra: pip install -e '.[bench]';
the users are in bench/casework_locust.py), paced and saturated, in rounds that alternate
secure and plain so that background work (a checkpoint, say) falls on both alike. Prints
p50/p95/p99 latency (exact, from every request's time), throughput and errors per operation,
and secure/plain ratios. Last, both servers are saturated side by side (half the users each)
and their CPU per request (gunicorn's processes and the database's backends) is compared: the
security's cost measured at the same moment on the same machine, whose speed drifts.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from benchkit import drop_database, machine_busy, pg_admin, result, server_url  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
KEYS = {
    "HAVEN_KEK": "bench:YmVuY2gtb25seS1rZWstaGF2ZW4tdmF1bHQtMDAwMDA",
    "HAVEN_BLIND_INDEX_KEY": "YmVuY2gtb25seS1ibGluZC1pbmRleC1rZXktMDAwMDA",
}
USERS = 20
CASES_PER_USER = 300
GOAL_P95_MS = 50
GOAL_RATIO = 1.15
# Set from --postgres / --database in main(); the loader and server children get them via env.
SERVER = {"url": "postgres://postgres@127.0.0.1:5432/postgres", "database": "haven_bench"}


def database_name(mode: str, cases: int) -> str:
    return f"{SERVER['database']}_{mode}_{cases}"


def env_for(mode: str, data_dir: str, cases: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(KEYS)
    env.update(
        HAVEN_DATABASE_URL=server_url(SERVER["url"], database_name(mode, cases)),
        HAVEN_SECRET_KEY="bench-only-secret-key-not-for-production-0123456789",
        HAVEN_INSECURE_HTTP="1",
        HAVEN_DATA_DIR=data_dir,
        DJANGO_SETTINGS_MODULE="haven.settings",
        PYTHONPATH=f"{ROOT / 'src'}:{ROOT / 'bench'}",
    )
    if mode == "plain":
        env["HAVEN_BENCH_PLAIN"] = "1"
    return env


# --------------------------------------------------------------------------- loading (child)


def load(cases: int, ledger_size: int, out: str) -> None:
    import django

    django.setup()
    if os.environ.get("HAVEN_BENCH_PLAIN") == "1":
        import casework_wsgi

        casework_wsgi.switch_security_off()
    from django.db import transaction
    from django.test import override_settings
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from haven.access.models import TeamMembership, TeamRole
    from haven.accounts import services as account_services
    from haven.accounts.models import User
    from haven.accounts.roles import Clearance, Role
    from haven.audit import state
    from haven.audit.models import Action, LedgerEntry
    from haven.cases.models import Case
    from haven.demo import parallel
    from haven.demo.accounts import create_demo_accounts
    from haven.demo.cases import create_demo_cases, ledger_entries, write_ledger
    from haven.vault import bulk

    workers = int(os.environ.get("HAVEN_BENCH_LOAD_WORKERS", "2"))
    started = time.perf_counter()
    create_demo_accounts()
    create_demo_cases(cases, workers=workers)
    print(f"  demo: {cases} cases in {time.perf_counter() - started:.0f} s", flush=True)
    if os.environ.get("HAVEN_BENCH_PLAIN") != "1":
        officer = User.objects.get(username="officer")
        missing = max(0, ledger_size - LedgerEntry.objects.count())
        ids = list(Case.objects.values_list("id", flat=True)[:10000])
        now = timezone.now()

        def consultations(first: int, count: int, advance: Callable[[int], None]) -> None:
            for batch_start in range(first, first + count, 20000):
                size = min(20000, first + count - batch_start)
                rows = [
                    {
                        "recorded_at": now,
                        "actor": officer,
                        "action": Action.CONSULTATION,
                        "object_type": "case",
                        "object_id": ids[i % len(ids)],
                        "case_id": ids[i % len(ids)],
                        "fields": ("subject_name",),
                        "justification": "case_management",
                    }
                    for i in range(batch_start, batch_start + size)
                ]
                with transaction.atomic():
                    write_ledger(ledger_entries(rows))
                advance(size)

        # Consultations carry no access-control state: writers of them take no lock.
        shares = [missing // workers + (n < missing % workers) for n in range(workers)]
        firsts = [sum(shares[:n]) for n in range(workers)]
        parallel.run_parts(
            [partial(consultations, f, c) for f, c in zip(firsts, shares, strict=True) if c],
            missing,
            "Ledger entries",
        )
        print(
            f"  ledger: {LedgerEntry.objects.count()} entries"
            f" ({time.perf_counter() - started:.0f} s in all)",
            flush=True,
        )
    all_ids = list(Case.objects.order_by("reference").values_list("id", flat=True))
    # Disjoint caseloads: each officer edits only their own cases, so a 409 in the figures is
    # a real failure, never two simulated officers racing on one shared case.
    # A quick run (fewer than USERS x CASES_PER_USER cases) shares out what there is.
    per_user = min(CASES_PER_USER, len(all_ids) // USERS)
    caseloads = random.Random(7).sample(all_ids, USERS * per_user)
    officer_for_teams = User.objects.get(username="manager")
    users = []
    for n in range(USERS):
        name = f"bench{n:02d}"
        User.objects.filter(username=name).delete()
        # Bench accounts are signed in by a session made directly (sign_in below), never by
        # their password: a fast hasher spares 20 Argon2 hashes (seconds on a loaded machine).
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            user = account_services.create_user(
                name, "bench password not secret", [Role.PROTECTION_OFFICER], Clearance.SECRET
            )
        TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        mine = caseloads[n * per_user : (n + 1) * per_user]
        with transaction.atomic():  # each membership with its ledger entry, as add_member does
            bulk.insert(
                TeamMembership,
                (
                    TeamMembership(
                        object_type="case", object_id=pk, user=user, team_role=TeamRole.OFFICER
                    )
                    for pk in mine
                ),
            )
            changes = [state.team_change("case", pk, user.pk, TeamRole.OFFICER) for pk in mine]
            write_ledger(
                ledger_entries(
                    {
                        "recorded_at": timezone.now(),
                        "actor": officer_for_teams,
                        "action": Action.ALTERATION,
                        "object_type": "case",
                        "object_id": pk,
                        "case_id": pk,
                        "fields": ("team",),
                        "details": {"state": [change]},
                    }
                    for pk, change in zip(mine, changes, strict=True)
                )
            )
        users.append({"username": name, "cases": [str(c) for c in mine]})
    Path(out).write_text(json.dumps({"cases": Case.objects.count(), "users": users}))
    print(
        f"  loaded in {time.perf_counter() - started:.0f} s ({workers} load processes)", flush=True
    )


def sign_in(out: str) -> None:
    """Fresh signed-in sessions (password and TOTP done) and API tokens for this run's users."""
    import django

    django.setup()
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from haven.accounts import services as account_services
    from haven.accounts.middleware import EPOCH, LAST_SEEN, SIGNED_IN_AT
    from haven.accounts.models import User
    from haven.accounts.sessions import SessionStore  # keys stored hashed, as the server reads them

    info = json.loads(Path(out).read_text())
    for entry in info["users"]:
        user = User.objects.get(username=entry["username"])
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session["otp_device_id"] = TOTPDevice.objects.get(user=user).persistent_id
        session[EPOCH] = user.session_epoch
        session["haven_purpose"] = "case_management"
        session[LAST_SEEN] = int(time.time())
        session[SIGNED_IN_AT] = int(time.time())  # the 12-hour absolute lifetime counts from it
        session.create()
        entry["session"] = session.session_key
        _, entry["token"] = account_services.issue_api_token(
            user, "bench", modules=user.modules, can_write=True
        )
    Path(out).write_text(json.dumps(info))


# --------------------------------------------------------------------------- driving (parent)

OPERATIONS = ("case list", "case page", "case update")
# Two loads per database. "paced": 20 officers who each wait 0.5-1.5 s between actions (a
# heavier rhythm than people reading case files keep). "saturated": the same 20 with no wait at
# all, so latency is queueing for the machine's cores (Little's law: 20 / throughput).
LOADS = {"paced": "0.5,1.5", "saturated": "0,0"}


def serve(mode: str, data_dir: str, cases: int, port: int, workers: int) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "casework_wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env_for(mode, data_dir, cases), cwd=ROOT)
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            # Any answer means it serves: /healthz is 503 while the scheduler and worker
            # heartbeats are missing, which a bench server does not run.
            if conn.getresponse().status in (200, 503):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def run_locust(
    port: int, users_file: Path, think: str, seconds: float, prefix: Path, users: int = USERS
) -> Times:
    """One headless Locust run; returns every request's (name, ms, ok) and the number of
    exceptions raised inside the users' tasks."""
    command = [
        str(ROOT / ".venv" / "bin" / "locust"),
        "-f",
        str(ROOT / "bench" / "casework_locust.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{int(seconds)}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    times_file = Path(f"{prefix}_times.json")
    env = dict(
        os.environ,
        HAVEN_BENCH_USERS=str(users_file),
        HAVEN_BENCH_THINK=think,
        HAVEN_BENCH_TIMES=str(times_file),
    )
    busy_before, started = machine_busy(), time.perf_counter()
    with open(f"{prefix}.log", "w") as log:  # Locust's own summary, kept for reading
        subprocess.run(command, env=env, cwd=ROOT, stdout=log, stderr=log, check=False)
    busy = (machine_busy() - busy_before) / (time.perf_counter() - started)
    # The whole machine (server, database, Locust and anything else running): a reading taken
    # while other work shares the cores is no reading of the servers.
    print(f"  {prefix.name}: machine busy {busy:.2f} of {os.cpu_count()} cores", flush=True)
    times = [tuple(row) for row in json.loads(times_file.read_text())]
    return Times(times, _exceptions(Path(f"{prefix}_exceptions.csv")))  # type: ignore[arg-type]


@dataclass
class Times:
    requests: list[tuple[str, float, bool]]
    exceptions: int

    def __add__(self, other: Times) -> Times:
        return Times(self.requests + other.requests, self.exceptions + other.exceptions)


def figures_from(times: Times, seconds: float) -> dict:
    """Per operation: count, exact p50/p95/p99 (nearest rank), req/s and failed requests."""
    figures: dict = {}
    for op in OPERATIONS:
        mine = sorted(ms for name, ms, _ in times.requests if name == op)
        figures[op] = {
            "n": len(mine),
            "p50": _percentile(mine, 0.50),
            "p95": _percentile(mine, 0.95),
            "p99": _percentile(mine, 0.99),
            "rps": len(mine) / seconds,
            "errors": sum(1 for name, _, ok in times.requests if name == op and not ok),
        }
    figures["_total"] = {
        "rps": sum(figures[op]["rps"] for op in OPERATIONS),
        "exceptions": times.exceptions,
    }
    return figures


def _percentile(ordered: list[float], share: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _exceptions(path: Path) -> int:
    """Exceptions raised inside the users' tasks: errors too, though no request failed."""
    if not path.exists():
        return 0
    with open(path, newline="") as handle:
        return sum(int(row.get("Count", 0)) for row in csv.DictReader(handle))


def migrate(env: dict[str, str]) -> None:
    """The schema, and the static files a production-mode server serves from its manifest."""
    subprocess.run([PY, "-m", "django", "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [PY, "-m", "django", "collectstatic", "--no-input", "-v0"], env=env, check=True, cwd=ROOT
    )


def prepare(mode: str, cases: int, ledger_size: int, data_dir: str) -> Path:
    info = Path(data_dir) / f"bench-{mode}-{cases}.json"
    database = database_name(mode, cases)
    if info.exists() and json.loads(info.read_text()).get("cases") == cases:
        print(f"{mode}: reusing {database} (migrated to this checkout's schema)")
        migrate(env_for(mode, data_dir, cases))
        return info
    print(f"{mode}: loading {cases} cases into {database} …", flush=True)
    drop_database(SERVER["url"], database)
    pg_admin(SERVER["url"], f"CREATE DATABASE {database}")
    env = env_for(mode, data_dir, cases)
    migrate(env)
    subprocess.run(
        [PY, __file__, "_load", str(cases), str(ledger_size), str(info)], env=env, check=True
    )
    return info


def settle(database: str) -> None:
    """VACUUM (ANALYZE) and CHECKPOINT a freshly loaded database before it is measured: a bulk
    load leaves autovacuum, statistics and dirty pages for later, and that background work
    would otherwise land on whichever rounds happen to run then (a production database is in
    its steady state)."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(server_url(SERVER["url"], database), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")
        conn.execute("CHECKPOINT")
    print(f"{database}: vacuumed, analysed, checkpointed in {time.perf_counter() - started:.0f} s")


def report(title: str, figures: dict, seconds: float) -> None:
    print(f"\n{title} ({seconds:.0f} s, {USERS} users)")
    print(
        f"  {'operation':12} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} errors"
    )
    for op in OPERATIONS:
        row = figures[op]
        print(
            f"  {op:12} {row['n']:>8} {row['p50']:>8.0f} {row['p95']:>8.0f} {row['p99']:>8.0f}"
            f" {row['rps']:>7.1f} {row['errors']}"
        )
    failed = sum(figures[op]["errors"] for op in OPERATIONS)
    total = figures["_total"]
    print(
        f"  total throughput {total['rps']:.1f} req/s, errors {failed},"
        f" exceptions in the load tool {total['exceptions']}"
    )


MODES = ("secure", "plain")


def measure(servers: dict, ports: dict[str, int], args: argparse.Namespace) -> dict:
    """Each load in rounds that alternate secure and plain (and which goes first), so that
    whatever else the machine does meanwhile (a checkpoint, say) falls on both alike."""
    results: dict[tuple[str, str], dict] = {}
    slice_s = args.seconds / args.rounds
    for load_name, think in LOADS.items():
        times = {mode: Times([], 0) for mode in MODES}
        for round_number in range(args.rounds):
            order = MODES if round_number % 2 == 0 else MODES[::-1]
            for mode in order:
                prefix = Path(args.data_dir) / f"{mode}-{load_name}-{round_number}"
                users_file = servers[mode][1]
                times[mode] += run_locust(ports[mode], users_file, think, slice_s, prefix)
        for mode in MODES:
            results[mode, load_name] = figures_from(times[mode], args.seconds)
            report(f"{mode}, {load_name}", results[mode, load_name], args.seconds)
    return results


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        load(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_sign_in":
        sign_in(sys.argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--ledger", type=int, default=1_000_000)
    # 240 s in 8 rounds: about 900-2,300 requests per operation and database. With 60 s, a p95
    # rests on its 10-30 slowest requests, and one stall on either server moved a ratio from
    # 1.0x to 1.6x between runs of the same code.
    parser.add_argument("--seconds", type=float, default=240, help="per database and load")
    parser.add_argument("--rounds", type=int, default=8, help="alternations of secure and plain")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    parser.add_argument(
        "--load-workers",
        type=int,
        default=2,
        help="processes that build and write the databases (cases, then ledger entries)",
    )
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "haven-bench"))
    parser.add_argument(
        "--postgres", metavar="URL", default=SERVER["url"], help="PostgreSQL server (needed)"
    )
    parser.add_argument(
        "--database",
        metavar="PREFIX",
        default=SERVER["database"],
        help="databases PREFIX_secure_N and PREFIX_plain_N (default haven_bench)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep both databases for the next run (else dropped)"
    )
    args = parser.parse_args()
    SERVER.update(url=args.postgres, database=args.database)
    os.environ["HAVEN_BENCH_LOAD_WORKERS"] = str(args.load_workers)  # for the loader children
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores; gunicorn {args.workers} sync workers; Locust {USERS} users")
    servers = {}
    ports = {"secure": 18700, "plain": 18701}
    try:
        users_files = {
            mode: prepare(mode, args.cases, args.ledger, args.data_dir) for mode in MODES
        }
        for mode in MODES:
            settle(database_name(mode, args.cases))
        for mode in MODES:
            users_file = users_files[mode]
            env = env_for(mode, args.data_dir, args.cases)
            subprocess.run([PY, __file__, "_sign_in", str(users_file)], env=env, check=True)
            servers[mode] = (
                serve(mode, args.data_dir, args.cases, ports[mode], args.workers),
                users_file,
            )
            warm = Path(args.data_dir) / f"{mode}-warm-up"
            run_locust(ports[mode], users_file, LOADS["saturated"], 5, warm)  # not counted
        results = measure(servers, ports, args)
        cpu = cpu_per_request(servers, ports, args)
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            for mode in MODES:
                drop_database(SERVER["url"], database_name(mode, args.cases))
                (Path(args.data_dir) / f"bench-{mode}-{args.cases}.json").unlink(missing_ok=True)
    print_overhead(results, args.cases)
    print_cpu(cpu, args.cases)


class ServerCPU:
    """CPU-seconds used so far by one server: its gunicorn processes and its database's
    PostgreSQL backends (found by their process title, which names the database). A backend
    that ends (a connection past its age) keeps the last reading taken of it."""

    def __init__(self, server: subprocess.Popen, database: str) -> None:
        import psutil

        self.server, self.database, self.psutil = psutil.Process(server.pid), database, psutil
        self.backends: dict[int, float] = {}

    def read(self) -> tuple[float, float]:
        processes = [self.server, *self.server.children()]
        python = sum(sum(p.cpu_times()[:2]) for p in processes)
        for process in self.psutil.process_iter(["cmdline"]):
            title = " ".join(process.info["cmdline"] or ())
            if title.startswith("postgres:") and f" {self.database} " in title:
                try:
                    self.backends[process.pid] = sum(process.cpu_times()[:2])
                except self.psutil.NoSuchProcess:
                    pass
        return python, sum(self.backends.values())


def cpu_per_request(servers: dict, ports: dict[str, int], args: argparse.Namespace) -> dict:
    """CPU per request of each server (Python and database), with both servers saturated at
    once by half the users each. The machine's speed drifts (here, by up to 2x over minutes),
    and rounds that take turns see different machines; side by side, both see the same one, so
    the ratio of CPU per request is the security's cost, whatever the machine did meanwhile."""
    meters = {mode: ServerCPU(servers[mode][0], database_name(mode, args.cases)) for mode in MODES}
    before = {mode: meter.read() for mode, meter in meters.items()}
    seconds = max(10.0, args.seconds / 4)
    with ThreadPoolExecutor(max_workers=len(MODES)) as pool:
        runs = {
            mode: pool.submit(
                run_locust,
                ports[mode],
                servers[mode][1],
                LOADS["saturated"],
                seconds,
                Path(args.data_dir) / f"{mode}-side-by-side",
                USERS // 2,
            )
            for mode in MODES
        }
        while not all(run.done() for run in runs.values()):
            for meter in meters.values():
                meter.read()  # catches backends before they end
            time.sleep(1)
    figures = {}
    for mode, meter in meters.items():
        python, database = (
            after - start for after, start in zip(meter.read(), before[mode], strict=True)
        )
        count = len(runs[mode].result().requests)
        figures[mode] = {"n": count, "python": python / count * 1000, "db": database / count * 1000}
    return figures


def print_cpu(cpu: dict, cases: int) -> None:
    print(f"\nCPU per request, both servers saturated side by side ({USERS // 2} users each)")
    for mode in MODES:
        row = cpu[mode]
        print(
            f"  {mode:7} {row['n']:>6} requests: server {row['python']:.2f} ms"
            f" + database {row['db']:.2f} ms = {row['python'] + row['db']:.2f} ms"
        )
    secure, plain = (cpu[mode]["python"] + cpu[mode]["db"] for mode in MODES)
    result(
        f"casework CPU per request ({cases:,} cases, side by side)",
        "none (explains the p95 ratios)",
        f"{secure:.2f} ms",
        f"{plain:.2f} ms (security off, same moment)",
        secure / plain,
        None,
    )


def print_overhead(results: dict, cases: int) -> None:
    print(
        f"\nsecurity overhead, p95 secure / plain (goal: p95 < {GOAL_P95_MS} ms, "
        f"ratio <= {GOAL_RATIO}x)"
    )
    for load_name in LOADS:
        secure, plain = results["secure", load_name], results["plain", load_name]
        for op in OPERATIONS:
            print(
                f"  {load_name:9} {op:12} {secure[op]['p95']:>6.0f} / {plain[op]['p95']:>4.0f} ms"
                f" = {secure[op]['p95'] / plain[op]['p95']:.2f}x"
            )
        ratio = plain["_total"]["rps"] / secure["_total"]["rps"]
        print(f"  {load_name:9} throughput plain / secure = {ratio:.2f}x")
    secure, plain = results["secure", "paced"], results["plain", "paced"]
    for op in OPERATIONS:
        ratio = secure[op]["p95"] / plain[op]["p95"]
        # A figure made of failed requests (a redirect to sign-in answers fast) is no figure.
        failed = secure[op]["errors"] + plain[op]["errors"]
        result(
            f"casework {op} ({cases:,} cases, {USERS} paced users)",
            f"p95 < {GOAL_P95_MS} ms, secure/plain <= {GOAL_RATIO}x",
            f"p95 {secure[op]['p95']:.0f} ms",
            f"p95 {plain[op]['p95']:.0f} ms (security off, same run)",
            ratio,
            secure[op]["p95"] < GOAL_P95_MS and ratio <= GOAL_RATIO and not failed,
        )
        if failed:
            print(f"  {op}: {failed} failed requests: this figure does not count", flush=True)


if __name__ == "__main__":
    main()
