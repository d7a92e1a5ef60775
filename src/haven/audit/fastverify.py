"""`haven audit verify` at database speed (PostgreSQL): the all-good case only.

The ledger is cut into ranges of whole 1,024-leaf subtrees; each range is streamed by a
server-side cursor of its own in binary (psycopg's C loaders build the rows: a binary ``COPY``
is cheaper for the server but costs Python more per row, and Python is the bottleneck), on
connections of its own in parallel threads.  Each range returns the
roots of its perfect subtrees; the caller folds them into the RFC 6962 tree and checks the
signed checkpoints.

Every leaf is hashed from the entry's columns: Python spells each row's canonical document
exactly as ``ledger.canonical_bytes_from_values`` does (the database only formats the time),
so a changed column changes the leaf hash.  The stored canonical copy must equal those bytes,
so a missing, changed or re-spelled copy is a doubt too.  No SQL function is trusted to
compare or hash anything (a DBA can redefine them).

Nothing here reports tampering: a range answers ``None`` as soon as anything is not as it
should be (a copy missing or different from its columns, a leaf hash that does not match, a
query error), and the caller then runs the reference verifier, which finds and words the
problem exactly as before.  So this path can only ever make a good ledger verify faster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from json import loads as json_loads
from json.encoder import encode_basestring  # what ledger's encoder quotes strings with
from typing import Any

from haven.audit import ledger
from haven.audit.merkle import leaf_hashes_of, root_from_leaf_hashes

CHUNK = 1024  # leaves per perfect subtree handed back (merkle's fold chunk)
FETCH = 4 * CHUNK  # rows hashed and compared at a time
MIN_RANGE = 64 * CHUNK  # below this, one range: threads and connections cost more than they save
JSON_CACHE_LIMIT = 4096  # distinct JSON column texts kept spelled (most rows repeat a few)

# The columns in the order of the canonical document's keys (ledger.CANONICAL_COLUMNS,
# sorted), JSON columns as their text, then the stored copy and the leaf hash.  The time is
# spelled as `ledger.canonical_bytes_from_values` spells it, for years 1-9999 only (Python's
# range; to_char would spell a year BC like the same year AD): outside them it is NULL, a doubt.
RANGE_SQL = """
  SELECT action, actor_username, actor_id, case_id, details::text, fields::text, justification,
    object_id, object_type, recipients::text,
    CASE WHEN recorded_at >= '0001-01-01 00:00:00+00' AND recorded_at < '10000-01-01 00:00:00+00'
      THEN to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"') END,
    canonical, leaf_hash
  FROM audit_ledgerentry WHERE id >= %s AND id <= %s ORDER BY id
"""
STORED_COPY, LEAF_HASH = 11, 12  # positions in a RANGE_SQL row


class CanonicalEncoder:
    """A RANGE_SQL row to the bytes ``ledger.canonical_bytes_from_values`` returns for the
    same entry (``test_the_fast_pass_spells_awkward_entries_as_the_ledger_does`` holds the two
    equal over awkward values); None if the row cannot be spelled here.  JSON column texts
    are decoded and re-spelled once each."""

    def __init__(self) -> None:
        self._json: dict[str, str] = {}

    def json(self, text: str) -> str:
        spelled = self._json.get(text)
        if spelled is None:
            if len(self._json) >= JSON_CACHE_LIMIT:
                self._json.clear()
            spelled = self._json[text] = ledger.canonical_json(json_loads(text))
        return spelled

    def __call__(self, row: Sequence[Any]) -> bytes | None:
        (action, actor, actor_id, case_id, details, fields, justification) = row[:7]
        (object_id, object_type, recipients, recorded_at) = row[7:11]
        if recorded_at is None:
            return None
        quote, json = encode_basestring, self.json
        return (
            f'{{"action":{quote(action)},"actor":{quote(actor)},'
            f'"actor_id":{"null" if actor_id is None else int(actor_id)},'
            f'"case_id":{quote(case_id)},"details":{json(details)},"fields":{json(fields)},'
            f'"justification":{quote(justification)},"object_id":{quote(object_id)},'
            f'"object_type":{quote(object_type)},"recipients":{json(recipients)},'
            f'"recorded_at":"{recorded_at}"}}'
        ).encode()


@dataclass
class RangeResult:
    count: int = 0
    roots: list[bytes] = field(default_factory=list)  # one per whole chunk, in order
    kept: dict[int, list[bytes]] = field(default_factory=dict)  # leaves of chunks asked for
    tail: list[bytes] = field(default_factory=list)  # leaves after the last whole chunk


def sound_leaf_hashes(
    rows: Sequence[Sequence[Any]], encode: CanonicalEncoder
) -> list[bytes] | None:
    """The leaf hashes of RANGE_SQL rows, hashed from their columns; None unless every
    row's stored copy is those very bytes and its stored leaf hash their hash."""
    documents = []
    for row in rows:
        document = encode(row)
        if document is None or document != row[STORED_COPY]:
            return None
        documents.append(document)
    hashes = leaf_hashes_of(documents)
    if b"".join(hashes).hex() != "".join(row[LEAF_HASH] for row in rows):
        return None
    return hashes


def hash_range(
    connection: Any, first_id: int, last_id: int, keep: frozenset[int]
) -> RangeResult | None:
    """Hash the entries with ids first_id..last_id on ``connection`` (a psycopg connection in
    a transaction); None when any row cannot be vouched for here."""
    result = RangeResult()
    leaves: list[bytes] = []
    encode = CanonicalEncoder()
    with connection.cursor(name="haven_audit_verify", binary=True) as cursor:
        cursor.execute(RANGE_SQL, (first_id, last_id))
        while batch := cursor.fetchmany(FETCH):
            hashes = sound_leaf_hashes(batch, encode)
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
