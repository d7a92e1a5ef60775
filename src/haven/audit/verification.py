"""Tamper evidence on the Django side: verify the whole ledger, sign checkpoints, prove entries.

Storage of a signed checkpoint in :class:`~haven.audit.models.Checkpoint`:

* ``tree_size``: number of ledger entries covered (the first ``tree_size`` in id order);
* ``root_hash``: RFC 6962 Merkle tree hash of those entries, 64 lowercase hex characters;
* ``signed_at``: the checkpoint timestamp exactly as signed (``checkpoint.utc_timestamp``);
* ``key_id``: ``checkpoint.key_id_for`` of the signing key (16 hex characters);
* ``signature``: the 64-byte Ed25519 signature over ``checkpoint.checkpoint_message``, in
  standard base64 (88 characters) -- the same encoding as the checkpoint JSON in proofs.

A ledger entry's leaf index is its 0-based position in id order; writers do not serialise, so
checkpoints and verification cover only the entries up to ``snapshot_last_id`` (below every
writer still open: docs/ledger-concurrency.md).  On PostgreSQL ``verify_ledger`` first tries
the fast pass (``haven.audit.fastverify``: the stored canonical copies hashed in parallel
ranges of whole subtrees, while the database holds them equal to the columns, ``copies``),
which only ever vouches for a ledger that is entirely right; otherwise, and on SQLite, it streams
``values_list`` rows (no model instances) through ``ledger.canonical_bytes_from_values``, the
same function that ``ledger.record`` hashes with, and folds the leaf hashes with
``merkle.TreeBuilder`` in bounded memory.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.db import DataError, connection, transaction
from django.db.models import Max

from haven.audit import copies, fastverify, ledger
from haven.audit.checkpoint import (
    Checkpoint as SignedCheckpoint,
)
from haven.audit.checkpoint import (
    find_key,
    key_id_for,
    sign_checkpoint,
    utc_timestamp,
    verify_checkpoint,
)
from haven.audit.merkle import EMPTY_ROOT, TreeBuilder, leaf_hashes_of
from haven.audit.models import Checkpoint, LedgerEntry
from haven.audit.proofdoc import build_proof_document

# Rows are hashed in batches of this many (a multiple of merkle's 1024-leaf chunk, so the
# tree builder folds whole perfect subtrees) and fetched from the database in the same size.
BATCH_SIZE = 4096
FETCH_CHUNK = 5000
# Held while a checkpoint is stored, so two `haven audit checkpoint` runs cannot interleave.
CHECKPOINT_LOCK_KEY = 0x48564350  # "HVCP"

Progress = Callable[[int], None]


class AuditError(Exception):
    """A problem reported on one line (bad input, missing entry, refused operation)."""


class LedgerTamperedError(AuditError):
    """Verification found the ledger or its checkpoints altered; the message says where."""


@dataclass(frozen=True)
class StoredCheckpoint:
    pk: int
    tree_size: int
    root_hash: str
    signed_at: str
    key_id: str
    signature: str
    origin: str = ""

    @property
    def label(self) -> str:
        return f"checkpoint #{self.pk} (tree size {self.tree_size})"

    def signed(self) -> SignedCheckpoint:
        """The pure-code checkpoint; LedgerTamperedError if a stored field is malformed."""
        try:
            root = bytes.fromhex(self.root_hash)
            signature = base64.b64decode(self.signature, validate=True)
        except (ValueError, binascii.Error):
            raise LedgerTamperedError(
                f"{self.label} is malformed: root hash or signature is not valid hex/base64"
            ) from None
        return SignedCheckpoint(
            tree_size=self.tree_size,
            root_hash=root,
            timestamp=self.signed_at,
            key_id=self.key_id,
            signature=signature,
            origin=self.origin,
        )


@dataclass(frozen=True)
class VerificationReport:
    entries: int
    checkpoints: int
    root: bytes
    latest_checkpoint: StoredCheckpoint | None
    newest_checkpoint_pk: int | None  # highest checkpoint id seen when verification started
    # Stored canonical copies that disagree with their (verified) entries: `haven audit
    # verify` warns of them after every other check, so they never mask a worse finding.
    altered_copies: str = ""

    @property
    def uncovered(self) -> int:
        """Entries after the latest checkpoint (not yet signed)."""
        return self.entries - (self.latest_checkpoint.tree_size if self.latest_checkpoint else 0)

    def summary(self) -> str:
        line = (
            f"verified {self.entries} entries, {self.checkpoints} checkpoints, "
            f"root {self.root.hex()}"
        )
        if self.latest_checkpoint is not None:
            line += f" (latest checkpoint #{self.latest_checkpoint.pk}"
            line += f", {self.uncovered} entries since)" if self.uncovered else ", covers all)"
        return line


# --- reading the database ------------------------------------------------------------------


def stored_checkpoints() -> list[StoredCheckpoint]:
    """Every stored checkpoint, in id (signing) order."""
    rows = Checkpoint.objects.order_by("id").values_list(
        "pk", "tree_size", "root_hash", "signed_at", "key_id", "signature", "origin"
    )
    return [StoredCheckpoint(*row) for row in rows]


# How long verification and checkpoints wait for ledger writers that were open when they
# started (a service transaction lasts milliseconds; a bulk load may take longer).
SETTLE_TIMEOUT_S = 30.0
_OPEN_WRITERS_SQL = """
SELECT virtualtransaction FROM pg_locks
WHERE locktype = 'relation' AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()
  AND relation = 'audit_ledgerentry'::regclass
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def snapshot_last_id(timeout: float | None = None) -> int | None:
    """Highest entry id such that every entry up to it has committed (None: empty ledger).

    Writers do not serialise (``ledger.prepare_append``), so on PostgreSQL an entry with a
    lower id can still be in flight when a higher one has committed.  The horizon is read
    without stopping anyone: take the highest visible id, then list the transactions that
    hold ROW EXCLUSIVE on the ledger table (every INSERT takes it before its id is drawn and
    keeps it until commit), and wait until each of them has ended.  Any id at or below the
    first read was drawn by one of those, or has committed or rolled back already.  Writers
    that start later draw higher ids.  AuditError if they are still open after ``timeout``
    seconds (default ``SETTLE_TIMEOUT_S``).  SQLite has one writer at a time and readers see
    only committed rows.
    """
    timeout = SETTLE_TIMEOUT_S if timeout is None else timeout
    last = _last_id()
    if connection.vendor != "postgresql":
        return last
    with connection.cursor() as cursor:
        cursor.execute(_OPEN_WRITERS_SQL)
        open_writers = sorted({row[0] for row in cursor.fetchall()})
        deadline = time.monotonic() + timeout
        pause = 0.001
        while open_writers:
            cursor.execute(
                "SELECT DISTINCT virtualtransaction FROM pg_locks WHERE locktype = 'relation' "
                "AND relation = 'audit_ledgerentry'::regclass AND virtualtransaction = ANY(%s)",
                [open_writers],
            )
            open_writers = sorted(row[0] for row in cursor.fetchall())
            if not open_writers:
                break
            if time.monotonic() >= deadline:
                raise AuditError(
                    f"{len(open_writers)} ledger writer(s) still open after {timeout:g} s "
                    f"(transactions {', '.join(open_writers[:5])}): entries up to id {last} "
                    "cannot be checkpointed yet; run again"
                )
            time.sleep(pause)  # polling: PostgreSQL offers no wait on another transaction
            pause = min(pause * 2, 0.05)
    return last


