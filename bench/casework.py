"""Casework under load: case list, case page and case update at 20 concurrent users.

    .venv/bin/python bench/casework.py [--cases 100000] [--ledger 1000000] [--seconds 60]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth). Two databases are prepared with the demo
loader (haven_bench_secure, haven_bench_plain; kept between runs, reloaded if their size
differs): the "secure" one as in production, the "plain" one with the ledger and field encryption
switched off by a bench-only WSGI module (bench/casework_wsgi.py, HAVEN_BENCH_PLAIN=1), which is
the baseline. Each is served by gunicorn (sync workers) and driven by threads with http.client.
Prints p50/p95/p99 latency, throughput and errors per operation, and secure/plain ratios.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = str(ROOT / ".venv" / "bin" / "python")
KEYS = {
    "HAVEN_KEK": "bench:YmVuY2gtb25seS1rZWstaGF2ZW4tdmF1bHQtMDAwMDA",
    "HAVEN_BLIND_INDEX_KEY": "YmVuY2gtb25seS1ibGluZC1pbmRleC1rZXktMDAwMDA",
}
USERS = 20
CASES_PER_USER = 300


def env_for(mode: str, data_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(KEYS)
    env.update(
        HAVEN_DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/haven_bench_{mode}",
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
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import transaction
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from haven.access.models import TeamMembership, TeamRole
    from haven.accounts import services as account_services
    from haven.accounts.middleware import EPOCH
    from haven.accounts.models import User
    from haven.accounts.roles import Clearance, Role
    from haven.audit.models import Action, LedgerEntry
    from haven.cases.models import Case
    from haven.demo.accounts import create_demo_accounts
    from haven.demo.cases import create_demo_cases, ledger_entries, write_ledger

    started = time.perf_counter()
    create_demo_accounts()
    create_demo_cases(cases)
    print(f"  demo: {cases} cases in {time.perf_counter() - started:.0f} s", flush=True)
    if os.environ.get("HAVEN_BENCH_PLAIN") != "1":
        officer = User.objects.get(username="officer")
        missing = ledger_size - LedgerEntry.objects.count()
        ids = list(Case.objects.values_list("id", flat=True)[:10000])
        now = timezone.now()
        while missing > 0:
            size = min(20000, missing)
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
                for i in range(size)
            ]
            with transaction.atomic():
                write_ledger(ledger_entries(rows))
            missing -= size
        print(f"  ledger: {LedgerEntry.objects.count()} entries", flush=True)
    all_ids = list(Case.objects.order_by("reference").values_list("id", flat=True))
    rng = random.Random(7)
    users = []
    for n in range(USERS):
        name = f"bench{n:02d}"
        User.objects.filter(username=name).delete()
        user = account_services.create_user(
            name, "bench password not secret", [Role.PROTECTION_OFFICER], Clearance.SECRET
        )
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        mine = rng.sample(all_ids, CASES_PER_USER)
        TeamMembership.objects.bulk_create(
            TeamMembership(object_type="case", object_id=pk, user=user, team_role=TeamRole.OFFICER)
            for pk in mine
        )
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session["otp_device_id"] = device.persistent_id
        session[EPOCH] = user.session_epoch
        session["haven_purpose"] = "case_management"
        session["haven_last_seen"] = int(time.time()) + 3600
        session.create()
        _, token = account_services.issue_api_token(user, "bench")
        users.append(
            {"session": session.session_key, "token": token, "cases": [str(c) for c in mine]}
        )
    Path(out).write_text(json.dumps({"cases": Case.objects.count(), "users": users}))


# --------------------------------------------------------------------------- driving (parent)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def drive(port: int, users: list[dict], seconds: float) -> dict:
    stats: dict[str, list[float]] = {"case list": [], "case page": [], "case update": []}
    errors: dict[str, int] = dict.fromkeys(stats, 0)
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(index: int, user: dict) -> None:
        rng = random.Random(index)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        cookie = {"Cookie": f"sessionid={user['session']}"}
        api = {
            "Authorization": f"Bearer {user['token']}",
            "X-Haven-Purpose": "case_management",
            "Content-Type": "application/json",
        }
        versions: dict[str, int] = {}

        def call(method: str, path: str, headers: dict, body: str | None = None):
            nonlocal conn
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                return response.status, data
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                return 599, b""

        while time.perf_counter() < stop_at:
            case = rng.choice(user["cases"])
            op = rng.choices(["case list", "case page", "case update"], [3, 5, 2])[0]
            if op == "case update" and case not in versions:
                status, data = call("GET", f"/api/cases/{case}", api)
                versions[case] = json.loads(data)["version"] if status == 200 else 1
            started = time.perf_counter()
            if op == "case list":
                status, _ = call("GET", f"/cases/?page={rng.randint(1, 12)}", cookie)
            elif op == "case page":
                status, _ = call("GET", f"/cases/{case}/", cookie)
            else:
                body = {
                    "version": versions[case],
                    "reason": "bench update",
                    "address": f"{rng.randint(1, 999)} Bench Road",
                }
                status, _ = call("PATCH", f"/api/cases/{case}", api, json.dumps(body))
                if status == 200:
                    versions[case] += 1
                else:
                    versions.pop(case, None)
            elapsed = time.perf_counter() - started
            with lock:
                stats[op].append(elapsed)
                if status >= 400:
                    errors[op] += 1

    threads = [threading.Thread(target=worker, args=(i, u)) for i, u in enumerate(users)]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - wall
    return {"stats": stats, "errors": errors, "wall": wall}


def serve(mode: str, data_dir: str, port: int, workers: int) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "casework_wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, env=env_for(mode, data_dir), cwd=ROOT)
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def prepare(mode: str, cases: int, ledger_size: int, data_dir: str) -> dict:
    info = Path(data_dir) / f"bench-{mode}.json"
    database = f"haven_bench_{mode}"
    if info.exists() and json.loads(info.read_text()).get("cases") == cases:
        print(f"{mode}: reusing {database}")
        return json.loads(info.read_text())
    print(f"{mode}: loading {cases} cases into {database} …", flush=True)
    psql = ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-c"]
    subprocess.run([*psql, f"DROP DATABASE IF EXISTS {database}"], check=True)
    subprocess.run([*psql, f"CREATE DATABASE {database}"], check=True)
    env = env_for(mode, data_dir)
    subprocess.run([PY, "-m", "django", "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    subprocess.run(
        [PY, __file__, "_load", str(cases), str(ledger_size), str(info)], env=env, check=True
    )
    return json.loads(info.read_text())


def report(mode: str, result: dict) -> dict[str, dict[str, float]]:
    figures = {}
    print(f"\n{mode}: {result['wall']:.1f} s wall")
    print(
        f"  {'operation':12} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>7} errors"
    )
    for op, values in result["stats"].items():
        row = {
            "n": len(values),
            "p50": percentile(values, 0.50) * 1000,
            "p95": percentile(values, 0.95) * 1000,
            "p99": percentile(values, 0.99) * 1000,
            "rps": len(values) / result["wall"],
            "errors": result["errors"][op],
        }
        figures[op] = row
        print(
            f"  {op:12} {row['n']:>6} {row['p50']:>8.1f} {row['p95']:>8.1f} {row['p99']:>8.1f}"
            f" {row['rps']:>7.1f} {row['errors']}"
        )
    total = sum(len(v) for v in result["stats"].values())
    failed = sum(result["errors"].values())
    print(f"  total throughput {total / result['wall']:.1f} req/s, errors {failed}")
    figures["_total"] = {"rps": total / result["wall"]}
    return figures


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        load(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--ledger", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2 + 1)
    parser.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "haven-bench"))
    args = parser.parse_args()
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    results = {}
    for number, mode in enumerate(("secure", "plain")):
        info = prepare(mode, args.cases, args.ledger, args.data_dir)
        port = 18700 + number
        server = serve(mode, args.data_dir, port, args.workers)
        try:
            drive(port, info["users"], min(5.0, args.seconds))  # warm-up, not counted
            results[mode] = report(mode, drive(port, info["users"], args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("\nsecurity overhead (secure / plain), goal p95 case page < 100 ms, ratio < 1.3x:")
    for op in ("case list", "case page", "case update"):
        secure, plain = results["secure"][op], results["plain"][op]
        print(
            f"  {op:12} p95 {secure['p95']:.1f} / {plain['p95']:.1f} ms = "
            f"{secure['p95'] / plain['p95']:.2f}x"
        )
    ratio = results["plain"]["_total"]["rps"] / results["secure"]["_total"]["rps"]
    print(f"  throughput plain / secure = {ratio:.2f}x")


if __name__ == "__main__":
    main()
