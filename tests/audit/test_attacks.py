"""Each rewrite that `haven audit verify` used to pass (issue 17), now detected.

The attacker has DBA rights: drops the append-only triggers (inside the test's transaction),
then does the damage with raw SQL.  The auditor holds the pinned public key and, for the
attacks only an outside record can catch, a checkpoint exported earlier."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import CommandError
from django.utils import timezone

from haven.accounts.models import User
from haven.audit import ledger, signing, verification
from haven.audit.checkpoint import checkpoint_to_json, generate_signing_key, sign_checkpoint
from haven.audit.models import Checkpoint, LedgerEntry

from .ledger_helpers import audit, checkpoint, drop_ledger_guards, execute, write_entries


@pytest.fixture
def entries(officer: User, ledger_key: Ed25519PrivateKey) -> list[LedgerEntry]:
    """12 entries; checkpoint A over the first 4, checkpoint B over the first 10."""
    rows = write_entries(officer, 4)
    checkpoint()
    rows += write_entries(officer, 6, start=4)
    checkpoint()
    rows += write_entries(officer, 2, start=10)
    return rows


@pytest.fixture
def exported_checkpoint(entries: list[LedgerEntry], tmp_path: Path) -> Path:
    """The auditor's copy of the newest checkpoint (B, tree size 10), kept off the database."""
    newest = verification.stored_checkpoints()[-1]
    path = tmp_path / "trusted-checkpoint.json"
    path.write_text(checkpoint_to_json(newest.signed()))
    return path


def verify_fails(pattern: str, *options: str) -> str:
    with pytest.raises(CommandError) as failure:
        audit("verify", "--quiet", *options)
    message = str(failure.value)
    assert "\n" not in message
    assert re.search(pattern, message), message
    return message


def delete_entries_from(position: int, rows: list[LedgerEntry]) -> None:
    execute("DELETE FROM audit_ledgerentry WHERE id >= %s", [rows[position].pk])


def rewrite_with_recomputed_hash(entry: LedgerEntry, justification: str) -> None:
    entry.justification = justification
    LedgerEntry.objects.filter(pk=entry.pk).update(
        justification=justification,
        leaf_hash=ledger.leaf_hash_hex(ledger.canonical_bytes(entry)),
    )


def test_an_untouched_ledger_passes_every_check(
    entries: list[LedgerEntry], exported_checkpoint: Path
) -> None:
    out = audit("verify", "--quiet", "--trusted-checkpoint", str(exported_checkpoint))
    assert out.startswith("verified 12 entries, 2 checkpoints")


# --- deleting the newest entries --------------------------------------------------------


def test_deleting_the_newest_entries_breaks_the_checkpoint_that_covers_them(
    entries: list[LedgerEntry],
) -> None:
    drop_ledger_guards()
    delete_entries_from(8, entries)
    verify_fails(r"^ledger has 8 entries but checkpoint #\d+ was signed over 10: entries were")


def test_deleting_the_newest_entries_and_their_checkpoint_is_a_rollback(
    entries: list[LedgerEntry], exported_checkpoint: Path
) -> None:
    drop_ledger_guards()
    delete_entries_from(8, entries)
    Checkpoint.objects.filter(tree_size=10).delete()
    verify_fails(
        r"^ledger has 8 entries but the trusted checkpoint \(tree size 10, .*\) covers 10: the "
        r"ledger was rolled back \(entries deleted from position 8\)$",
        "--trusted-checkpoint",
        str(exported_checkpoint),
    )


# --- rewriting one entry and recomputing the chain ---------------------------------------


def test_rewritten_entry_with_recomputed_chain_and_no_checkpoints_left(
    entries: list[LedgerEntry],
) -> None:
    drop_ledger_guards()
    rewrite_with_recomputed_hash(entries[2], "nothing to see")
    Checkpoint.objects.all().delete()
    verify_fails(
        rf"^ledger has 12 entries but no checkpoint: .* \(first unsigned entry {entries[0].pk}\)"
    )


def test_rewritten_entry_with_recomputed_chain_is_a_fork_of_the_trusted_checkpoint(
    entries: list[LedgerEntry], exported_checkpoint: Path, ledger_key: Ed25519PrivateKey
) -> None:
    """Even re-signed with the real key (a stolen signing key): the outside copy disagrees."""
    drop_ledger_guards()
    rewrite_with_recomputed_hash(entries[2], "nothing to see")
    Checkpoint.objects.all().delete()
    checkpoint()
    verify_fails(
        r"^the first 10 entries no longer reproduce the trusted checkpoint \(tree size 10, "
        r".*\): the ledger forked .* at or before position 10\)$",
        "--trusted-checkpoint",
        str(exported_checkpoint),
    )


# --- reordering --------------------------------------------------------------------------


def test_reordered_entries_with_checkpoints_resigned_are_a_fork(
    entries: list[LedgerEntry], exported_checkpoint: Path
) -> None:
    columns = ("leaf_hash", *ledger.CANONICAL_FIELDS)
    first, second = entries[1], entries[3]
    values = {
        row.pk: LedgerEntry.objects.filter(pk=row.pk).values(*columns).get()
        for row in (first, second)
    }
    drop_ledger_guards()
    LedgerEntry.objects.filter(pk=first.pk).update(**values[second.pk])
    LedgerEntry.objects.filter(pk=second.pk).update(**values[first.pk])
    Checkpoint.objects.all().delete()
    checkpoint()
    verify_fails(
        r"^the first 10 entries no longer reproduce the trusted checkpoint",
        "--trusted-checkpoint",
        str(exported_checkpoint),
    )


