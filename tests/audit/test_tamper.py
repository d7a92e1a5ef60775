"""`haven audit verify` against an attacker who can drop the append-only triggers."""

from __future__ import annotations

import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import CommandError
from django.db import connection

from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.checkpoint import generate_signing_key, public_key_to_pem
from haven.audit.models import Checkpoint, LedgerEntry

from .ledger_helpers import audit, checkpoint, drop_ledger_guards, execute, write_entries

TAMPERED_COLUMNS = ("leaf_hash", *ledger.CANONICAL_FIELDS)


@pytest.fixture
def ledger_rows(officer: User, ledger_key: Ed25519PrivateKey) -> list[LedgerEntry]:
    """12 entries; checkpoint A over the first 4, checkpoint B over the first 10."""
    entries = write_entries(officer, 4)
    checkpoint()
    entries += write_entries(officer, 6, start=4)
    checkpoint()
    entries += write_entries(officer, 2, start=10)
    return entries


def checkpoints() -> list[Checkpoint]:
    return list(Checkpoint.objects.order_by("id"))


def verify_fails(pattern: str) -> str:
    with pytest.raises(CommandError) as failure:
        audit("verify", "--quiet")
    message = str(failure.value)
    assert "\n" not in message
    assert re.search(pattern, message), message
    return message


def test_clean_ledger_verifies(ledger_rows: list[LedgerEntry]) -> None:
    out = audit("verify", "--quiet")
    assert out.startswith("verified 12 entries, 2 checkpoints, root ")
    assert "2 entries since" in out


def test_changed_justification_names_the_entry(ledger_rows: list[LedgerEntry]) -> None:
    target = ledger_rows[6]
    drop_ledger_guards()
    LedgerEntry.objects.filter(pk=target.pk).update(justification="routine")
    verify_fails(rf"^entry {target.pk} was altered: .* \(position 6\)$")


def test_changed_entry_after_the_last_checkpoint_is_detected(
    ledger_rows: list[LedgerEntry],
) -> None:
    target = ledger_rows[11]
    drop_ledger_guards()
    execute("UPDATE audit_ledgerentry SET object_id = %s WHERE id = %s", ["other", target.pk])
    verify_fails(rf"^entry {target.pk} was altered")


def test_rewritten_entry_with_recomputed_leaf_hash_breaks_the_checkpoint(
    ledger_rows: list[LedgerEntry],
) -> None:
    """A careful attacker also fixes the stored leaf hash: the signed root still catches it."""
    target = ledger_rows[2]
    drop_ledger_guards()
    target.justification = "nothing to see"
    new_hash = ledger.leaf_hash_hex(ledger.canonical_bytes(target))
    LedgerEntry.objects.filter(pk=target.pk).update(
        justification=target.justification, leaf_hash=new_hash
    )
    first = checkpoints()[0]
    verify_fails(
        rf"^ledger no longer matches checkpoint #{first.pk} \(tree size 4\): entries were "
        r"inserted, deleted or reordered at or before position 4, so the first change is at "
        rf"positions 0\.\.3 \(entry ids {ledger_rows[0].pk}\.\.{ledger_rows[3].pk}\)"
    )


def test_deleted_entry_is_located_between_checkpoints(ledger_rows: list[LedgerEntry]) -> None:
    drop_ledger_guards()
    execute("DELETE FROM audit_ledgerentry WHERE id = %s", [ledger_rows[6].pk])
    first, second = checkpoints()
    verify_fails(
        rf"^ledger no longer matches checkpoint #{second.pk} \(tree size 10\): .* at or before "
        rf"position 10; checkpoint #{first.pk} \(tree size 4\) still matches, so the first "
        r"change is at positions 4\.\.9"
    )


def test_deleted_tail_is_reported(ledger_rows: list[LedgerEntry]) -> None:
    drop_ledger_guards()
    execute("DELETE FROM audit_ledgerentry WHERE id >= %s", [ledger_rows[7].pk])
    first, second = checkpoints()
    verify_fails(
        rf"^ledger has 7 entries but checkpoint #{second.pk} was signed over 10: entries were "
        rf"deleted at or after position 4 \(checkpoint #{first.pk} \(tree size 4\) still matches\)$"
    )


