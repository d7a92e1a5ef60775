"""Writing to the ledger. Entries join the caller's transaction: no change without its entry.

The caller is a service or selector running in ``@service``; an entry written anywhere else
is refused, in tests too (where pytest-django's own transaction would otherwise hide it).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.utils import timezone

from haven.concurrency.transactions import in_service

from .models import Action, LedgerEntry

# Appends are serialised so that id order equals commit order; otherwise a signed checkpoint
# could later gain an earlier entry that committed late. SQLite serialises writers already.
LEDGER_LOCK_KEY = 0x4841564E  # "HAVN"


class LedgerError(RuntimeError):
    pass


# The ledger columns that make up an entry's canonical bytes, in the parameter order of
# canonical_bytes_from_values(): ``values_list(*CANONICAL_FIELDS)`` rows can be splatted into it.
CANONICAL_FIELDS = (
    "recorded_at",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "case_id",
    "fields",
    "recipients",
    "justification",
    "details",
)
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


def record(
    *,
    actor: Any,
    action: str,
    object_type: str,
    object_id: object,
    fields: Iterable[str] = (),
    recipients: Iterable[str] = (),
    justification: str = "",
    case_id: object = "",
    details: dict[str, Any] | None = None,
) -> LedgerEntry:
    if not in_service():
        raise LedgerError(
            "ledger entries must be written inside the transaction of the change: "
            "run the service or selector in @service (haven.concurrency.transactions)"
        )
    if action not in Action.values:
        raise LedgerError(f"unknown ledger action {action!r}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LEDGER_LOCK_KEY])
    entry = LedgerEntry(
        recorded_at=timezone.now(),
        actor_id=getattr(actor, "pk", None),
        actor_username=getattr(actor, "username", "") or "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        case_id=str(case_id or ""),
        fields=sorted(fields),
        recipients=list(recipients),
        justification=justification,
        details=details or {},
    )
    entry.leaf_hash = leaf_hash_hex(canonical_bytes(entry))
    entry.save(force_insert=True)
    return entry
