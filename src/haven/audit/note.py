"""C2SP signed notes, checkpoints and cosignatures: the formats outsiders verify.

Pure code (standard library and ``cryptography`` only): ``haven-witness`` and ``haven-verify``
import it without Django.  Byte for byte as specified at c2sp.org:

* signed-note: a note is its text (ending in "\\n"), one empty line, then signature lines
  ``"\u2014 " name " " base64(key hash (4 bytes) || signature) "\\n"``.  The key hash of an
  Ed25519 key is the first 4 bytes of SHA-256(name || "\\n" || 0x01 || 32-byte public key); a
  verifier key is written ``name+<8 hex key hash>+base64(0x01 || public key)``.
* tlog-checkpoint: the note text is ``origin "\\n" tree size "\\n" base64(root hash) "\\n"``.
* tlog-cosignature (cosignature/v1): Ed25519 over
  ``"cosignature/v1\\ntime " T "\\n"`` || checkpoint text, T = seconds since the epoch; the
  signature line carries key hash (algorithm byte 0x04) || T (8 bytes, big-endian) || signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNATURE_DASH = "\u2014 "  # EM DASH and a space open every signature line
ALGORITHM_ED25519 = 0x01
ALGORITHM_COSIGNATURE_V1 = 0x04
KEY_HASH_SIZE = 4
ED25519_SIGNATURE_SIZE = 64
COSIGNATURE_SIZE = 8 + ED25519_SIGNATURE_SIZE
ROOT_HASH_SIZE = 32
MAX_SIGNATURES = 100
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")


class NoteError(ValueError):
    """Not a well-formed note, checkpoint or key (not: a signature that fails to verify)."""


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_hash: bytes
    signature: bytes  # what follows the key hash: Ed25519 signature, or time || signature

    def line(self) -> str:
        encoded = base64.b64encode(self.key_hash + self.signature).decode("ascii")
        return f"{SIGNATURE_DASH}{self.name} {encoded}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[NoteSignature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(signature.line() for signature in self.signatures)


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    tree_size: int
    root_hash: bytes

    def text(self) -> str:
        root = base64.b64encode(self.root_hash).decode("ascii")
        return f"{self.origin}\n{self.tree_size}\n{root}\n"


# --- keys ------------------------------------------------------------------------------------


def raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, algorithm: int, public_key: Ed25519PublicKey) -> bytes:
    check_key_name(name)
    material = name.encode() + b"\n" + bytes([algorithm]) + raw_public_key(public_key)
    return hashlib.sha256(material).digest()[:KEY_HASH_SIZE]


def check_key_name(name: str) -> None:
    if not name or any(ch.isspace() or ch == "+" for ch in name) or not name.isprintable():
        raise NoteError(f"key name must be non-empty, without spaces or '+': {name!r}")


def verifier_key(name: str, algorithm: int, public_key: Ed25519PublicKey) -> str:
    """The vkey text ``name+hash+base64(algorithm || key)`` that names and pins a key."""
    encoded = base64.b64encode(bytes([algorithm]) + raw_public_key(public_key)).decode("ascii")
    return f"{name}+{key_hash(name, algorithm, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class VerifierKey:
    name: str
    algorithm: int
    public_key: Ed25519PublicKey

    @property
    def key_hash(self) -> bytes:
        return key_hash(self.name, self.algorithm, self.public_key)

    def text(self) -> str:
        return verifier_key(self.name, self.algorithm, self.public_key)


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse a vkey; NoteError unless the hash matches the name and key it is written with."""
    parts = text.strip().split("+", 2)  # base64 may contain "+"; the name and hash do not
    if len(parts) != 3:
        raise NoteError("a verifier key is name+hash+base64 key")
    name, hash_hex, encoded = parts
    check_key_name(name)
    data = strict_base64(encoded, "verifier key")
    if len(data) != 33 or data[0] not in (ALGORITHM_ED25519, ALGORITHM_COSIGNATURE_V1):
        raise NoteError("verifier key is not an Ed25519 (0x01) or cosignature/v1 (0x04) key")
    key = VerifierKey(name, data[0], Ed25519PublicKey.from_public_bytes(data[1:]))
    if key.key_hash.hex() != hash_hex.lower():
        raise NoteError(f"verifier key {name}: key hash {hash_hex} does not match the key")
    return key


def strict_base64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not valid base64") from None


# --- notes -----------------------------------------------------------------------------------


