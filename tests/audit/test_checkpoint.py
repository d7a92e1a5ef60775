"""Signed checkpoints: canonical message, Ed25519 signing, keys and JSON round trips."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.audit.checkpoint import (
    Checkpoint,
    checkpoint_from_dict,
    checkpoint_from_json,
    checkpoint_message,
    checkpoint_to_dict,
    checkpoint_to_json,
    generate_signing_key,
    key_id_for,
    private_key_from_pem,
    private_key_to_pem,
    public_key_from_pem,
    public_key_to_pem,
    sign_checkpoint,
    utc_timestamp,
    verify_checkpoint,
)

ROOT = hashlib.sha256(b"some root").digest()
WHEN = "2025-01-31T12:00:00Z"
SIGNING_KEY = generate_signing_key()  # one key for the module: key generation is not under test


def signed(tree_size: int = 1000, root_hash: bytes = ROOT, timestamp: str = WHEN) -> Checkpoint:
    return sign_checkpoint(SIGNING_KEY, tree_size, root_hash, timestamp)


def test_message_is_the_documented_canonical_text() -> None:
    root_b64 = base64.b64encode(ROOT).decode()
    expected = f"haven-ledger-checkpoint/v1\n1000\n{root_b64}\n{WHEN}\n".encode()
    assert checkpoint_message(1000, ROOT, WHEN) == expected


@pytest.mark.parametrize(
    ("tree_size", "root_hash", "timestamp"),
    [
        (-1, ROOT, WHEN),
        (True, ROOT, WHEN),
        (1, ROOT[:31], WHEN),
        (1, ROOT, "2025-01-31T12:00:00+01:00"),
        (1, ROOT, "2025-01-31T12:00:00Z\n5"),
        (1, ROOT, "2025-13-31T12:00:00Z"),
    ],
)
def test_message_rejects_non_canonical_values(
    tree_size: int, root_hash: bytes, timestamp: str
) -> None:
    with pytest.raises(ValueError):
        checkpoint_message(tree_size, root_hash, timestamp)


def test_utc_timestamp_is_accepted_by_the_message_format() -> None:
    stamp = utc_timestamp(datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC))
    assert stamp == "2025-01-02T03:04:05.000006Z"
    assert checkpoint_message(0, ROOT, utc_timestamp())  # now, too


def test_signed_checkpoint_verifies_and_names_its_key() -> None:
    checkpoint = signed()
    assert checkpoint.key_id == key_id_for(SIGNING_KEY.public_key())
    assert verify_checkpoint(SIGNING_KEY.public_key(), checkpoint)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda cp: replace(cp, tree_size=cp.tree_size + 1),
        lambda cp: replace(cp, root_hash=hashlib.sha256(b"other").digest()),
        lambda cp: replace(cp, timestamp="2025-01-31T12:00:01Z"),
        lambda cp: replace(cp, signature=bytes([cp.signature[0] ^ 1]) + cp.signature[1:]),
        lambda cp: replace(cp, key_id="0" * 16),
    ],
)
def test_any_tampering_breaks_verification(tamper: Callable[[Checkpoint], Checkpoint]) -> None:
    assert not verify_checkpoint(SIGNING_KEY.public_key(), tamper(signed()))


def test_other_key_does_not_verify() -> None:
    assert not verify_checkpoint(generate_signing_key().public_key(), signed())


def test_key_id_is_prefix_of_sha256_of_raw_public_key() -> None:
    public_key = SIGNING_KEY.public_key()
    raw = public_key.public_bytes_raw()
    assert key_id_for(public_key) == hashlib.sha256(raw).hexdigest()[:16]


def test_pem_round_trips() -> None:
    public_pem = public_key_to_pem(SIGNING_KEY.public_key())
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    restored_public = public_key_from_pem(public_pem)
    assert verify_checkpoint(restored_public, signed())
    restored_private = private_key_from_pem(private_key_to_pem(SIGNING_KEY))
    assert verify_checkpoint(restored_public, sign_checkpoint(restored_private, 1, ROOT, WHEN))


def test_encrypted_private_pem_needs_its_password() -> None:
    pem = private_key_to_pem(SIGNING_KEY, password=b"correct horse")
    assert b"ENCRYPTED" in pem
    restored = private_key_from_pem(pem, password=b"correct horse")
    assert key_id_for(restored.public_key()) == key_id_for(SIGNING_KEY.public_key())
    with pytest.raises((ValueError, TypeError)):
        private_key_from_pem(pem, password=b"wrong")


def test_non_ed25519_public_key_is_rejected() -> None:
    other = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = other.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(ValueError, match="Ed25519"):
        public_key_from_pem(pem)


@settings(max_examples=30, deadline=None)
@given(tree_size=st.integers(0, 2**63), root_hash=st.binary(min_size=32, max_size=32))
def test_json_round_trip_preserves_a_verifiable_checkpoint(
    tree_size: int, root_hash: bytes
) -> None:
    checkpoint = signed(tree_size, root_hash)
    restored = checkpoint_from_json(checkpoint_to_json(checkpoint))
    assert restored == checkpoint
    assert verify_checkpoint(SIGNING_KEY.public_key(), restored)


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda d: d.pop("signature"),
        lambda d: d.update(extra=1),
        lambda d: d.update(root_hash="not base64!"),
        lambda d: d.update(root_hash=base64.b64encode(b"short").decode()),
        lambda d: d.update(signature=base64.b64encode(b"x" * 63).decode()),
        lambda d: d.update(tree_size="1000"),
        lambda d: d.update(key_id="XYZ"),
        lambda d: d.update(timestamp=12),
    ],
)
def test_malformed_json_is_rejected(corrupt: Callable[[dict[str, Any]], object]) -> None:
    data = checkpoint_to_dict(signed())
    corrupt(data)
    with pytest.raises(ValueError):
        checkpoint_from_dict(json.loads(json.dumps(data)))


def test_non_object_json_is_rejected() -> None:
    with pytest.raises(ValueError):
        checkpoint_from_json("[1, 2]")
