"""ledger.new_entries (the bulk loaders' entries, sealed in one pass) makes what new_entry makes."""

from __future__ import annotations

import datetime

import pytest

from haven.audit import ledger
from haven.audit.models import Action, LedgerEntry
from haven.vault.crypto import VaultIntegrityError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

WHEN = datetime.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=datetime.UTC)


def rows(actor: object) -> list[dict[str, object]]:
    return [
        {
            "actor": actor,
            "action": Action.CONSULTATION,
            "object_type": "case",
            "object_id": "c1",
            "case_id": "c1",
            "recorded_at": WHEN,
            "fields": ("subject_name", "address"),
            "justification": "case_management",
        },
        {
            "actor": actor,
            "action": Action.ALTERATION,
            "object_type": "case",
            "object_id": "c2",
            "case_id": "c2",
            "recorded_at": WHEN,
            "fields": ("status",),
            "justification": "Demo: accepted after a fictional review",
            "details": {"from": "assessed", "to": "accepted", "note": "free text to seal"},
        },
    ]


def test_bulk_entries_hash_and_seal_as_new_entry_does() -> None:
    actor = UserFactory()
    plain_row, sealed_row = rows(actor)
    plain, sealed = ledger.new_entries([plain_row, sealed_row])
    one = ledger.new_entry(**plain_row)  # type: ignore[arg-type]
    assert plain["leaf_hash"] == one.leaf_hash and plain["canonical"] == one.canonical
    entry = LedgerEntry(**sealed)
    assert ledger.canonical_bytes(entry) == sealed["canonical"]
    assert sealed["leaf_hash"] == ledger.leaf_hash_hex(sealed["canonical"])
    assert entry.justification == "" and "note" not in entry.details
    assert ledger.open_sealed(entry) == {
        "justification": "Demo: accepted after a fictional review",
        "details": {"note": "free text to seal"},
    }


def test_a_bulk_sealed_payload_is_bound_to_its_entry() -> None:
    actor = UserFactory()
    (sealed,) = ledger.new_entries(rows(actor)[1:])
    moved = LedgerEntry(**{**sealed, "object_id": "c3", "case_id": "c3"})
    with pytest.raises(VaultIntegrityError):
        ledger.open_sealed(moved)