def parse_note(data: str) -> Note:
    """Split a note into text and signature lines (signatures unverified)."""
    if "\n\n" not in data or not data.endswith("\n"):
        raise NoteError("a signed note is text, an empty line, then signature lines")
    split = data.rindex("\n\n")
    text, lines = data[: split + 1], data[split + 2 :].splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a signed note carries 1 to {MAX_SIGNATURES} signature lines")
    return Note(text, tuple(_parse_signature_line(line) for line in lines))


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_DASH):
        raise NoteError("a signature line starts with an em dash and a space")
    name, _, encoded = line[len(SIGNATURE_DASH) :].partition(" ")
    check_key_name(name)
    data = strict_base64(encoded, "signature")
    if len(data) <= KEY_HASH_SIZE:
        raise NoteError("a signature is longer than its key hash")
    return NoteSignature(name, data[:KEY_HASH_SIZE], data[KEY_HASH_SIZE:])


def parse_signature_lines(data: str) -> list[NoteSignature]:
    """Signature lines alone, e.g. a witness's add-checkpoint response."""
    return [_parse_signature_line(line) for line in data.splitlines() if line]


def sign_note_text(text: str, name: str, private_key: Ed25519PrivateKey) -> NoteSignature:
    hash_ = key_hash(name, ALGORITHM_ED25519, private_key.public_key())
    return NoteSignature(name, hash_, private_key.sign(text.encode()))


def _names_key(signature: NoteSignature, key: VerifierKey, algorithm: int, size: int) -> bool:
    """Whether a signature line is for this key (its algorithm, name and key hash) and has the
    length that algorithm's signatures have: checked before any signature is verified."""
    return (
        key.algorithm == algorithm
        and (signature.name, signature.key_hash) == (key.name, key.key_hash)
        and len(signature.signature) == size
    )


def verify_note_signature(text: str, signature: NoteSignature, key: VerifierKey) -> bool:
    """True when the line is by this Ed25519 key (name and hash) and the signature holds."""
    if not _names_key(signature, key, ALGORITHM_ED25519, ED25519_SIGNATURE_SIZE):
        return False
    try:
        key.public_key.verify(signature.signature, text.encode())
    except InvalidSignature:
        return False
    return True


# --- checkpoints -----------------------------------------------------------------------------


def parse_checkpoint_text(text: str) -> CheckpointBody:
    """origin, tree size and root of a checkpoint note text; extension lines are refused
    because Haven never writes them and nothing here would check them."""
    lines = text.split("\n")
    if len(lines) != 4 or lines[3] != "":
        raise NoteError("a Haven checkpoint is exactly three lines: origin, size, root hash")
    origin, size, root = lines[:3]
    if not origin or not origin.isprintable():
        raise NoteError("checkpoint origin must be a non-empty printable line")
    if not _DECIMAL.fullmatch(size):
        raise NoteError("checkpoint tree size must be a decimal without leading zeros")
    root_hash = strict_base64(root, "checkpoint root hash")
    if len(root_hash) != ROOT_HASH_SIZE:
        raise NoteError("checkpoint root hash must be 32 bytes")
    return CheckpointBody(origin, int(size), root_hash)


# --- cosignatures ----------------------------------------------------------------------------


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n".encode() + checkpoint_text.encode()


def cosign(
    checkpoint_text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int
) -> NoteSignature:
    if timestamp <= 0:
        raise NoteError("a cosignature timestamp must be positive")
    hash_ = key_hash(name, ALGORITHM_COSIGNATURE_V1, private_key.public_key())
    signed = private_key.sign(cosignature_message(checkpoint_text, timestamp))
    return NoteSignature(name, hash_, struct.pack(">Q", timestamp) + signed)


def cosignature_time(signature: NoteSignature) -> int:
    if len(signature.signature) != COSIGNATURE_SIZE:
        raise NoteError("a cosignature/v1 signature is 8 + 64 bytes")
    timestamp: int = struct.unpack(">Q", signature.signature[:8])[0]
    return timestamp


def verify_cosignature(checkpoint_text: str, signature: NoteSignature, key: VerifierKey) -> bool:
    if not _names_key(signature, key, ALGORITHM_COSIGNATURE_V1, COSIGNATURE_SIZE):
        return False
    timestamp = cosignature_time(signature)
    try:
        key.public_key.verify(
            signature.signature[8:], cosignature_message(checkpoint_text, timestamp)
        )
    except InvalidSignature:
        return False
    return timestamp > 0


def valid_cosigners(
    checkpoint_text: str, signatures: Iterable[NoteSignature], keys: Sequence[VerifierKey]
) -> set[str]:
    """Names of the given witness keys with a valid cosignature among ``signatures``."""
    return {
        key.name
        for signature in signatures
        for key in keys
        if verify_cosignature(checkpoint_text, signature, key)
    }
