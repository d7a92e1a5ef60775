"""`haven audit verify` at database speed (PostgreSQL): the all-good case only.

The ledger is cut into ranges of whole 1,024-leaf subtrees; each range is streamed by a
server-side cursor of its own in binary (psycopg's C loaders: bytes arrive as bytes, nothing is
parsed in Python), on connections of its own in parallel threads, so PostgreSQL's work (reading
the rows and comparing each stored canonical copy with its columns) runs on every core while
Python hashes.  Each range returns the roots of its perfect subtrees; the caller folds them
into the RFC 6962 tree and checks the signed checkpoints.

Nothing here reports tampering: a range answers ``None`` as soon as anything is not as it
should be (a copy missing or different from its columns, a leaf hash that does not match, a
query error), and the caller then runs the reference verifier, which finds and words the
problem exactly as before.  So this path can only ever make a good ledger verify faster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from haven.audit.merkle import leaf_hashes_of, root_from_leaf_hashes

CHUNK = 1024  # leaves per perfect subtree handed back (merkle's fold chunk)
FETCH = 4 * CHUNK  # rows per round trip
MIN_RANGE = 64 * CHUNK  # below this, one range: threads and connections cost more than they save

# A stored copy is used only if, parsed as JSON, it equals the document built from the
# columns (same keys, same values; the time as `ledger.canonical_bytes_from_values` spells
# it); the bytes themselves are then checked against the leaf hash in Python.  The reference
# verifier makes the same comparison key by key (verification._STORED_ROWS_SQL).
RANGE_SQL = """
SELECT canonical, leaf_hash,
  canonical IS NOT NULL AND convert_from(canonical, 'UTF8')::jsonb = jsonb_build_object(
    'recorded_at',
    to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"'),
    'actor_id', actor_id, 'actor', actor_username, 'action', action,
    'object_type', object_type, 'object_id', object_id, 'case_id', case_id,
    'fields', fields, 'recipients', recipients, 'justification', justification,
    'details', details)
FROM audit_ledgerentry WHERE id >= %s AND id <= %s ORDER BY id
"""


@dataclass
class RangeResult:
    count: int = 0
    roots: list[bytes] = field(default_factory=list)  # one per whole chunk, in order
    kept: dict[int, list[bytes]] = field(default_factory=dict)  # leaves of chunks asked for
    tail: list[bytes] = field(default_factory=list)  # leaves after the last whole chunk


def hash_range(
    connection: Any, first_id: int, last_id: int, keep: frozenset[int]
) -> RangeResult | None:
    """Hash the entries with ids first_id..last_id on ``connection`` (a psycopg connection in
    a transaction); None when any row cannot be vouched for here."""
    result = RangeResult()
    leaves: list[bytes] = []
    cursor = connection.cursor(name="haven_audit_verify", binary=True)
    try:
        cursor.execute(RANGE_SQL, (first_id, last_id))
        while rows := cursor.fetchmany(FETCH):
            if not all(row[2] for row in rows):
                return None  # a copy missing or not equal to its columns
            hashes = leaf_hashes_of([row[0] for row in rows])
            if b"".join(hashes).hex() != "".join(row[1] for row in rows):
                return None
            result.count += len(rows)
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
    finally:
        cursor.close()
    result.tail = leaves
    return result


def hash_ranges(
    connect: Callable[[], Any],
    bounds: Sequence[tuple[int, int, frozenset[int]]],
) -> list[RangeResult | None]:
    """``hash_range`` over each (first id, last id, chunks to keep), in parallel threads, each
    on a new connection from ``connect`` (closed after)."""

    def run(bound: tuple[int, int, frozenset[int]]) -> RangeResult | None:
        connection = connect()
        try:
            with connection.transaction():
                return hash_range(connection, *bound)
        except Exception:  # noqa: BLE001 - any failure sends the caller to the reference path
            return None
        finally:
            connection.close()

    if len(bounds) == 1:
        return [run(bounds[0])]
    with ThreadPoolExecutor(max_workers=len(bounds), thread_name_prefix="audit-verify") as pool:
        return list(pool.map(run, bounds))