# --- appending a forged entry --------------------------------------------------------------


def test_appended_backdated_forgery_waits_too_long_for_a_checkpoint(
    entries: list[LedgerEntry], officer: User
) -> None:
    """A forged entry at the end has a valid leaf hash; backdated to fit the story, it sits
    unsigned behind the latest checkpoint for longer than the bound allows."""
    checkpoint()  # the real entries are all signed
    forged = LedgerEntry(
        recorded_at=timezone.now() - timedelta(hours=1),
        actor_id=officer.pk,
        actor_username=officer.username,
        action="consultation",
        object_type="witness",
        object_id="999",
        justification="forged alibi",
    )
    forged.leaf_hash = ledger.leaf_hash_hex(ledger.canonical_bytes(forged))
    forged.save(force_insert=True)  # INSERT is allowed: no trigger to drop
    verify_fails(
        rf"^entry {forged.pk} \(position 12\) has waited 36\d\d s for a checkpoint, longer than "
        r"the 300 s allowed after checkpoint #\d+ \(tree size 12\)"
    )


def test_unsigned_entries_older_than_the_bound_fail(entries: list[LedgerEntry]) -> None:
    verify_fails(
        rf"^entry {entries[10].pk} \(position 10\) has waited \d+ s for a checkpoint, longer "
        r"than the 0 s allowed",
        "--max-unsigned-age",
        "0",
    )


def test_the_bound_is_a_setting(entries: list[LedgerEntry], settings: Any) -> None:
    settings.LEDGER_MAX_UNSIGNED_AGE = 0
    verify_fails(r"has waited \d+ s for a checkpoint, longer than the 0 s allowed")


def test_a_negative_bound_is_refused(entries: list[LedgerEntry]) -> None:
    verify_fails(r"^--max-unsigned-age must not be negative", "--max-unsigned-age", "-1")


# --- deleting checkpoints ------------------------------------------------------------------


def test_deleting_the_newest_checkpoint_and_everything_after_the_previous_one(
    entries: list[LedgerEntry], exported_checkpoint: Path
) -> None:
    """What is left is an older, consistent, signed ledger: only the outside copy tells."""
    drop_ledger_guards()
    Checkpoint.objects.filter(tree_size=10).delete()
    delete_entries_from(4, entries)
    assert audit("verify", "--quiet").startswith("verified 4 entries, 1 checkpoints")
    verify_fails(
        r"^ledger has 4 entries but the trusted checkpoint .* rolled back",
        "--trusted-checkpoint",
        str(exported_checkpoint),
    )


def test_deleting_every_checkpoint(entries: list[LedgerEntry]) -> None:
    drop_ledger_guards()
    execute("DELETE FROM audit_checkpoint")
    verify_fails(r"^ledger has 12 entries but no checkpoint: every checkpoint was deleted")


# --- re-signing with a fresh key in the data directory -------------------------------------


def test_resigning_with_a_fresh_key_in_the_data_directory(
    entries: list[LedgerEntry],
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drop_ledger_guards()
    rewrite_with_recomputed_hash(entries[2], "nothing to see")
    execute("DELETE FROM audit_checkpoint")
    monkeypatch.delenv(signing.SIGNING_KEY_ENV_VAR)
    settings.KEY_DIR = tmp_path / "attacker-keys"
    audit("init-key")
    # Haven's own checkpoint command refuses a signing key that is not pinned...
    with pytest.raises(CommandError, match="is not among HAVEN_LEDGER_TRUSTED_KEYS"):
        checkpoint()
    # ...so the attacker signs the rewritten ledger with their own tooling.
    verification.create_checkpoint(signing.load_signing_key())
    verify_fails(r"^checkpoint #\d+ \(tree size 12\) was signed by unknown key [0-9a-f]{8}")


# --- the trusted checkpoint itself ---------------------------------------------------------


def test_a_trusted_checkpoint_from_an_unknown_key_is_refused(
    entries: list[LedgerEntry], tmp_path: Path
) -> None:
    report = verification.verify_ledger(
        verification.public_keys_by_id(signing.trusted_public_keys())
    )
    forged = sign_checkpoint(generate_signing_key(), 12, report.root, "2026-01-01T00:00:00Z")
    path = tmp_path / "forged.json"
    path.write_text(checkpoint_to_json(forged))
    verify_fails(
        r"^trusted checkpoint \(tree size 12, .*\) was signed by unknown key",
        "--trusted-checkpoint",
        str(path),
    )


def test_an_unreadable_trusted_checkpoint_is_one_line(
    entries: list[LedgerEntry], tmp_path: Path
) -> None:
    verify_fails(r"^cannot read trusted checkpoint", "--trusted-checkpoint", str(tmp_path / "x"))
    (tmp_path / "bad.json").write_text("{}")
    verify_fails(
        r"^trusted checkpoint .*bad.json is not a checkpoint: checkpoint fields must be",
        "--trusted-checkpoint",
        str(tmp_path / "bad.json"),
    )
