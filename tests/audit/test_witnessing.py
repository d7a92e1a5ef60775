"""Haven sends checkpoints to a real haven-witness, records cosignatures, and verify checks the
quorum; a DBA who rewrites history and re-signs it with the stolen key is caught."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from haven.accounts.models import User
from haven.audit import note, verification, witnessing
from haven.audit.checkpoint import (
    generate_signing_key,
    read_checkpoint,
    sign_checkpoint,
    utc_timestamp,
)
from haven.audit.models import Checkpoint, Cosignature
from haven.audit.witness import StateStore, Witness, make_server

from .ledger_helpers import audit, checkpoint, drop_ledger_guards, execute, write_entries
from .test_attacks import rewrite_with_recomputed_hash

WITNESS_NAME = "test.invalid/witness"


@pytest.fixture
def witness(ledger_key: Ed25519PrivateKey, settings: Any, tmp_path: Path) -> Iterator[Witness]:
    key = generate_signing_key()
    log_key = note.VerifierKey(
        settings.LEDGER_ORIGIN, note.ALGORITHM_ED25519, ledger_key.public_key()
    )
    server_witness = Witness(WITNESS_NAME, key, [log_key], StateStore(tmp_path / "witness"))
    server = make_server(server_witness, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.LEDGER_WITNESSES = [
        f"{WITNESS_NAME} http://127.0.0.1:{server.server_port} {server_witness.vkey()}"
    ]
    settings.LEDGER_WITNESS_QUORUM = 1
    yield server_witness
    server.shutdown()
    server.server_close()


def test_checkpoints_are_cosigned_and_published(officer: User, witness: Witness) -> None:
    write_entries(officer, 4)
    checkpoint()
    write_entries(officer, 3, start=4)
    checkpoint()  # the second request carries a consistency proof from 4 to 7
    assert Cosignature.objects.count() == 2
    out = audit("verify", "--quiet")
    assert "is cosigned by 1 of 1 witnesses" in out

    response = Client().get("/ledger/checkpoint")  # anonymous
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    published = note.parse_note(text)
    assert published.text == f"haven.invalid/ledger\n7\n{published.text.split(chr(10))[2]}\n"
    vkey = note.parse_verifier_key(witness.vkey())
    assert note.valid_cosigners(published.text, published.signatures, [vkey]) == {WITNESS_NAME}
    assert read_checkpoint(response.content).tree_size == 7


def test_no_checkpoint_yet_is_404_not_an_error(db: None) -> None:
    response = Client().get("/ledger/checkpoint")
    assert response.status_code == 404


def test_a_rewritten_and_resigned_history_is_refused_by_the_witness_and_verify(
    officer: User, witness: Witness, ledger_key: Ed25519PrivateKey
) -> None:
    entries = write_entries(officer, 8)
    checkpoint()
    assert Cosignature.objects.count() == 1
    # The DBA: rewrites entry 2, drops checkpoints and cosignatures, re-signs with the real key.
    drop_ledger_guards()
    rewrite_with_recomputed_hash(entries[2], "nothing to see")
    execute("DELETE FROM audit_cosignature")
    execute("DELETE FROM audit_checkpoint")
    write_entries(officer, 2, start=8)
    outcomes = verification.create_checkpoint(ledger_key), witnessing.request_cosignatures()
    (outcome,) = outcomes[1]
    assert not outcome.cosigned
    assert "HTTP 422: inconsistent: the checkpoint of size 10 does not extend" in outcome.message
    assert Cosignature.objects.count() == 0
    # Within the bound the tail may still be waiting for witnesses; past it, verify fails.
    audit("verify", "--quiet", "--max-unsigned-age", "3600")
    with pytest.raises(
        CommandError,
        match=r"^entry \d+ \(position 0\) has waited \d+ s for a "
        r"checkpoint cosigned by 1 of 1 witnesses",
    ):
        audit("verify", "--quiet", "--max-unsigned-age", "0")


def test_a_rollback_is_refused_by_the_witness(
    officer: User, witness: Witness, ledger_key: Ed25519PrivateKey
) -> None:
    write_entries(officer, 6)
    checkpoint()
    drop_ledger_guards()
    execute("DELETE FROM audit_cosignature")
    execute("DELETE FROM audit_checkpoint")
    execute(
        "DELETE FROM audit_ledgerentry WHERE id IN "
        "(SELECT id FROM audit_ledgerentry ORDER BY id DESC LIMIT 2)"
    )
    verification.create_checkpoint(ledger_key)
    (outcome,) = witnessing.request_cosignatures()
    assert not outcome.cosigned
    assert (
        "has cosigned 6 entries but the newest checkpoint covers 4: the ledger was rolled back"
        in outcome.message
    )


def test_a_forged_cosignature_fails_verify(officer: User, witness: Witness) -> None:
    write_entries(officer, 3)
    checkpoint()
    stored = Checkpoint.objects.get()
    forger = generate_signing_key()
    fake = note.cosign("haven.invalid/ledger\n3\nAAAA\n", WITNESS_NAME, forger, 1)
    Cosignature.objects.create(
        checkpoint=stored,
        witness_name=WITNESS_NAME,
        key_hash=fake.key_hash.hex(),
        cosigned_at=1,
        signature=base64.b64encode(fake.signature).decode(),
        received_at=timezone.now(),
    )
    with pytest.raises(CommandError, match="does not verify with its pinned key"):
        audit("verify", "--quiet")


def test_checkpoint_refuses_an_unpinned_signing_key(
    officer: User, ledger_key: Ed25519PrivateKey, settings: Any
) -> None:
    write_entries(officer, 1)
    settings.LEDGER_TRUSTED_KEYS = [
        __import__("haven.audit.checkpoint", fromlist=["x"])
        .public_key_to_pem(generate_signing_key().public_key())
        .decode()
    ]
    with pytest.raises(CommandError, match="is not among HAVEN_LEDGER_TRUSTED_KEYS"):
        checkpoint()


def test_legacy_checkpoints_still_verify(officer: User, ledger_key: Ed25519PrivateKey) -> None:
    write_entries(officer, 5)
    report = verification.verify_ledger(verification.public_keys_by_id([ledger_key.public_key()]))
    legacy = sign_checkpoint(ledger_key, 5, report.root, utc_timestamp())  # no origin
    Checkpoint.objects.create(
        tree_size=5,
        root_hash=report.root.hex(),
        signed_at=legacy.timestamp,
        key_id=legacy.key_id,
        signature=base64.b64encode(legacy.signature).decode(),
    )
    write_entries(officer, 2, start=5)
    checkpoint()  # a signed note after the legacy one
    assert "verified 7 entries, 2 checkpoints" in audit("verify", "--quiet")
