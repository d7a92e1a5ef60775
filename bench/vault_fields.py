"""Benchmark: encrypted vault fields vs plaintext columns through the Django ORM.

    .venv/bin/python bench/vault_fields.py [--rows 100000] [--lookups 1000] [--rounds 2]
        [--postgres URL] [--database NAME]

Uses the test settings (fixed test keys) against a temporary SQLite file, or PostgreSQL with
--postgres URL (database --database, default haven_bench_vault, created and dropped). Measures
bulk writes (rows/s), read + decrypt (rows/s) and blind-index exact-match lookups (latency)
against a plaintext twin table with an indexed normalised-name column. Reads are timed
--rounds times, alternating encrypted and plaintext, and the best of each kept. Goal: reads at
most 3x plaintext.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src"), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings_test")

from benchkit import add_database_options, bench_database, result, vendor  # noqa: E402

GOAL_READ_RATIO = 3.0

FIRST = ["Siobhán", "Oluwaseun", "Zofia", "Mohammed", "Aoife", "Rhys", "Priya", "Tomasz"]
LAST = ["O'Brien", "Adeyemi", "Kowalska", "Rahman", "Ní Bhriain", "Llewellyn", "Patel", "Nowak"]
BATCH = 2000


def names(rows: int) -> list[str]:
    rng = random.Random(7)
    return [f"{rng.choice(FIRST)} {rng.choice(LAST)}-{i:06d}" for i in range(rows)]


def dob(i: int) -> datetime.date:
    return datetime.date(1940, 1, 1) + datetime.timedelta(days=(i * 37) % 25000)


def timed(label: str, function) -> float:
    start = time.perf_counter()
    function()
    elapsed = time.perf_counter() - start
    print(f"  {label:<46} {elapsed:8.2f} s")
    return elapsed


def write_encrypted(all_names: list[str]) -> None:
    from django.db import transaction
    from tests.vault.probe.models import Probe

    for start in range(0, len(all_names), BATCH):
        chunk = all_names[start : start + BATCH]
        with transaction.atomic():
            Probe.objects.bulk_create(
                [Probe(name=n, dob=dob(start + i)) for i, n in enumerate(chunk)],
                batch_size=500,
            )


def write_plain(all_names: list[str]) -> None:
    from django.db import transaction
    from tests.vault.probe.models import PlainProbe

    from haven.vault.blind_index import normalise_name

    for start in range(0, len(all_names), BATCH):
        chunk = all_names[start : start + BATCH]
        with transaction.atomic():
            PlainProbe.objects.bulk_create(
                [
                    PlainProbe(name=n, dob=dob(start + i), name_key=normalise_name(n))
                    for i, n in enumerate(chunk)
                ],
                batch_size=500,
            )


def read_all(model) -> int:
    # The same four columns from each table (id, name, dob and the name's index), so the
    # ratio is the cost of the encryption, not of the probe table's extra columns.
    index = "name_idx" if model.__name__ == "Probe" else "name_key"
    count = 0
    for row in model.objects.only("id", "name", "dob", index).iterator(chunk_size=BATCH):
        _ = (row.name, row.dob)
        count += 1
    return count


def lookups(queries: list[str], encrypted: bool) -> list[float]:
    from tests.vault.probe.models import PlainProbe, Probe

    from haven.vault.blind_index import normalise_name
    from haven.vault.fields import index_for

    latencies = []
    for query in queries:
        start = time.perf_counter()
        if encrypted:
            wanted = normalise_name(query)
            candidates = Probe.objects.filter(name_idx=index_for("name", query))
            found = [p for p in candidates if normalise_name(p.name) == wanted]
        else:
            found = list(PlainProbe.objects.filter(name_key=normalise_name(query)))
        latencies.append(time.perf_counter() - start)
        assert len(found) == 1, (query, found)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2, help="read rounds; the best is kept")
    add_database_options(parser, "haven_bench_vault")
    options = parser.parse_args()
    with bench_database(options, "vault") as url:
        import django

        django.setup()
        measure(options, vendor(url))


def measure(options: argparse.Namespace, database: str) -> None:
    from django.core.management import call_command
    from tests.vault.probe.models import PlainProbe, Probe

    from haven.vault.keyring import get_keyring

    call_command("migrate", verbosity=0)
    ring = get_keyring()
    print(f"database: {database}; rows: {options.rows:,}; active data key {ring.active_key_id}")
    all_names = names(options.rows)

    print("write (bulk_create, 2 encrypted fields + 2 blind indexes vs plaintext + index)")
    t_enc_w = timed("encrypted", lambda: write_encrypted(all_names))
    t_pln_w = timed("plaintext", lambda: write_plain(all_names))

    print(f"read all rows and access name + dob (best of {options.rounds})")
    t_enc_r = t_pln_r = float("inf")
    for _ in range(options.rounds):
        t_enc_r = min(t_enc_r, timed("encrypted (decrypt)", lambda: read_all(Probe)))
        t_pln_r = min(t_pln_r, timed("plaintext", lambda: read_all(PlainProbe)))

    queries = random.Random(11).sample(all_names, min(options.lookups, options.rows))
    # Differently formatted, as a user would type it.
    queries = [q.upper().replace("'", "").replace("-", " ") for q in queries]
    print(f"exact-match lookup of {len(queries):,} names (one row each)")
    enc_lat = lookups(queries, encrypted=True)
    pln_lat = lookups(queries, encrypted=False)

    rows = options.rows

    def per_s(seconds: float) -> str:
        return f"{rows / seconds:,.0f} rows/s"

    print(f"  write ratio {t_enc_w / t_pln_w:.2f}x slower ({per_s(t_enc_w)} vs {per_s(t_pln_w)})")
    lookup_ratio = statistics.mean(enc_lat) / statistics.mean(pln_lat)
    print(
        f"  lookup mean blind index {statistics.mean(enc_lat) * 1000:.3f} ms, plaintext "
        f"{statistics.mean(pln_lat) * 1000:.3f} ms ({lookup_ratio:.2f}x)"
    )
    result(
        f"vault_fields read ({database}, {rows:,} rows)",
        f"encrypted reads <= {GOAL_READ_RATIO:.0f}x plaintext",
        per_s(t_enc_r),
        f"{per_s(t_pln_r)} (plaintext twin, same run)",
        t_enc_r / t_pln_r,
        t_enc_r / t_pln_r <= GOAL_READ_RATIO,
    )


if __name__ == "__main__":
    main()
