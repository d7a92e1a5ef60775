"""`haven audit verify` at database speed (PostgreSQL): the all-good case only.

The ledger is cut into ranges of whole 1,024-leaf subtrees; each range is streamed by a
server-side cursor of its own in binary (psycopg's C loaders build the rows: a binary ``COPY``
is cheaper for the server but costs Python more per row, and Python is the bottleneck), on
connections of its own, in parallel worker processes (threads where forking is not safe).
Each range returns the roots of its perfect subtrees; the caller folds them into the RFC 6962
tree and checks the signed checkpoints.

Every leaf is hashed from the entry's stored canonical copy, the bytes its leaf hash commits
to.  The columns are not fetched: PostgreSQL holds them equal to the copy (``copies``), and
``verification`` takes this path only while the catalogue shows that constraint intact and
validated.  A row without a copy is a doubt.

Nothing here reports tampering: a range answers ``None`` as soon as anything is not as it
should be (a copy missing, a leaf hash that does not match, a query error), and the caller
then runs the reference verifier, which finds and words the problem exactly as before.  So
this path can only ever make a good ledger verify faster.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from haven.audit.merkle import leaf_hashes_of, root_from_leaf_hashes

CHUNK = 1024  # leaves per perfect subtree handed back (merkle's fold chunk)
FETCH = 4 * CHUNK  # rows hashed and compared at a time
MIN_RANGE = 16 * CHUNK  # below this, one range: forks and connections cost more than they save

RANGE_SQL = (
    "SELECT canonical, leaf_hash FROM audit_ledgerentry WHERE id >= %s AND id <= %s ORDER BY id"
)


@dataclass
class RangeResult:
    count: int = 0
    roots: list[bytes] = field(default_factory=list)  # one per whole chunk, in order
    kept: dict[int, list[bytes]] = field(default_factory=dict)  # leaves of chunks asked for
    tail: list[bytes] = field(default_factory=list)  # leaves after the last whole chunk


def sound_leaf_hashes(rows: Sequence[Sequence[Any]]) -> list[bytes] | None:
    """The leaf hashes of RANGE_SQL rows, hashed from their stored copies; None unless every
    row has a copy and its stored leaf hash is that copy's hash."""
    copies = [row[0] for row in rows]
    if any(copy is None for copy in copies):
        return None  # written before copies were kept: the reference pass spells it
    hashes = leaf_hashes_of(copies)
    if b"".join(hashes).hex() != "".join(row[1] for row in rows):
        return None
    return hashes


def hash_range(
    connection: Any, first_id: int, last_id: int, keep: frozenset[int]
) -> RangeResult | None:
    """Hash the entries with ids first_id..last_id on ``connection`` (a psycopg connection in
    a transaction); None when any row cannot be vouched for here."""
    result = RangeResult()
    leaves: list[bytes] = []
    with connection.cursor(name="haven_audit_verify", binary=True) as cursor:
        cursor.execute(RANGE_SQL, (first_id, last_id))
        while batch := cursor.fetchmany(FETCH):
            hashes = sound_leaf_hashes(batch)
            if hashes is None:
                return None
            result.count += len(batch)
            leaves.extend(hashes)
            if len(leaves) >= CHUNK:
                whole = len(leaves) - len(leaves) % CHUNK
                for start in range(0, whole, CHUNK):
                    chunk = leaves[start : start + CHUNK]
                    index = len(result.roots)
                    if index in keep:
                        result.kept[index] = chunk
                    result.roots.append(root_from_leaf_hashes(chunk))
                del leaves[:whole]
    result.tail = leaves
    return result


def hash_ranges(
    connect: Callable[[], Any],
    bounds: Sequence[tuple[int, int, frozenset[int]]],
) -> list[RangeResult | None]:
    """``hash_range`` over each (first id, last id, chunks to keep) in parallel, each on a new
    connection from ``connect`` (closed after).

    Spelling and hashing rows is Python's work and the GIL lets one thread do it at a time,
    so the ranges run in forked processes when that is safe (this process has no other thread
    that a fork could catch holding a lock), else in threads."""
    if len(bounds) == 1:
        return [hash_range_on(connect, bounds[0])]
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        global _connect_in_worker  # noqa: PLW0603 - inherited by the forked workers
        _connect_in_worker = connect  # not picklable (Django's adapters): forked, not sent
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=len(bounds), mp_context=context) as pool:
                return list(pool.map(_hash_range_in_worker, bounds))
        except BrokenProcessPool:
            return [None] * len(bounds)
        finally:
            _connect_in_worker = None
    with ThreadPoolExecutor(max_workers=len(bounds), thread_name_prefix="audit-verify") as pool:
        return list(pool.map(lambda bound: hash_range_on(connect, bound), bounds))


def hash_range_on(
    connect: Callable[[], Any], bound: tuple[int, int, frozenset[int]]
) -> RangeResult | None:
    """``hash_range`` in a transaction of a new connection from ``connect``."""
    connection = connect()
    try:
        with connection.transaction():
            return hash_range(connection, *bound)
    except Exception:  # noqa: BLE001 - any failure sends the caller to the reference path
        return None
    finally:
        connection.close()


_connect_in_worker: Callable[[], Any] | None = None


def _hash_range_in_worker(bound: tuple[int, int, frozenset[int]]) -> RangeResult | None:
    if _connect_in_worker is None:
        return None
    return hash_range_on(_connect_in_worker, bound)
