"""Writing to the ledger. Entries join the caller's transaction: no change without its entry.

The caller is a service or selector running in ``@service``; an entry written anywhere else
is refused, in tests too (where pytest-django's own transaction would otherwise hide it).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any, NotRequired, TypedDict, Unpack

import psycopg
from django.db import connection
from django.db.models import Field
from django.utils import timezone

from haven.access.purposes import Purpose
from haven.concurrency.transactions import in_service
from haven.vault import bulk, crypto
from haven.vault.keyring import get_keyring, keyring_with

from .models import Action, LedgerEntry

# Appends are NOT serialised (docs/ledger-concurrency.md): on PostgreSQL writers commit in any
# order, so an entry may commit after one with a higher id.  Checkpoints and verification
# therefore only cover entries below every writer still open (``verification.snapshot_last_id``
# finds them in pg_locks: every INSERT holds ROW EXCLUSIVE on the ledger table from before its
# id is drawn until its transaction ends), and no writer waits for another.
# Entries that carry access-control state (details["state"], replayed in id order by
# ``haven audit verify --state``) still take this advisory lock until commit, so among
# themselves id order stays commit order; they are rare (administration) and cap nothing else.
# SQLite serialises writers already.
LEDGER_LOCK_KEY = 0x4841564E  # "HAVN"


def prepare_append(*, ordered: bool) -> None:
    """Run in the writer's transaction before ledger rows are inserted (record, bulk loads):
    ``ordered`` (state-carrying entries) takes the ledger's advisory lock until commit."""
    if ordered and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])


class LedgerError(RuntimeError):
    pass


# Looked up on every append: TextChoices.values builds a new list on each access.
_ACTIONS = frozenset(Action.values)
_PURPOSES = frozenset(Purpose.values)


# The keys of an entry's canonical document and the ledger column each holds, in the parameter
# order of canonical_bytes_from_values(): ``values_list(*CANONICAL_FIELDS)`` rows can be
# splatted into it.
CANONICAL_COLUMNS = {
    "recorded_at": "recorded_at",
    "actor_id": "actor_id",
    "actor": "actor_username",
    "action": "action",
    "object_type": "object_type",
    "object_id": "object_id",
    "case_id": "case_id",
    "fields": "fields",
    "recipients": "recipients",
    "justification": "justification",
    "details": "details",
}
CANONICAL_FIELDS = tuple(CANONICAL_COLUMNS.values())
# Same output as json.dumps(..., sort_keys=True, separators=(",", ":"), ensure_ascii=False),
# without building a new encoder per call (verify runs this once per ledger entry).
_encode_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False
).encode


def canonical_bytes_from_values(
    recorded_at: datetime.datetime,
    actor_id: int | None,
    actor_username: str,
    action: str,
    object_type: str,
    object_id: str,
    case_id: str,
    fields: Any,
    recipients: Any,
    justification: str,
    details: Any,
) -> bytes:
    """Canonical bytes from column values (a ``values_list(*CANONICAL_FIELDS)`` row).

    The one definition of the leaf input: :func:`canonical_bytes` calls it too, so a bulk
    verify that never instantiates models cannot drift from what :func:`record` hashed.
    """
    document = {
        "recorded_at": recorded_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor_username,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "case_id": case_id,
        "fields": fields,
        "recipients": recipients,
        "justification": justification,
        "details": details,
    }
    return _encode_canonical(document).encode()


def canonical_bytes(entry: LedgerEntry) -> bytes:
    """The exact bytes hashed into the Merkle tree (RFC 6962 leaf input)."""
    return canonical_bytes_from_values(
        entry.recorded_at,
        entry.actor_id,
        entry.actor_username,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.case_id,
        entry.fields,
        entry.recipients,
        entry.justification,
        entry.details,
    )


def leaf_hash_hex(canonical: bytes) -> str:
    return hashlib.sha256(b"\x00" + canonical).hexdigest()


