"""Benchmark: encrypted vault fields vs plaintext columns through the Django ORM.

    .venv/bin/python bench/vault_fields.py [--rows 100000] [--lookups 1000]

Uses the test settings (fixed test keys) against a temporary SQLite file, or against
HAVEN_DATABASE_URL when set (its vault_probe tables are emptied before and after). Measures
bulk writes (rows/s), read + decrypt (rows/s) and blind-index exact-match lookups (latency)
against a plaintext twin table with an indexed normalised-name column.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]
_tmp = tempfile.mkdtemp(prefix="haven-bench-vault-")
os.environ["HAVEN_DATA_DIR"] = _tmp
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haven.settings_test")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from tests.vault.probe.models import PlainProbe, Probe  # noqa: E402

from haven.vault.blind_index import normalise_name  # noqa: E402
from haven.vault.fields import index_for  # noqa: E402
from haven.vault.keyring import get_keyring  # noqa: E402

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
    for start in range(0, len(all_names), BATCH):
        chunk = all_names[start : start + BATCH]
        with transaction.atomic():
            Probe.objects.bulk_create(
                [Probe(name=n, dob=dob(start + i)) for i, n in enumerate(chunk)],
                batch_size=500,
            )


def write_plain(all_names: list[str]) -> None:
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
    count = 0
    for row in model.objects.all().iterator(chunk_size=BATCH):
        _ = (row.name, row.dob)
        count += 1
    return count


def lookups(queries: list[str], encrypted: bool) -> list[float]:
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


def empty_tables() -> None:
    with transaction.atomic():
        Probe.objects.all().delete()
        PlainProbe.objects.all().delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=1000)
    options = parser.parse_args()

    call_command("migrate", "vault", verbosity=0)
    call_command("migrate", "vault_probe", verbosity=0)
    empty_tables()
    ring = get_keyring()
    print(
        f"database: {connection.vendor} ({connection.settings_dict['NAME']}); "
        f"rows: {options.rows:,}; active data key {ring.active_key_id}"
    )
    all_names = names(options.rows)

    print("write (bulk_create, 2 encrypted fields + 2 blind indexes vs plaintext + index)")
    t_enc_w = timed("encrypted", lambda: write_encrypted(all_names))
    t_pln_w = timed("plaintext", lambda: write_plain(all_names))

    print("read all rows and access name + dob")
    t_enc_r = timed("encrypted (decrypt)", lambda: read_all(Probe))
    t_pln_r = timed("plaintext", lambda: read_all(PlainProbe))

    queries = random.Random(11).sample(all_names, options.lookups)
    # Differently formatted, as a user would type it.
    queries = [q.upper().replace("'", "").replace("-", " ") for q in queries]
    print(f"exact-match lookup of {options.lookups:,} names (one row each)")
    enc_lat = lookups(queries, encrypted=True)
    pln_lat = lookups(queries, encrypted=False)

    rows = options.rows

    def per_s(seconds: float) -> str:
        return f"{rows / seconds:>10,.0f} rows/s"

    def ms(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else 0.0

    print()
    print("results")
    print(
        f"  write  encrypted {per_s(t_enc_w)}   plaintext {per_s(t_pln_w)}   "
        f"ratio {t_enc_w / t_pln_w:.2f}x slower"
    )
    print(
        f"  read   encrypted {per_s(t_enc_r)}   plaintext {per_s(t_pln_r)}   "
        f"ratio {t_enc_r / t_pln_r:.2f}x slower"
    )
    for label, lat in (("blind index", enc_lat), ("plaintext  ", pln_lat)):
        print(
            f"  lookup {label} mean {statistics.mean(lat) * 1000:.3f} ms  "
            f"p50 {ms(lat, 50):.3f} ms  p95 {ms(lat, 95):.3f} ms"
        )
    print(f"  lookup ratio (mean) {statistics.mean(enc_lat) / statistics.mean(pln_lat):.2f}x")
    empty_tables()
    connection.close()
    shutil.rmtree(_tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