def _last_id() -> int | None:
    last: int | None = LedgerEntry.objects.aggregate(last=Max("id"))["last"]
    return last


ROW_FIELDS = ("id", "leaf_hash", *ledger.CANONICAL_FIELDS)
_JSON_COLUMNS = tuple(ROW_FIELDS.index(name) for name in ("fields", "recipients", "details"))
_TIME_COLUMN = ROW_FIELDS.index("recorded_at")
_JSON_CACHE_LIMIT = 4096


def _entry_rows(last_id: int | None) -> Generator[tuple[Any, ...], None, None]:
    """(id, leaf_hash, *CANONICAL_FIELDS) tuples in id order, streamed.

    Same SQL and the same Python values as ``values_list(*ROW_FIELDS).iterator()``, but the
    three conversions that matter are done here in bulk (``_convert_rows``) instead of through
    Django's generic per-value converters, which cost more than everything else in a verify.
    ``test_fast_rows_equal_orm_rows`` and the ORM re-check in ``_Verifier`` guard the two paths.
    """
    if last_id is None:
        return
    queryset = LedgerEntry.objects.filter(id__lte=last_id).order_by("id").values_list(*ROW_FIELDS)
    sql, params = queryset.query.sql_with_params()
    with connection.chunked_cursor() as cursor:  # server-side cursor on PostgreSQL
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH_CHUNK):
            yield from _convert_rows(rows)