def test_reordered_entries_are_detected(ledger_rows: list[LedgerEntry]) -> None:
    """Swap two whole rows (content and leaf hash): each row is self-consistent."""
    first, second = ledger_rows[5], ledger_rows[8]
    values = {
        entry.pk: LedgerEntry.objects.filter(pk=entry.pk).values(*TAMPERED_COLUMNS).get()
        for entry in (first, second)
    }
    drop_ledger_guards()
    LedgerEntry.objects.filter(pk=first.pk).update(**values[second.pk])
    LedgerEntry.objects.filter(pk=second.pk).update(**values[first.pk])
    verify_fails(
        r"ledger no longer matches checkpoint #\d+ \(tree size 10\).*positions 4\.\.9.*"
        rf"entry {ledger_rows[6].pk} is recorded earlier than the entry before it$"
    )


def test_forged_entry_inserted_into_an_id_gap_is_detected(
    ledger_rows: list[LedgerEntry], officer: User
) -> None:
    """Ids may have gaps (PostgreSQL sequences skip on rollback); a forged entry with a valid
    leaf hash slotted into one shifts every later position."""
    gap_id = ledger_rows[-1].pk + 1
    with connection.cursor() as cursor:  # open a gap of five ids, as rollbacks would
        if connection.vendor == "sqlite":
            cursor.execute(
                "UPDATE sqlite_sequence SET seq = seq + 5 WHERE name = 'audit_ledgerentry'"
            )
        else:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('audit_ledgerentry', 'id'), %s)",
                [gap_id + 4],
            )
    later = write_entries(officer, 4, start=12)
    assert later[0].pk == gap_id + 5
    checkpoint()  # checkpoint C over all 16 entries
    forged = LedgerEntry(
        id=gap_id,
        recorded_at=later[0].recorded_at,
        actor_id=officer.pk,
        actor_username=officer.username,
        action="consultation",
        object_type="witness",
        object_id="999",
        justification="forged alibi",
    )
    forged.leaf_hash = ledger.leaf_hash_hex(ledger.canonical_bytes(forged))
    forged.save(force_insert=True)  # INSERT needs no dropped trigger
    second, third = checkpoints()[1:]
    verify_fails(
        rf"^ledger no longer matches checkpoint #{third.pk} \(tree size 16\).*checkpoint "
        rf"#{second.pk} \(tree size 10\) still matches, so the first change is at "
        r"positions 10\.\.15"
    )


def test_altered_checkpoint_root_fails_its_signature(ledger_rows: list[LedgerEntry]) -> None:
    first = checkpoints()[0]
    drop_ledger_guards()
    execute("UPDATE audit_checkpoint SET root_hash = %s WHERE id = %s", ["ab" * 32, first.pk])
    verify_fails(rf"^checkpoint #{first.pk} \(tree size 4\) has an invalid signature")


def test_altered_checkpoint_size_is_detected(ledger_rows: list[LedgerEntry]) -> None:
    second = checkpoints()[1]
    drop_ledger_guards()
    execute("UPDATE audit_checkpoint SET tree_size = 11 WHERE id = %s", [second.pk])
    verify_fails(rf"^checkpoint #{second.pk} \(tree size 11\) has an invalid signature")


def test_checkpoint_signed_by_another_key_is_rejected(ledger_rows: list[LedgerEntry]) -> None:
    drop_ledger_guards()
    execute("UPDATE audit_checkpoint SET key_id = %s", ["0123456789abcdef"])
    verify_fails(r"was signed by unknown key 0123456789abcdef")


def test_verify_with_an_unrelated_public_key_fails(
    ledger_rows: list[LedgerEntry], tmp_path: object
) -> None:
    from pathlib import Path

    pem = Path(str(tmp_path)) / "other.pem"
    pem.write_bytes(public_key_to_pem(generate_signing_key().public_key()))
    with pytest.raises(CommandError, match="signed by unknown key"):
        audit("verify", "--quiet", "--public-key", str(pem))


def test_checkpoint_refuses_to_sign_a_tampered_ledger(ledger_rows: list[LedgerEntry]) -> None:
    drop_ledger_guards()
    execute("DELETE FROM audit_ledgerentry WHERE id = %s", [ledger_rows[1].pk])
    before = Checkpoint.objects.count()
    with pytest.raises(CommandError, match=r"^refusing to sign a checkpoint: ledger no longer"):
        checkpoint()
    assert Checkpoint.objects.count() == before
