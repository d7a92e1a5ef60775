"""`haven audit` subcommands: keys, checkpoints, proofs checked end to end by haven-verify."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import CommandError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haven.accounts.models import User
from haven.audit import signing, verification, verifier
from haven.audit.checkpoint import (
    checkpoint_key_id,
    key_id_for,
    public_key_from_pem,
    public_key_to_pem,
)
from haven.audit.models import Checkpoint, LedgerEntry
from haven.audit.proofdoc import parse_proof_document

from .ledger_helpers import audit, checkpoint, write_entries


@pytest.fixture
def key_dir(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv(signing.SIGNING_KEY_ENV_VAR, raising=False)
    settings.KEY_DIR = tmp_path / "keys"
    settings.LEDGER_TRUSTED_KEYS = []
    return settings.KEY_DIR


# --- keys -----------------------------------------------------------------------------------


def test_init_key_writes_a_private_file_and_never_overwrites(key_dir: Path) -> None:
    out = audit("init-key")
    path = key_dir / "ledger-signing.pem"
    assert out.startswith(f"created ledger signing key {path}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pem = path.read_bytes()
    with pytest.raises(CommandError, match="already exists: refusing to overwrite"):
        audit("init-key")
    assert "kept" in audit("init-key", "--if-missing")
    assert path.read_bytes() == pem
    public = public_key_from_pem(audit("public-key").encode())
    assert key_id_for(public) == key_id_for(signing.load_signing_key().public_key())


def test_missing_key_is_one_clear_line(key_dir: Path, db: None) -> None:
    with pytest.raises(signing.SigningKeyError, match="run `haven audit init-key`"):
        signing.load_signing_key()
    for command in (("checkpoint", "--quiet"), ("public-key",)):
        with pytest.raises(CommandError, match=r"^ledger signing key .* is missing: run") as err:
            audit(*command)
        assert "\n" not in str(err.value)


def test_verify_trusts_only_pinned_keys_never_the_key_file(key_dir: Path, db: None) -> None:
    audit("init-key")  # a signing key in the data directory is not a trusted key
    with pytest.raises(CommandError, match=r"^no trusted ledger keys: set HAVEN_LEDGER_TRUSTED"):
        audit("verify", "--quiet")


def test_trusted_keys_from_files_and_bad_entries(
    key_dir: Path, db: None, settings: Any, tmp_path: Path
) -> None:
    key = signing_key_pem_file(tmp_path / "trusted.pem")
    settings.LEDGER_TRUSTED_KEYS = [str(key)]
    assert audit("verify", "--quiet").startswith("verified 0 entries")
    settings.LEDGER_TRUSTED_KEYS = [str(tmp_path / "absent.pem")]
    with pytest.raises(CommandError, match=r"^trusted ledger key .*absent.pem cannot be read"):
        audit("verify", "--quiet")
    (tmp_path / "junk.pem").write_text("junk")
    settings.LEDGER_TRUSTED_KEYS = [str(tmp_path / "junk.pem")]
    with pytest.raises(CommandError, match=r"^trusted ledger key .*junk.pem holds no PEM"):
        audit("verify", "--quiet")


def signing_key_pem_file(path: Path) -> Path:
    from haven.audit.checkpoint import generate_signing_key

    path.write_bytes(public_key_to_pem(generate_signing_key().public_key()))
    return path


def test_garbage_key_is_reported(key_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(signing.SIGNING_KEY_ENV_VAR, "not a key")
    with pytest.raises(CommandError, match="HAVEN_LEDGER_SIGNING_KEY .* not an unencrypted"):
        audit("public-key")


def test_key_from_environment_wins_and_is_not_written(
    key_dir: Path, ledger_key: Ed25519PrivateKey
) -> None:
    assert "no file written" in audit("init-key")
    assert not (key_dir / "ledger-signing.pem").exists()
    assert audit("public-key").encode() == public_key_to_pem(ledger_key.public_key())


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_signs_the_current_root(officer: User, ledger_key: Ed25519PrivateKey) -> None:
    write_entries(officer, 5)
    out = checkpoint()
    stored = Checkpoint.objects.get()
    assert out.startswith(f"checkpoint #{stored.pk}: tree size 5, root {stored.root_hash}")
    assert stored.origin == "haven.invalid/ledger"  # the default origin names the log
    assert stored.key_id == checkpoint_key_id(ledger_key.public_key(), stored.origin)
    report = verification.verify_ledger(verification.public_keys_by_id([ledger_key.public_key()]))
    assert (report.entries, report.checkpoints, report.root.hex()) == (5, 1, stored.root_hash)
    assert len(stored.signature) == 88  # base64 of 64 bytes


def test_unchanged_ledger_is_not_resigned_unless_forced(
    officer: User, ledger_key: Ed25519PrivateKey
) -> None:
    write_entries(officer, 2)
    audit("checkpoint", "--quiet")
    assert "nothing signed" in audit("checkpoint", "--quiet")
    assert Checkpoint.objects.count() == 1
    audit("checkpoint", "--quiet", "--force")
    assert Checkpoint.objects.count() == 2
    assert "verified 2 entries, 2 checkpoints" in audit("verify", "--quiet")


def test_verify_reports_progress(officer: User, ledger_key: Ed25519PrivateKey) -> None:
    write_entries(officer, 7)
    done: list[int] = []
    keys = verification.public_keys_by_id([ledger_key.public_key()])
    report = verification.verify_ledger(keys, progress=done.append)
    assert sum(done) == report.entries == 7


def test_verify_of_an_empty_ledger(db: None, ledger_key: Ed25519PrivateKey) -> None:
    assert audit("verify", "--quiet").startswith("verified 0 entries, 0 checkpoints, root e3b0c4")


# --- proofs ---------------------------------------------------------------------------------


def test_prove_and_haven_verify_end_to_end(
    officer: User, ledger_key: Ed25519PrivateKey, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    entries = write_entries(officer, 3)
    checkpoint()
    entries += write_entries(officer, 5, start=3)
    checkpoint()
    target = entries[1]
    proof_file, key_file = tmp_path / "proof.json", tmp_path / "pub.pem"
    audit("prove", str(target.pk), "--output", str(proof_file))
    key_file.write_text(audit("public-key"))
    document = json.loads(proof_file.read_text())
    assert document["entry"]["index"] == 1
    assert document["entry"]["fields"]["id"] == target.pk
    assert document["checkpoint"]["tree_size"] == 8
    assert len(document["consistency"]) == 1  # checkpoint of 3 linked to checkpoint of 8

    assert verifier.main(["--public-key", str(key_file), str(proof_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert not [line for line in lines if line.startswith("FAIL")]
    # What it verified, every value read from the hashed entry.
    assert (
        "VERIFIED entry 1 (0-based position in the ledger) in the signed tree of 8 entries" in lines
    )
    assert f"  actor:  officer-ledger (user id {officer.pk})" in lines
    assert "  action: consultation" in lines
    assert "  object: witness 1 (case CASE-1)" in lines
    assert any(line.startswith("  time:   20") for line in lines)

    # The proof is about exactly these bytes: another entry's content does not verify.
    document["entry"]["canonical"] = json.loads(audit("prove", str(entries[2].pk)))["entry"][
        "canonical"
    ]
    proof_file.write_text(json.dumps(document))
    assert verifier.main(["--public-key", str(key_file), str(proof_file)]) == 1


def test_prove_missing_entry(officer: User, ledger_key: Ed25519PrivateKey) -> None:
    write_entries(officer, 1)
    checkpoint()
    with pytest.raises(CommandError, match=r"^no ledger entry 987654321$"):
        audit("prove", "987654321")


def test_prove_uncovered_entry(officer: User, ledger_key: Ed25519PrivateKey) -> None:
    write_entries(officer, 2)
    checkpoint()
    late = write_entries(officer, 1, start=2)[0]
    with pytest.raises(CommandError, match=rf"^entry {late.pk} is not covered by a checkpoint"):
        audit("prove", str(late.pk))


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=5))
def test_every_entry_proof_verifies(
    officer: User, ledger_key: Ed25519PrivateKey, batches: list[int]
) -> None:
    """Entries arrive in batches; a checkpoint is signed after each batch.  Every covered
    entry's proof then passes every check of the standalone verifier."""
    keys = {key_id_for(ledger_key.public_key()): ledger_key.public_key()}
    with transaction.atomic():  # each example starts from an empty ledger
        entries: list[LedgerEntry] = []
        for size in batches:
            entries += write_entries(officer, size, start=len(entries))
            checkpoint()
        assert len(entries) == sum(batches)
        for index, entry in enumerate(entries):
            document = parse_proof_document(json.loads(audit("prove", str(entry.pk))))
            assert document.index == index
            assert document.tree_size == len(entries)
            results = list(verifier.run_checks(document, keys))
            assert results and all(result.ok for result in results), results
        transaction.set_rollback(True)
