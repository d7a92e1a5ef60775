"""Benchmark: full audit-ledger verify (leaf hashes + Merkle root) vs raw hashlib.sha256.

Builds 1,000,000 synthetic canonical entries (~200 bytes of JSON-like text each) and times:

  (a) raw      -- hashlib.sha256(entry).digest() for every entry (the floor: one hash each);
  (b) verify   -- haven.audit.merkle.root_from_entries: RFC 6962 leaf hashes + root
                  (n leaf hashes + n-1 node hashes, so ~0.5 is near the one-core ceiling);
  (c) two-pass -- leaf_hashes_of() then root_from_leaf_hashes(), for comparison.

Rounds are interleaved and the best time of each is kept, to damp noise from shared CPUs.
Run:  .venv/bin/python bench/audit_verify_pure.py [entries] [rounds]
"""

from __future__ import annotations

import hashlib
import random
import sys
import time
from collections.abc import Callable

from haven.audit.merkle import leaf_hashes_of, root_from_entries, root_from_leaf_hashes

GOAL_RATIO = 0.5


def synthetic_entries(count: int) -> list[bytes]:
    """Deterministic canonical entries shaped like real ledger rows."""
    rng = random.Random(6962)
    actions = ["consultation", "alteration", "disclosure", "collection", "combination"]
    template = (
        '{"seq":%d,"at":"2025-%02d-%02dT%02d:%02d:%02d.%06dZ","actor":"officer-%05d",'
        '"action":"%s","object":"witness/%07d","fields":["address","new_identity"],'
        '"reason":"case review %08x","to":null}'
    )
    return [
        (
            template
            % (
                number,
                rng.randint(1, 12),
                rng.randint(1, 28),
                rng.randrange(24),
                rng.randrange(60),
                rng.randrange(60),
                rng.randrange(10**6),
                rng.randrange(10**5),
                rng.choice(actions),
                rng.randrange(10**7),
                rng.getrandbits(32),
            )
        ).encode()
        for number in range(count)
    ]


def raw_sha256(entries: list[bytes]) -> object:
    sha256 = hashlib.sha256
    return [sha256(entry).digest() for entry in entries]


def two_pass(entries: list[bytes]) -> bytes:
    return root_from_leaf_hashes(leaf_hashes_of(entries))


def timed(function: Callable[[list[bytes]], object], entries: list[bytes]) -> float:
    start = time.perf_counter()
    function(entries)
    return time.perf_counter() - start


def report(label: str, seconds: float, count: int, megabytes: float) -> None:
    rate = count / seconds
    print(f"{label:<9} {seconds:7.3f} s  {rate:12,.0f} entries/s  {megabytes / seconds:7.1f} MB/s")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    entries = synthetic_entries(count)
    megabytes = sum(map(len, entries)) / 1e6
    print(f"{count:,} entries, {megabytes:.1f} MB, mean {megabytes * 1e6 / count:.0f} B/entry")
    assert root_from_entries(entries) == two_pass(entries)  # both paths agree
    candidates = {"raw": raw_sha256, "verify": root_from_entries, "two-pass": two_pass}
    best = {label: float("inf") for label in candidates}
    for _ in range(rounds):
        for label, function in candidates.items():
            best[label] = min(best[label], timed(function, entries))
    for label, seconds in best.items():
        report(label, seconds, count, megabytes)
    ratio = best["raw"] / best["verify"]
    verdict = "meets" if ratio >= GOAL_RATIO else "BELOW"
    print(f"ratio verify/raw throughput = {ratio:.3f} ({verdict} goal {GOAL_RATIO})")
    print(f"ratio two-pass/raw throughput = {best['raw'] / best['two-pass']:.3f}")


if __name__ == "__main__":
    main()