# --- sealing: no free text in clear --------------------------------------------------------
#
# The ledger is permanent and replicated to whoever checks it, so it must not hold personal
# text in clear. ``record`` keeps in clear only what is structured: actor, action, object, case,
# field names, recipients (usernames), a purpose code as justification, and detail values under
# an allow-listed key that look like identifiers, codes, counts or times. Everything else (typed
# reasons, system phrases, free-text details) goes into one vault token under ``details["sealed"]``,
# so the leaf hash commits to the ciphertext and verification needs no key.

SEALED_KEY = "sealed"
# Access-control changes for `haven audit verify --state` (haven.audit.state): lists of ids,
# codes and times, kept in clear so that the replay needs no key.
STATE_KEY = "state"
SEALED_COLUMN = "details.sealed"

# Detail keys whose values are structured (ids, codes, counts, times, usernames); a value under
# one of them stays clear only if it also has the shape of one (see _is_structured).
CLEAR_DETAIL_KEYS = frozenset(
    {
        # identifiers of objects and people (usernames, like actor_username, are clear)
        "asset",
        "asset_id",
        "assessments",
        "cases",
        "complaint",
        "decisions",
        "document",
        "device",
        "entries",
        "measures",
        "members",
        "people",
        "records",
        "reference",
        "tasks",
        "assets",
        "user",
        "username",
        "object_id",
        "grant",
        "sequence",
        "version",
        "model",
        "panel_model",
        # codes and states
        "action",
        "event",
        "format",
        "from",
        "to",
        "kind",
        "key",
        "method",
        "report",
        "route",
        "routing",
        "status",
        "team_role",
        "view",
        "object_type",
        "roles",
        "clearance",
        "classification",
        "sensitive",
        "seat",
        "op",
        "late",
        "in_time",
        # security events (haven.accounts): codes, token ids, the refused route, a name digest
        "factor",
        "token",
        "target",
        "name_digest",
        "until",
        "refusals_in_window",
        "tokens",
        # counts, sizes, hashes, seeds
        "count",
        "escalation_level",
        "level",
        "page",
        "positions",
        "rows",
        "seconds_to_acknowledge",
        "sha256",
        "shifts",
        "size",
        "threshold",
        "seed",
        "n",
        # times and dates
        "before",
        "date_from",
        "date_to",
        "ends_at",
        "event_time",
        "expires_at",
        "on",
        "sent_on",
        "starts_at",
        "effective_date",
    }
)
# No spaces: an identifier, code, number or ISO time, never a sentence or a name and address.
_STRUCTURED_TEXT = re.compile(r"[A-Za-z0-9_.:+/-]{0,100}")


def _is_structured(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | float):
        return True
    if isinstance(value, str):
        return bool(_STRUCTURED_TEXT.fullmatch(value))
    if isinstance(value, list | tuple):
        return all(
            not isinstance(item, list | tuple | dict) and _is_structured(item) for item in value
        )
    return False


def _is_state(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(change, list)
        and bool(change)
        and all(_is_structured(item) and not isinstance(item, list | tuple) for item in change)
        for change in value
    )