def orm_rows(last_id: int | None) -> Iterator[tuple[Any, ...]]:
    """The reference (slower) path: Django's own values_list conversion."""
    if last_id is None:
        return iter(())
    queryset = LedgerEntry.objects.filter(id__lte=last_id).order_by("id").values_list(*ROW_FIELDS)
    return queryset.iterator(chunk_size=FETCH_CHUNK)


def _convert_rows(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Database values to what Django's converters return: aware UTC datetimes (SQLite stores
    naive UTC text) and decoded JSON (decoded once per distinct text: most rows repeat a
    few small values such as ``[]``)."""
    cache = _json_cache
    if len(cache) > _JSON_CACHE_LIMIT:
        cache.clear()
    converted = []
    for row in rows:
        values = list(row)
        moment = values[_TIME_COLUMN]
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        values[_TIME_COLUMN] = moment
        for column in _JSON_COLUMNS:
            text = values[column]
            if isinstance(text, str):
                decoded = cache.get(text, _MISSING)
                if decoded is _MISSING:
                    decoded = cache[text] = json.loads(text)
                values[column] = decoded
        converted.append(tuple(values))
    return converted


_MISSING = object()
_json_cache: dict[str, Any] = {}


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    while batch := list(islice(rows, size)):
        yield batch


# --- leaf inputs ---------------------------------------------------------------------------
#
# The verifier consumes "leaf rows": (id, leaf_hash, recorded_at, leaf input bytes, from_stored).
# The leaf input is either re-encoded from the entry's columns (always on SQLite; entries
# written before LedgerEntry.canonical existed) or, on PostgreSQL, the stored canonical bytes
# when the database found them equal to the columns (as JSON values): then nothing is parsed or
# re-encoded in Python. A stored copy that disagrees with its columns is set aside and the row
# re-encoded from its columns, exactly as before the copy existed, so every tamper report
# stays the same; the disagreement itself is reported once the rest verifies.


def _leaf_rows_from_columns(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    canonical_of = ledger.canonical_bytes_from_values
    for row in rows:
        yield (row[0], row[1], row[2], canonical_of(*row[2:]), False)


def _column_leaf_rows(last_id: int | None) -> Generator[tuple[Any, ...], None, None]:
    rows = _entry_rows(last_id)
    try:
        yield from _leaf_rows_from_columns(rows)
    finally:
        rows.close()  # the database cursor, also when verification stops early


# Every key of the canonical document (ledger.canonical_bytes_from_values) and the column it
# must equal: a copy with a key more or less, or one value different, is not used.
_CANONICAL_KEYS = tuple(ledger.CANONICAL_COLUMNS)
_STORED_ROWS_SQL = f"""
SELECT id, leaf_hash, recorded_at,
  CASE WHEN c IS NULL THEN NULL
       WHEN c - ARRAY[{", ".join(f"'{key}'" for key in _CANONICAL_KEYS)}] = '{{}}'::jsonb
        AND (c->>'recorded_at')::timestamptz = recorded_at
        AND c->'actor_id' = COALESCE(to_jsonb(actor_id), 'null'::jsonb)
        AND c->>'actor' = actor_username AND c->>'action' = action
        AND c->>'object_type' = object_type AND c->>'object_id' = object_id
        AND c->>'case_id' = case_id AND c->'fields' = fields AND c->'recipients' = recipients
        AND c->>'justification' = justification AND c->'details' = details
       THEN canonical END,
  canonical IS NOT NULL
