"""Signed checkpoints of the audit ledger: (tree size, root hash) signed with Ed25519.

Checkpoints are C2SP signed notes (``haven.audit.note``) when they name the log's origin::

    haven.invalid/ledger
    <tree size in decimal>
    <standard base64 of the 32-byte root hash>

    — haven.invalid/ledger <base64(4-byte key hash || 64-byte signature)>

The key name is the origin; ``key_id`` is then the 8 hex characters of the note key hash, and
``timestamp`` records when Haven made the checkpoint (not signed: cosignatures carry signed
times).  Checkpoints signed before origins existed (``origin`` empty) keep their own format,
so they still verify; their signed bytes are a canonical text, rebuilt by hand as::

    haven-ledger-checkpoint/v1
    <tree size in decimal>
    <standard base64 of the 32-byte root hash>
    <timestamp, ISO-8601 UTC: YYYY-MM-DDTHH:MM:SS[.ffffff]Z>

(each line ends with "\\n").  The key id is not signed: it only names which public key to use,
and the signature itself binds the key.

JSON form of a checkpoint (the format inside proof documents)::

    {"tree_size": 1000, "root_hash": "<b64>", "timestamp": "2025-01-31T12:00:00Z",
     "key_id": "<16 hex chars>", "signature": "<b64 of 64 bytes>"}

plus ``"origin": "<origin line>"`` (and an 8-hex-character key_id) for a signed note.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from haven.audit import note

CHECKPOINT_HEADER = "haven-ledger-checkpoint/v1"
ROOT_HASH_SIZE = 32
SIGNATURE_SIZE = 64
# Strict shape: a newline or odd offset in the timestamp must never reach the signed text.
_TIMESTAMP_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_KEY_ID_PATTERN = re.compile(r"[0-9a-f]{16}")
_NOTE_KEY_ID_PATTERN = re.compile(r"[0-9a-f]{8}")


@dataclass(frozen=True)
class Checkpoint:
    tree_size: int
    root_hash: bytes
    timestamp: str
    key_id: str
    signature: bytes
    origin: str = ""  # empty: the legacy haven-ledger-checkpoint/v1 format

    @property
    def is_note(self) -> bool:
        return bool(self.origin)

    def body(self) -> note.CheckpointBody:
        return note.CheckpointBody(self.origin, self.tree_size, self.root_hash)

    def note_text(self) -> str:
        """The signed note (body, empty line, the log's signature line)."""
        signature = note.NoteSignature(self.origin, bytes.fromhex(self.key_id), self.signature)
        return note.Note(self.body().text(), (signature,)).render()


def utc_timestamp(moment: datetime | None = None) -> str:
    """Checkpoint timestamp for ``moment`` (default now), e.g. "2025-01-31T12:00:00.123456Z"."""
    moment = datetime.now(UTC) if moment is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checkpoint_message(tree_size: int, root_hash: bytes, timestamp: str, origin: str = "") -> bytes:
    """The exact bytes that are signed; raises ValueError on values that are not canonical."""
    _check_fields(tree_size, root_hash, timestamp, origin)
    if origin:
        return note.CheckpointBody(origin, tree_size, root_hash).text().encode()
    root_b64 = base64.b64encode(root_hash).decode("ascii")
    return f"{CHECKPOINT_HEADER}\n{tree_size}\n{root_b64}\n{timestamp}\n".encode("ascii")


def _check_fields(tree_size: int, root_hash: bytes, timestamp: str, origin: str = "") -> None:
    if origin and (not isinstance(origin, str) or not origin.isprintable()):
        raise ValueError(f"checkpoint origin must be one printable line, not {origin!r}")
    if origin and timestamp == "":
        timestamp = "1970-01-01T00:00:00Z"  # a note read back from text has no local time
    if not isinstance(tree_size, int) or isinstance(tree_size, bool) or tree_size < 0:
        raise ValueError(f"tree size must be a non-negative integer, not {tree_size!r}")
    if not isinstance(root_hash, bytes) or len(root_hash) != ROOT_HASH_SIZE:
        raise ValueError("root hash must be 32 bytes")
    if not isinstance(timestamp, str) or not _TIMESTAMP_PATTERN.fullmatch(timestamp):
        raise ValueError(f"timestamp must be ISO-8601 UTC ending in Z, not {timestamp!r}")
    datetime.fromisoformat(timestamp)  # rejects impossible dates such as month 13


def sign_checkpoint(
    private_key: Ed25519PrivateKey,
    tree_size: int,
    root_hash: bytes,
    timestamp: str,
    origin: str = "",
) -> Checkpoint:
    """Sign a checkpoint: a C2SP signed note when ``origin`` is given (as Haven now does)."""
    message = checkpoint_message(tree_size, root_hash, timestamp, origin)
    return Checkpoint(
        tree_size=tree_size,
        root_hash=root_hash,
        timestamp=timestamp,
        key_id=checkpoint_key_id(private_key.public_key(), origin),
        signature=private_key.sign(message),
        origin=origin,
    )


def checkpoint_key_id(public_key: Ed25519PublicKey, origin: str = "") -> str:
    """How a checkpoint names its key: the note key hash (origin = key name), or the legacy id."""
    if origin:
        return note.key_hash(origin, note.ALGORITHM_ED25519, public_key).hex()
    return key_id_for(public_key)


def find_key(
    checkpoint: Checkpoint, public_keys: Iterable[Ed25519PublicKey]
) -> Ed25519PublicKey | None:
    """The pinned key this checkpoint says signed it, if any."""
    for key in public_keys:
        try:
            if checkpoint_key_id(key, checkpoint.origin) == checkpoint.key_id:
                return key
        except note.NoteError:
            return None
    return None


def verify_checkpoint(public_key: Ed25519PublicKey, checkpoint: Checkpoint) -> bool:
    """True only if the checkpoint names this key and its signature is valid."""
    try:
        if checkpoint.key_id != checkpoint_key_id(public_key, checkpoint.origin):
            return False
        message = checkpoint_message(
            checkpoint.tree_size, checkpoint.root_hash, checkpoint.timestamp, checkpoint.origin
        )
        public_key.verify(checkpoint.signature, message)
    except (ValueError, InvalidSignature):
        return False
    return True


# --- keys ---------------------------------------------------------------------------------


def generate_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def key_id_for(public_key: Ed25519PublicKey) -> str:
    """Short public key fingerprint: first 16 hex chars of SHA-256 of the raw 32-byte key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def private_key_to_pem(private_key: Ed25519PrivateKey, password: bytes | None = None) -> bytes:
    """PKCS#8 PEM, encrypted with ``password`` when one is given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def private_key_from_pem(pem: bytes, password: bytes | None = None) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=password)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def public_key_to_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_from_pem(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


# --- JSON ---------------------------------------------------------------------------------


def checkpoint_to_dict(checkpoint: Checkpoint) -> dict[str, Any]:
    data = {
        "tree_size": checkpoint.tree_size,
        "root_hash": base64.b64encode(checkpoint.root_hash).decode("ascii"),
        "timestamp": checkpoint.timestamp,
        "key_id": checkpoint.key_id,
        "signature": base64.b64encode(checkpoint.signature).decode("ascii"),
    }
    if checkpoint.origin:
        data["origin"] = checkpoint.origin
    return data


def checkpoint_from_dict(data: object) -> Checkpoint:
    """Parse the JSON form; raises ValueError on any missing, extra or malformed field."""
    if not isinstance(data, dict):
        raise ValueError("checkpoint must be a JSON object")
    expected = {"tree_size", "root_hash", "timestamp", "key_id", "signature"}
    if set(data) not in (expected, expected | {"origin"}):
        raise ValueError(f"checkpoint fields must be exactly {sorted(expected)} (and origin)")
    origin = data.get("origin", "")
    if "origin" in data and (not isinstance(origin, str) or not origin):
        raise ValueError("checkpoint origin must be a non-empty string")
    checkpoint = Checkpoint(
        tree_size=data["tree_size"],
        root_hash=decode_base64(data["root_hash"], "checkpoint root_hash"),
        timestamp=data["timestamp"],
        key_id=data["key_id"],
        signature=decode_base64(data["signature"], "checkpoint signature"),
        origin=origin,
    )
    _check_fields(checkpoint.tree_size, checkpoint.root_hash, checkpoint.timestamp, origin)
    pattern = _NOTE_KEY_ID_PATTERN if origin else _KEY_ID_PATTERN
    if not isinstance(checkpoint.key_id, str) or not pattern.fullmatch(checkpoint.key_id):
        raise ValueError(
            "checkpoint key_id must be " + ("8" if origin else "16") + " lowercase hex characters"
        )
    if len(checkpoint.signature) != SIGNATURE_SIZE:
        raise ValueError("checkpoint signature must be 64 bytes")
    return checkpoint


def checkpoint_to_json(checkpoint: Checkpoint) -> str:
    return json.dumps(checkpoint_to_dict(checkpoint), sort_keys=True)


def checkpoint_from_json(text: str | bytes) -> Checkpoint:
    return checkpoint_from_dict(json.loads(text))


def checkpoint_from_note(text: str) -> Checkpoint:
    """A checkpoint given as a signed note (what /ledger/checkpoint serves).

    The log's signature is the first line named by the origin with a 64-byte signature;
    cosignature lines are ignored here.  ValueError when the note is malformed."""
    parsed = note.parse_note(text)
    body = note.parse_checkpoint_text(parsed.text)
    for signature in parsed.signatures:
        if signature.name == body.origin and len(signature.signature) == SIGNATURE_SIZE:
            return Checkpoint(
                tree_size=body.tree_size,
                root_hash=body.root_hash,
                timestamp="",
                key_id=signature.key_hash.hex(),
                signature=signature.signature,
                origin=body.origin,
            )
    raise ValueError(f"the note carries no signature line of the log {body.origin!r}")


def read_checkpoint(data: bytes) -> Checkpoint:
    """A checkpoint file in either form: signed note text, or the JSON of proof documents."""
    text = data.decode("utf-8")
    if text.lstrip().startswith("{"):
        return checkpoint_from_json(text)
    return checkpoint_from_note(text)


def decode_base64(value: object, what: str) -> bytes:
    """Strict standard base64 (no stray characters); ValueError names the field."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"{what} is not valid base64") from error