def split_free_text(
    justification: str, details: Mapping[str, Any]
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(clear justification, clear details, secret payload): what stays searchable and what
    must be sealed. A justification stays clear only as a purpose code."""
    if SEALED_KEY in details:
        raise LedgerError(f"details key {SEALED_KEY!r} is reserved for the sealed payload")
    secret: dict[str, Any] = {}
    clear_justification = justification if justification in _PURPOSES else ""
    if justification and not clear_justification:
        secret["justification"] = justification
    clear: dict[str, Any] = {}
    sealed_details: dict[str, Any] = {}
    for key, value in details.items():
        if key == STATE_KEY and _is_state(value):
            clear[key] = value
        elif key in CLEAR_DETAIL_KEYS and _is_structured(value):
            clear[key] = list(value) if isinstance(value, tuple) else value
        else:
            sealed_details[key] = value
    if sealed_details:
        secret["details"] = sealed_details
    return clear_justification, clear, secret


# The clear fields that identify an entry to its seal (the database id is not known before
# the insert), by attribute name.
_SEAL_IDENTITY = (
    "recorded_at",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "case_id",
)


def _seal_row_id(values: Mapping[str, Any]) -> str:
    """The entry's identity for the seal's associated data, from its clear fields' values. A
    sealed token moved to another entry fails to open."""
    identity = {
        "recorded_at": values["recorded_at"]
        .astimezone(datetime.UTC)
        .isoformat(timespec="microseconds"),
        "actor_id": values["actor_id"],
        "actor": values["actor_username"],
        "action": values["action"],
        "object_type": values["object_type"],
        "object_id": values["object_id"],
        "case_id": values["case_id"],
    }
    return hashlib.sha256(_encode_canonical(identity).encode()).hexdigest()


def _seal_aad(entry: LedgerEntry) -> bytes:
    identity = {name: getattr(entry, name) for name in _SEAL_IDENTITY}
    return crypto.field_aad(LedgerEntry._meta.db_table, SEALED_COLUMN, _seal_row_id(identity))


def is_sealed(entry: LedgerEntry) -> bool:
    return isinstance(entry.details, dict) and SEALED_KEY in entry.details


def open_sealed(entry: LedgerEntry) -> dict[str, Any]:
    """The sealed justification and details of an entry ({} when nothing was sealed).

    Callers must be the auditor's selector, which ledgers the opening; raises
    ``haven.vault.crypto.VaultIntegrityError`` if the token was altered or moved."""
    if not is_sealed(entry):
        return {}
    token = str(entry.details[SEALED_KEY])
    ring = keyring_with(crypto.key_id_of(token))
    opened: dict[str, Any] = json.loads(ring.decrypt(token, _seal_aad(entry)))
    return opened


class EntryFacts(TypedDict):
    """What one entry says (the keywords of :func:`record`)."""

    actor: Any
    action: str
    object_type: str
    object_id: object
    fields: NotRequired[Iterable[str]]
    recipients: NotRequired[Iterable[str]]
    justification: NotRequired[str]
    case_id: NotRequired[object]
    details: NotRequired[Mapping[str, Any] | None]


class EntryRow(EntryFacts):
    """What one entry says and when (the keywords of :func:`new_entry`, a row of
    :func:`new_entries`)."""

    recorded_at: datetime.datetime


_ENTRY_KEYS = frozenset(EntryRow.__annotations__)
_REQUIRED_KEYS = frozenset({"actor", "action", "object_type", "object_id", "recorded_at"})


def new_entry(**row: Unpack[EntryRow]) -> LedgerEntry:
    """An unsaved, hashed entry with its free text sealed (``record`` and bulk loaders)."""
    values, secret = _clear_values(row)
    if secret:
        aad = crypto.field_aad(LedgerEntry._meta.db_table, SEALED_COLUMN, _seal_row_id(values))
        values["details"][SEALED_KEY] = get_keyring().encrypt(_encode_canonical(secret), aad)
    _hash(values)
    return LedgerEntry(**values)


def new_entries(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The column values (by attribute name) of the entries :func:`new_entry` makes from each
    row of its keyword arguments, for :func:`append_many`: the same clear fields, seal and leaf
    hash, without a model instance per entry, and the free text of them all sealed in one pass
    of the key ring (bulk loaders: a million entries)."""
    made = [_clear_values(row) for row in rows]
    sealing = [(values, secret) for values, secret in made if secret]
    if sealing:
        tokens = get_keyring().encrypt_column(
            LedgerEntry._meta.db_table,
            SEALED_COLUMN,
            [_encode_canonical(secret) for _, secret in sealing],
            [crypto.row_aad(_seal_row_id(values)) for values, _ in sealing],
        )
        for (values, _), token in zip(sealing, tokens, strict=True):
            values["details"][SEALED_KEY] = token
    for values, _ in made:
        _hash(values)
    return [values for values, _ in made]


def _clear_values(row: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(an entry's column values before its seal and hash, the secret payload to seal)."""
    unknown, missing = row.keys() - _ENTRY_KEYS, _REQUIRED_KEYS - row.keys()
    if unknown or missing:
        raise TypeError(f"ledger entry: unknown {sorted(unknown)}, missing {sorted(missing)}")
    action = row["action"]
    if action not in _ACTIONS:
        raise LedgerError(f"unknown ledger action {action!r}")
    clear_justification, clear_details, secret = split_free_text(
        row.get("justification", ""), row.get("details") or {}
    )
    actor = row["actor"]
    values = {
        "recorded_at": row["recorded_at"],
        "actor_id": getattr(actor, "pk", None),
        "actor_username": getattr(actor, "username", "") or "system",
        "action": action,
        "object_type": row["object_type"],
        "object_id": str(row["object_id"]),
        "case_id": str(row.get("case_id") or ""),
        "fields": sorted(row.get("fields", ())),
        "recipients": list(row.get("recipients", ())),
        "justification": clear_justification,
        "details": clear_details,
    }
    return values, secret


def _hash(values: dict[str, Any]) -> None:
    canonical = canonical_bytes_from_values(*(values[name] for name in CANONICAL_FIELDS))
    values["leaf_hash"] = leaf_hash_hex(canonical)
    values["canonical"] = canonical


def append_many(entries: Iterable[LedgerEntry | Mapping[str, Any]]) -> int:
    """Append entries made by :func:`new_entry` or :func:`new_entries` (bulk loaders: the
    demo, benches) in the caller's transaction, in the order given: the same rows ``record``
    would write, taking the ledger's lock as ``record`` does when one of them carries
    access-control state, streamed by COPY on PostgreSQL (``haven.vault.bulk``). Ids, and so
    Merkle positions, follow the order of `entries`. Returns how many were written."""
    rows = [entry.__dict__ if isinstance(entry, LedgerEntry) else entry for entry in entries]
    if not rows:
        return 0
    prepare_append(ordered=any(STATE_KEY in row["details"] for row in rows))
    fields = _written()
    # No field of the ledger computes its value on save (pre_save returns the attribute).
    columns = [
        bulk.prepared_column(f, [row[f.attname] for row in rows], connection) for f in fields
    ]
    bulk.write_rows(
        connection,
        LedgerEntry._meta.db_table,
        [f.column for f in fields],
        list(zip(*columns, strict=True)),
    )
    return len(rows)


def record(**facts: Unpack[EntryFacts]) -> LedgerEntry:
    """Append one entry in the caller's transaction. ``justification`` and every detail not
    on the structured allow-list are sealed by the vault before they reach the database."""
    if not in_service():
        raise LedgerError(
            "ledger entries must be written inside the transaction of the change: "
            "run the service or selector in @service (haven.concurrency.transactions)"
        )
    if facts["action"] not in _ACTIONS:
        raise LedgerError(f"unknown ledger action {facts['action']!r}")
    prepare_append(ordered=STATE_KEY in (facts.get("details") or {}))
    entry = new_entry(recorded_at=timezone.now(), **facts)
    _insert(entry)
    return entry


def _insert(entry: LedgerEntry) -> None:
    """Write one new entry, as ``save(force_insert=True)`` writes it. On PostgreSQL by a
    statement whose text never changes, its values bound on the server (psycopg prepares it
    once it has run a few times): save() compiled the INSERT and quoted the entry's values into
    its text afresh each time, ~0.15 ms of every logged read and change. The values are those
    :func:`append_many` writes (``bulk.prepared_column``)."""
    if connection.vendor != "postgresql":
        entry.save(force_insert=True)
        return
    data = entry.__dict__
    values = [bulk.prepared_column(f, [data[f.attname]], connection)[0] for f in _written()]
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_insert_sql(), values)
        (entry.pk,) = cursor.fetchone()  # type: ignore[misc]
    entry._state.adding = False
    entry._state.db = connection.alias


@cache
def _written() -> tuple[Field[Any, Any], ...]:
    """The ledger's columns an append writes: all but the id, which the database draws."""
    return tuple(f for f in LedgerEntry._meta.concrete_fields if not f.primary_key)


@cache
def _insert_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in _written())
    marks = ", ".join(["%s"] * len(_written()))
    table, pk = quote(LedgerEntry._meta.db_table), quote(LedgerEntry._meta.pk.column)
    return f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