FROM (
  SELECT *, convert_from(canonical, 'UTF8')::jsonb AS c FROM audit_ledgerentry WHERE id <= %s
  ORDER BY id OFFSET 0  -- not flattened: each copy is parsed once, not once per comparison
) AS entry
ORDER BY id
"""  # noqa: S608 - no input but an id parameter


class _StoredLeafRows:
    """PostgreSQL: leaf rows from stored canonical bytes, streamed by a server-side cursor;
    rows without a usable copy are re-encoded from their columns in bulk, per batch."""

    def __init__(self, last_id: int | None) -> None:
        self.last_id = last_id
        self.disagreeing: list[int] = []  # ids whose stored copy differs from the columns

    def leaf_rows(self) -> Generator[tuple[Any, ...], None, None]:
        if self.last_id is None:
            return
        with connection.chunked_cursor() as cursor:  # server-side cursor
            cursor.execute(_STORED_ROWS_SQL, [self.last_id])
            while rows := cursor.fetchmany(FETCH_CHUNK):
                yield from self._from_batch(rows)

    def _from_batch(self, rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        missing = [row[0] for row in rows if row[3] is None]
        encoded = self._from_columns(missing) if missing else {}
        leaf_rows = []
        for entry_id, leaf_hash, recorded_at, stored, has_copy in rows:
            if stored is None:
                if has_copy:
                    self.disagreeing.append(entry_id)
                leaf_rows.append(encoded[entry_id])
            else:
                leaf_rows.append((entry_id, leaf_hash, recorded_at, bytes(stored), True))
        return leaf_rows

    def _from_columns(self, ids: list[int]) -> dict[int, tuple[Any, ...]]:
        queryset = (
            LedgerEntry.objects.filter(id__gte=ids[0], id__lte=ids[-1])
            .order_by("id")
            .values_list(*ROW_FIELDS)
        )
        wanted = set(ids)
        rows = _convert_rows([row for row in queryset if row[0] in wanted])
        return {row[0]: row for row in _leaf_rows_from_columns(rows)}


def _stored_copies_disagree(ids: list[int]) -> str:
    shown = ", ".join(str(entry_id) for entry_id in ids[:10])
    more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
    return (
        f"the stored canonical bytes of entry {shown}{more} were altered: they no longer match "
        "the entry, whose content and leaf hash still verify"
    )


# --- verification --------------------------------------------------------------------------


def _confirm_with_orm(entry_id: int, stored_hex: str, from_stored: bool, position: int) -> None:
    """Before reporting tampering, recompute the entry through the model: if that matches,
    either its stored canonical copy was altered (to other bytes of equal JSON value), or the
    fast row conversion is wrong, which is a bug in Haven, not an attack."""
    entry = LedgerEntry.objects.get(pk=entry_id)
    if ledger.leaf_hash_hex(ledger.canonical_bytes(entry)) != stored_hex:
        return
    if from_stored:
        raise LedgerTamperedError(
            f"entry {entry_id} was altered: its stored canonical bytes no longer match its "
            f"leaf hash, though its columns do (position {position})"
        )
    raise AuditError(
        f"internal error: fast verification disagrees with the model for entry {entry_id}"
    )


class _Verifier:
    """One streaming pass over the ledger, checking checkpoints as their sizes are reached."""

    def __init__(
        self, keys: dict[str, Ed25519PublicKey], checkpoints: Sequence[StoredCheckpoint]
    ) -> None:
        self.keys = keys
        self.newest_pk = max((cp.pk for cp in checkpoints), default=None)
        self.pending = deque(sorted(checkpoints, key=lambda cp: (cp.tree_size, cp.pk)))
        self.builder = TreeBuilder()
        self.position = 0
        self.matched: StoredCheckpoint | None = None  # last checkpoint that verified
        self.verified = 0
        # Diagnostics for the span after the last matching checkpoint.
        self.span_first_id: int | None = None
        self.span_last_id: int | None = None
        self.out_of_order_id: int | None = None
        self.previous_time: datetime | None = None

    def feed(self, batch: list[tuple[Any, ...]]) -> None:
        """Take a batch of leaf rows (id, leaf_hash, recorded_at, leaf input, from_stored)."""
        ids = [row[0] for row in batch]
        leaves = leaf_hashes_of([row[3] for row in batch])
        stored = [row[1] for row in batch]
        if b"".join(leaves).hex() != "".join(stored):  # one comparison per batch
            for index, (leaf, stored_hex) in enumerate(zip(leaves, stored, strict=True)):
                if leaf.hex() != stored_hex:
                    position = self.position + index
                    _confirm_with_orm(ids[index], stored_hex, batch[index][4], position)
                    raise LedgerTamperedError(
                        f"entry {ids[index]} was altered: its content no longer matches its "
                        f"leaf hash (position {self.position + index})"
                    )
        offset = 0
        while True:
            checkpoint = None
            limit = len(batch)
            if self.pending and self.pending[0].tree_size <= self.position + limit - offset:
                checkpoint = self.pending.popleft()
                limit = offset + checkpoint.tree_size - self.position
            self._note_span(batch, offset, limit)
            self.builder.extend(leaves[offset:limit])
            self.position += limit - offset
            offset = limit
            if checkpoint is None:
                return
            self._check(checkpoint)
            self.span_first_id = self.span_last_id = self.out_of_order_id = None

    def finish(self) -> VerificationReport:
        self.feed([])  # checkpoints of size 0, or equal to the ledger size
        if self.pending:
            checkpoint = self.pending[0]
            self._check_signature(checkpoint)
            message = (
                f"ledger has {self.position} entries but checkpoint #{checkpoint.pk} was signed "
                f"over {checkpoint.tree_size}: entries were deleted"
            )
            if self.matched is not None:
                message += (
                    f" at or after position {self.matched.tree_size} "
                    f"({self.matched.label} still matches)"
                )
            raise LedgerTamperedError(message)
        return VerificationReport(
            entries=self.position,
            checkpoints=self.verified,
            root=self.builder.root() if self.position else EMPTY_ROOT,
            latest_checkpoint=self.matched,
            newest_checkpoint_pk=self.newest_pk,
        )

    def _note_span(self, batch: list[tuple[Any, ...]], start: int, stop: int) -> None:
        """Track the ids since the last matching checkpoint and the first entry recorded
        earlier than its predecessor (a hint for where rows were moved or forged)."""
        if start >= stop:
            return
        if self.span_first_id is None:
            self.span_first_id = batch[start][0]
        self.span_last_id = batch[stop - 1][0]
        previous = self.previous_time
        if self.out_of_order_id is None:
            for row in islice(batch, start, stop):
                if previous is not None and row[2] < previous:
                    self.out_of_order_id = row[0]
                    break
                previous = row[2]
        self.previous_time = batch[stop - 1][2]

    def _check_signature(self, checkpoint: StoredCheckpoint) -> SignedCheckpoint:
        signed = checkpoint.signed()
        key = find_key(signed, self.keys.values())
        if key is None:
            known = ", ".join(sorted(self.keys)) or "none"
            raise LedgerTamperedError(
                f"{checkpoint.label} was signed by unknown key {signed.key_id} (known: {known})"
            )
        if not verify_checkpoint(key, signed):
            raise LedgerTamperedError(
                f"{checkpoint.label} has an invalid signature: its tree size, root hash or "
                "time was altered after signing"
            )
        return signed

    def _check(self, checkpoint: StoredCheckpoint) -> None:
        signed = self._check_signature(checkpoint)
        root = self.builder.root() if checkpoint.tree_size else EMPTY_ROOT
        if root != signed.root_hash:
            raise LedgerTamperedError(self._mismatch(checkpoint))
        # Consistency with the previous checkpoint: sizes never decrease in signing order
        # (_check_checkpoint_order) and both roots were just recomputed from one leaf
        # sequence, so the older tree is a prefix of this one (RFC 9162 §2.1.4).  Explicit
        # consistency proofs are what `prove` emits for outside verifiers.
        self.matched = checkpoint
        self.verified += 1

    def _mismatch(self, checkpoint: StoredCheckpoint) -> str:
        size = checkpoint.tree_size
        message = (
            f"ledger no longer matches {checkpoint.label}: entries were inserted, deleted or "
            f"reordered at or before position {size}"
        )
        start = self.matched.tree_size if self.matched else 0
        if self.matched is not None:
            message += f"; {self.matched.label} still matches"
        message += f", so the first change is at positions {start}..{size - 1}"
        if self.span_first_id is not None and self.span_last_id is not None:
            message += f" (entry ids {self.span_first_id}..{self.span_last_id})"
        if self.out_of_order_id is not None:
            message += (
                f"; entry {self.out_of_order_id} is recorded earlier than the entry before it"
            )
        return message


def verify_ledger(
    keys: dict[str, Ed25519PublicKey],
    progress: Progress | None = None,
    from_columns: bool = False,
) -> VerificationReport:
    """Recompute every leaf and every checkpoint root; raise LedgerTamperedError on the first
    problem (entry content, checkpoint signature, checkpoint root, checkpoint order).

    ``keys`` maps key id to public key (several when the signing key was rotated).
    ``progress`` is called with the number of entries processed after each batch.
    ``from_columns``: spell every leaf here from the entry's columns, trusting no stored copy,
    constraint or SQL function (slower; what SQLite always does).
    """
    checkpoints = stored_checkpoints()  # read first: they cover only committed entries
    _check_checkpoint_order(checkpoints)
    last_id = snapshot_last_id()
    if connection.vendor == "postgresql" and not from_columns:
        fast = _fast_verify(keys, checkpoints, last_id)
        if fast is not None:
            if progress is not None:
                progress(fast.entries)
            return fast
        try:
            # A savepoint (or a transaction of its own): a stored copy that is not even UTF-8
            # JSON fails the query, and the columns-only pass below must still be able to run.
            with transaction.atomic():
                return _verify_rows(keys, checkpoints, _StoredLeafRows(last_id), progress)
        except DataError:
            # Only an altered copy is not JSON (or holds no time): verify from the columns
            # alone, and if they verify, report the copy.
            report = _verify_rows(keys, checkpoints, None, progress, last_id)
            return replace(
                report,
                altered_copies="the stored canonical bytes of an entry were altered: they are "
                "no longer JSON of a ledger entry; the entries' content, leaf hashes and "
                "checkpoints verify",
            )
    return _verify_rows(keys, checkpoints, None, progress, last_id)


# Parallel ranges for the fast path (fastverify): at most this many connections at once.
MAX_VERIFY_WORKERS = 4


def _fast_verify(
    keys: dict[str, Ed25519PublicKey],
    checkpoints: Sequence[StoredCheckpoint],
    last_id: int | None,
) -> VerificationReport | None:
    """The whole ledger verified by ``fastverify`` (PostgreSQL), or None whenever anything
    is not exactly right: the reference pass then runs and says what."""
    if last_id is None or not copies.enforced(connection):
        return None
    ranges = _fast_ranges(last_id, checkpoints)
    if connection.in_atomic_block:
        # The caller's transaction may hold entries other connections cannot see: one range,
        # on this connection, in a savepoint (a failed query must not end the transaction).
        try:
            with transaction.atomic():
                results = [fastverify.hash_range(connection.connection, *ranges[0][1:])]
        except Exception:  # noqa: BLE001 - any failure: the reference pass decides
            return None
    else:
        params = connection.get_connection_params()
        results = fastverify.hash_ranges(
            # Django's own connection parameters; never its pool (these are closed after use).
            lambda: psycopg.connect(**params),
            [bound[1:] for bound in ranges],
        )
    return _fold_ranges(keys, checkpoints, ranges, results)


def _fast_ranges(
    last_id: int, checkpoints: Sequence[StoredCheckpoint], workers: int | None = None
) -> list[tuple[int, int, int, frozenset[int]]]:
    """(first position, first id, last id, chunks whose leaves a checkpoint needs) per range;
    ranges start at multiples of the chunk size so that each hashes whole subtrees."""
    chunk = fastverify.CHUNK
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), min(id) FROM audit_ledgerentry WHERE id <= %s", [last_id])
        count, first_id = cursor.fetchone()
    if workers is None:
        workers = 1
        if not connection.in_atomic_block:
            workers = max(1, min(MAX_VERIFY_WORKERS, count // fastverify.MIN_RANGE))
    per_range = -(-count // workers // chunk) * chunk  # whole chunks, rounded up
    starts = [0]
    ids = [first_id]
    with connection.cursor() as cursor:
        for position in range(per_range, count, per_range):
            cursor.execute(
                "SELECT id FROM audit_ledgerentry WHERE id <= %s ORDER BY id OFFSET %s LIMIT 1",
                [last_id, position],
            )
            starts.append(position)
            ids.append(cursor.fetchone()[0])
    partial = {cp.tree_size // chunk for cp in checkpoints if cp.tree_size % chunk}
    ranges = []
    for index, (start, first) in enumerate(zip(starts, ids, strict=True)):
        last = ids[index + 1] - 1 if index + 1 < len(ids) else last_id
        base = start // chunk
        keep = frozenset(c - base for c in partial if c >= base)
        ranges.append((start, first, last, keep))
    return ranges


def _fold_ranges(
    keys: dict[str, Ed25519PublicKey],
    checkpoints: Sequence[StoredCheckpoint],
    ranges: Sequence[tuple[int, int, int, frozenset[int]]],
    results: Sequence[fastverify.RangeResult | None],
) -> VerificationReport | None:
    chunk = fastverify.CHUNK
    pending = deque(sorted(checkpoints, key=lambda cp: (cp.tree_size, cp.pk)))
    builder = TreeBuilder()
    matched: StoredCheckpoint | None = None
    verified = 0

    def reached() -> bool:
        """Check the checkpoints of the current size; False if one does not verify."""
        nonlocal matched, verified
        while pending and pending[0].tree_size <= builder.size:
            checkpoint = pending.popleft()
            if checkpoint.tree_size != builder.size:
                return False
            try:
                signed = checkpoint.signed()
            except LedgerTamperedError:
                return False
            key = find_key(signed, keys.values())
            root = builder.root() if builder.size else EMPTY_ROOT
            if key is None or not verify_checkpoint(key, signed) or root != signed.root_hash:
                return False
            matched = checkpoint
            verified += 1
        return True

    if not reached():
        return None
    for (start, *_), result in zip(ranges, results, strict=True):
        if result is None or builder.size != start:
            return None
        for index, root in enumerate(result.roots):
            if index in result.kept:
                for leaf in result.kept[index]:
                    builder.append(leaf)
                    if not reached():
                        return None
            else:
                builder.append_subtree(root, chunk)
                if not reached():
                    return None
        for leaf in result.tail:
            builder.append(leaf)
            if not reached():
                return None
    if pending:
        return None  # checkpoints over more entries than there are: the reference pass says
    return VerificationReport(
        entries=builder.size,
        checkpoints=verified,
        root=builder.root() if builder.size else EMPTY_ROOT,
        latest_checkpoint=matched,
        newest_checkpoint_pk=max((cp.pk for cp in checkpoints), default=None),
    )


def _verify_rows(
    keys: dict[str, Ed25519PublicKey],
    checkpoints: Sequence[StoredCheckpoint],
    stored: _StoredLeafRows | None,
    progress: Progress | None,
    last_id: int | None = None,
) -> VerificationReport:
    verifier = _Verifier(keys, checkpoints)
    rows = stored.leaf_rows() if stored is not None else _column_leaf_rows(last_id)
    try:
        for batch in _batches(rows, BATCH_SIZE):
            verifier.feed(batch)
            if progress is not None:
                progress(len(batch))
    finally:
        rows.close()  # release the database cursor even when verification stops early
    report = verifier.finish()
    if stored is not None and stored.disagreeing:
        return replace(report, altered_copies=_stored_copies_disagree(stored.disagreeing))
    return report


def _check_checkpoint_order(checkpoints: Sequence[StoredCheckpoint]) -> None:
    for earlier, later in pairwise(checkpoints):
        if later.tree_size < earlier.tree_size:
            raise LedgerTamperedError(
                f"{later.label} is smaller than the earlier {earlier.label}: checkpoints were "
                "altered or the ledger was rolled back"
            )


def check_unsigned_age(report: VerificationReport, max_age: timedelta, now: datetime) -> None:
    """Fail when entries have waited too long for a checkpoint, or when a non-empty ledger
    has none at all: both are what deleting the newest checkpoints leaves behind.

    Deleting the newest entries together with every checkpoint that covers them leaves a
    consistent, signed, older ledger: only a trusted checkpoint (or a witness) catches that.
    """
    latest = report.latest_checkpoint
    covered = latest.tree_size if latest is not None else 0
    if report.entries <= covered:
        return
    first_id, recorded_at = LedgerEntry.objects.order_by("id").values_list("id", "recorded_at")[
        covered
    ]
    if latest is None:
        raise LedgerTamperedError(
            f"ledger has {report.entries} entries but no checkpoint: every checkpoint was "
            f"deleted or none was signed (first unsigned entry {first_id}); "
            "run `haven audit checkpoint` on a ledger you trust"
        )
    waited = now - recorded_at
    if waited > max_age:
        raise LedgerTamperedError(
            f"entry {first_id} (position {covered}) has waited {_seconds(waited)} s for a "
            f"checkpoint, longer than the {_seconds(max_age)} s allowed after {latest.label}: "
            "newer checkpoints were deleted, or `haven audit checkpoint` is not running"
        )


def check_trusted_checkpoint(
    report: VerificationReport,
    trusted: SignedCheckpoint,
    keys: dict[str, Ed25519PublicKey],
) -> None:
    """Rollback and fork detection against a checkpoint kept outside the database.

    Run after ``verify_ledger`` passed, so every stored leaf hash matches its entry."""
    label = f"trusted checkpoint (tree size {trusted.tree_size}"
    label += f", signed {trusted.timestamp})" if trusted.timestamp else f", {trusted.origin})"
    key = find_key(trusted, keys.values())
    if key is None:
        raise LedgerTamperedError(f"{label} was signed by unknown key {trusted.key_id}")
    if not verify_checkpoint(key, trusted):
        raise LedgerTamperedError(f"{label} has an invalid signature")
    if report.entries < trusted.tree_size:
        raise LedgerTamperedError(
            f"ledger has {report.entries} entries but the {label} covers "
            f"{trusted.tree_size}: the ledger was rolled back (entries deleted from position "
            f"{report.entries})"
        )
    builder = TreeBuilder()
    builder.extend(stored_leaf_hashes(trusted.tree_size))
    root = builder.root() if trusted.tree_size else EMPTY_ROOT
    if root != trusted.root_hash:
        raise LedgerTamperedError(
            f"the first {trusted.tree_size} entries no longer reproduce the {label}: the "
            "ledger forked (entries rewritten, inserted, deleted or reordered at or before "
            f"position {trusted.tree_size})"
        )


def _seconds(span: timedelta) -> int:
    return int(span.total_seconds())


def public_keys_by_id(public_keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    return {key_id_for(key): key for key in public_keys}


# --- checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointResult:
    report: VerificationReport
    created: StoredCheckpoint | None  # None: ledger unchanged, nothing signed


def create_checkpoint(
    private_key: Ed25519PrivateKey,
    extra_public_keys: Iterable[Ed25519PublicKey] = (),
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> CheckpointResult:
    """Verify the whole ledger, then sign and store a checkpoint of its current size.

    Refuses (LedgerTamperedError) if anything fails verification: a tampered ledger must never
    be re-signed.  Without ``force``, nothing is signed when no entry was added since the
    latest checkpoint.
    """
    keys = public_keys_by_id([private_key.public_key(), *extra_public_keys])
    try:
        # The checkpoint signs leaf hashes of the columns: hashed from the stored copies when
        # the database holds them equal (copies.enforced), else recomputed from the columns,
        # with a disagreeing copy left for `haven audit verify` to report.
        report = verify_ledger(keys, progress)
    except LedgerTamperedError as error:
        raise LedgerTamperedError(f"refusing to sign a checkpoint: {error}") from None
    latest = report.latest_checkpoint
    if latest is not None and latest.tree_size == report.entries and not force:
        return CheckpointResult(report, None)
    signed = sign_checkpoint(
        private_key, report.entries, report.root, utc_timestamp(), settings.LEDGER_ORIGIN
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHECKPOINT_LOCK_KEY])
        newest = Checkpoint.objects.order_by("-id").values_list("pk", flat=True).first()
        if newest != report.newest_checkpoint_pk:
            raise AuditError(
                f"checkpoint #{newest} was signed while this one was being computed: run again"
            )
        row = Checkpoint.objects.create(
            tree_size=signed.tree_size,
            root_hash=signed.root_hash.hex(),
            signed_at=signed.timestamp,
            key_id=signed.key_id,
            signature=base64.b64encode(signed.signature).decode("ascii"),
            origin=signed.origin,
        )
    created = StoredCheckpoint(
        row.pk, row.tree_size, row.root_hash, row.signed_at, row.key_id, row.signature, row.origin
    )
    return CheckpointResult(report, created)


# --- proofs --------------------------------------------------------------------------------


def prove_entry(entry_id: int, since: int | None = None) -> dict[str, Any]:
    """The haven-proof/v1 document for ledger entry ``entry_id`` (its id, not its position).

    The consistency chain runs from the first checkpoint that covers the entry (or, with
    ``since``, from the checkpoint of that size: the one the verifier already trusts) to the
    newest, in one step each: a consistency proof spans any two sizes."""
    checkpoints = stored_checkpoints()
    values = LedgerEntry.objects.filter(pk=entry_id).values_list(*ledger.CANONICAL_FIELDS).first()
    if values is None:
        raise AuditError(f"no ledger entry {entry_id}")
    position = LedgerEntry.objects.filter(pk__lt=entry_id).count()
    covering = [cp for cp in checkpoints if cp.tree_size > position]
    if not covering:
        raise AuditError(
            f"entry {entry_id} is not covered by a checkpoint yet: run `haven audit checkpoint`"
        )
    size = max(cp.tree_size for cp in covering)
    chain_start = min(cp.tree_size for cp in covering)
    if since is not None:
        if not any(cp.tree_size == since for cp in checkpoints) or since > size:
            raise AuditError(f"no checkpoint of tree size {since} to prove from")
        chain_start = since
    by_size = {cp.tree_size: cp for cp in reversed(checkpoints)}  # the first signed per size
    covering = [by_size[chain_start], by_size[size]]
    leaf_hashes = stored_leaf_hashes(size)
    if len(leaf_hashes) < size:
        raise AuditError(
            f"cannot prove entry {entry_id}: the ledger has {len(leaf_hashes)} entries but "
            f"checkpoint of size {size} exists: run `haven audit verify`"
        )
    canonical = ledger.canonical_bytes_from_values(*values)
    fields = {"id": entry_id, **json.loads(canonical)}
    try:
        return build_proof_document(
            position, canonical, fields, leaf_hashes, [cp.signed() for cp in covering]
        )
    except ValueError as error:
        raise AuditError(
            f"cannot prove entry {entry_id}: {error}: run `haven audit verify`"
        ) from None


def stored_leaf_hashes(count: int) -> list[bytes]:
    hexes = LedgerEntry.objects.order_by("id").values_list("leaf_hash", flat=True)[:count]
    try:
        return [bytes.fromhex(value) for value in hexes.iterator(chunk_size=FETCH_CHUNK)]
    except ValueError:
        raise AuditError("a stored leaf hash is not hex: run `haven audit verify`") from None
