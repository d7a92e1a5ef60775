"""The stored canonical bytes (LedgerEntry.canonical) only speed up `haven audit verify`:
an altered copy is never trusted over the entry's columns, and is itself reported."""

from __future__ import annotations

import io

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from haven.accounts.models import User
from haven.audit import ledger, verification
from haven.audit.models import LedgerEntry

from .ledger_helpers import audit, checkpoint, drop_ledger_guards, execute, write_entries

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite re-encodes every entry from its columns"
)


@pytest.fixture
def entries(officer: User, ledger_key: Ed25519PrivateKey) -> list[LedgerEntry]:
    rows = write_entries(officer, 5)
    checkpoint()
    return rows


def test_each_entry_stores_the_exact_bytes_its_leaf_hash_commits_to(
    entries: list[LedgerEntry],
) -> None:
    for entry in LedgerEntry.objects.order_by("id"):
        assert bytes(entry.canonical) == ledger.canonical_bytes(entry)
        assert ledger.leaf_hash_hex(bytes(entry.canonical)) == entry.leaf_hash


def test_entries_without_a_stored_copy_verify_from_their_columns(
    entries: list[LedgerEntry], officer: User
) -> None:
    drop_ledger_guards()
    execute("UPDATE audit_ledgerentry SET canonical = NULL WHERE id <= %s", [entries[2].pk])
    write_entries(officer, 2, start=5)
    assert audit("verify", "--quiet").startswith("verified 7 entries, 1 checkpoints")


def test_changed_column_is_caught_though_the_stored_copy_is_intact(
    entries: list[LedgerEntry],
) -> None:
    target = entries[3]
    drop_ledger_guards()
    execute("UPDATE audit_ledgerentry SET case_id = %s WHERE id = %s", ["CASE-9", target.pk])
    with pytest.raises(CommandError, match=rf"^entry {target.pk} was altered: .*\(position 3\)$"):
        audit("verify", "--quiet")


def audit_with_warnings(*options: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("audit", "verify", "--quiet", *options, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def tamper_copy(entry: LedgerEntry, new_bytes: bytes) -> None:
    drop_ledger_guards()
    execute("UPDATE audit_ledgerentry SET canonical = %s WHERE id = %s", [new_bytes, entry.pk])


@on_postgresql
def test_a_copy_that_disagrees_with_its_columns_is_reported(entries: list[LedgerEntry]) -> None:
    target = entries[1]
    forged = bytes(target.canonical).replace(b'"object_id":"1"', b'"object_id":"7"')
    assert forged != bytes(target.canonical)
    tamper_copy(target, forged)
    out, warnings = audit_with_warnings()
    assert out.startswith("verified 5 entries")
    assert f"warning: the stored canonical bytes of entry {target.pk} were altered" in warnings


@on_postgresql
def test_a_respelled_copy_of_equal_value_is_reported(entries: list[LedgerEntry]) -> None:
    """Other bytes of the same JSON value pass the database's comparison but not the hash."""
    target = entries[2]
    respelled = bytes(target.canonical).replace(b'"action":', b'"action" :')
    tamper_copy(target, respelled)
    with pytest.raises(
        CommandError, match=rf"^entry {target.pk} was altered: its stored canonical bytes"
    ):
        audit("verify", "--quiet")


@on_postgresql
def test_a_copy_whose_time_is_spelled_otherwise_is_reported_as_altered(
    entries: list[LedgerEntry],
) -> None:
    """The same instant spelled with "Z": the reference pass reads the copy's time as an
    instant, so it uses the copy, and the copy's bytes fail the hash, as any other re-spelling
    does (an error naming the entry, not a warning)."""
    target = entries[3]
    respelled = bytes(target.canonical).replace(b'+00:00"', b'Z"')
    assert respelled != bytes(target.canonical)
    tamper_copy(target, respelled)
    with pytest.raises(
        CommandError, match=rf"^entry {target.pk} was altered: its stored canonical bytes"
    ):
        audit("verify", "--quiet")


@on_postgresql
def test_a_copy_that_is_not_json_is_reported_after_the_columns_verify(
    entries: list[LedgerEntry],
) -> None:
    tamper_copy(entries[0], b"\xff not json")
    out, warnings = audit_with_warnings()
    assert out.startswith("verified 5 entries")
    assert "no longer JSON of a ledger entry" in warnings


@on_postgresql
def test_from_columns_spells_every_entry_without_the_copies_or_the_fast_pass(
    entries: list[LedgerEntry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An oversight body's check that trusts no stored copy, constraint or SQL function: a
    copy that is not even JSON is not read, and the columns still verify."""
    tamper_copy(entries[0], b"\xff not json")

    def no_fast_pass(*args: object) -> None:
        raise AssertionError("the fast pass ran")

    monkeypatch.setattr(verification, "_fast_verify", no_fast_pass)
    out, warnings = audit_with_warnings("--from-columns")
    assert out.startswith("verified 5 entries, 1 checkpoints")
    assert warnings == ""
    execute("UPDATE audit_ledgerentry SET case_id = 'CASE-9' WHERE id = %s", [entries[3].pk])
    with pytest.raises(CommandError, match=rf"^entry {entries[3].pk} was altered"):
        audit("verify", "--quiet", "--from-columns")
