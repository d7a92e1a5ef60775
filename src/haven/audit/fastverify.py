"""`haven audit verify` at database speed (PostgreSQL): the all-good case only.

The ledger is cut into ranges of whole 1,024-leaf subtrees; each range is streamed by a
server-side cursor of its own in binary (psycopg's C loaders build the rows: a binary ``COPY``
is cheaper for the server but costs Python more per row, and Python is the bottleneck), on
connections of its own, in parallel worker processes (threads where forking is not safe).
Each range returns the roots of its perfect subtrees; the caller folds them into the RFC 6962
tree and checks the signed checkpoints.

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

import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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
LEAF_HASH = 12  # position in a RANGE_SQL row (the stored copy is at 11)


class CanonicalEncoder:
    """RANGE_SQL rows to the bytes ``ledger.canonical_bytes_from_values`` returns for the
    same entries (``test_the_fast_pass_spells_awkward_entries_as_the_ledger_does`` holds the
    two equal over awkward values).  JSON column texts are decoded and re-spelled once each."""

    def __init__(self) -> None:
        self._json: dict[str, str] = {}

    def json(self, text: str) -> str:
        if len(self._json) >= JSON_CACHE_LIMIT:
            self._json.clear()
        spelled = self._json[text] = ledger.canonical_json(json_loads(text))
        return spelled

    def stored_documents(self, rows: Sequence[Sequence[Any]]) -> list[bytes] | None:
        """Each row's document, spelled from its columns; None unless every row can be
        spelled here and its stored copy is those very bytes.  One loop with everything
        bound locally: it runs once per ledger entry and is most of a verify's time."""
        quote, cached, json = encode_basestring, self._json.get, self.json
        documents = []
        for row in rows:
            (action, actor, actor_id, case_id, details, fields, justification) = row[:7]
            (object_id, object_type, recipients, recorded_at, stored) = row[7:12]
            if recorded_at is None:
                return None
            document = (
                f'{{"action":{quote(action)},"actor":{quote(actor)},'
                f'"actor_id":{"null" if actor_id is None else int(actor_id)},'
                f'"case_id":{quote(case_id)},"details":{cached(details) or json(details)},'
                f'"fields":{cached(fields) or json(fields)},'
                f'"justification":{quote(justification)},"object_id":{quote(object_id)},'
                f'"object_type":{quote(object_type)},'
                f'"recipients":{cached(recipients) or json(recipients)},'
                f'"recorded_at":"{recorded_at}"}}'
            ).encode()
            if document != stored:
                return None  # the copy is missing, or other bytes than the columns spell
            documents.append(document)
        return documents


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
    documents = encode.stored_documents(rows)
    if documents is None:
        return None
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
