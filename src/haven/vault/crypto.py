"""Envelope encryption for protected fields and documents.

Scheme (see DESIGN.md, "Vault (field encryption)"):

* A key-encryption key (KEK, 32 bytes) lives outside the database: a file or the
  ``HAVEN_KEK`` environment variable in development, a KMS/HSM in production.
* Data keys (DEK, 32 bytes) are stored in the database wrapped by a KEK with AES-256-GCM.
  The wrapped blob names its KEK so KEKs can be rotated by re-wrapping.
* Every field value is encrypted under a DEK with AES-256-GCM and a random 96-bit nonce.
  The token names its DEK, and associated data binds it to (table, column, row id), so a
  ciphertext copied to another row or column fails to decrypt.

Random 96-bit nonces are safe for about 2**32 encryptions per data key. A KeyRing counts its
encryptions through a ``reserve`` callback (leases of encryptions persisted *before* they are
used, see keyring.py), which rotates to a new key well before that or refuses to encrypt.

Formats::

    field token   "hv1.<dek_id>.<urlsafe-b64 without padding(nonce12 || ciphertext || tag16)>"
    document      b"hv1" || len(dek_id) (1 byte) || dek_id || nonce12 || ciphertext || tag16
    wrapped DEK   b"hvk1" || len(kek_id) (1 byte) || kek_id || nonce12 || ciphertext || tag16
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import os
import re
import secrets
import struct
import threading
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from haven.vault.keyfiles import create_key_file

KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
KEK_ENV_VAR = "HAVEN_KEK"

FIELD_TOKEN_PREFIX = "hv1"
DOCUMENT_MAGIC = b"hv1"
WRAPPED_KEY_MAGIC = b"hvk1"

# Key ids appear inside "."-separated tokens and are length-prefixed with one byte.
_KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Domain-separation labels so a field token, a document and a wrapped key can never be
# replayed as one another even if the same key and AAD were used.
_FIELD_AAD_LABEL = b"haven-field-v1"
_DOCUMENT_AAD_LABEL = b"haven-document-v1"
_DEK_AAD_PREFIX = b"haven-dek:"


class VaultError(Exception):
    """Base class for every vault failure."""


class VaultKeyError(VaultError):
    """Key material is missing, malformed or of the wrong length."""


class VaultIntegrityError(VaultError):
    """A ciphertext is tampered, bound to another row/column, malformed or of unknown key."""


# --------------------------------------------------------------------------- helpers


def _check_key_id(key_id: str, what: str) -> None:
    if not isinstance(key_id, str) or not _KEY_ID_PATTERN.fullmatch(key_id):
        raise VaultKeyError(f"invalid {what} {key_id!r}: use 1-64 characters from A-Z a-z 0-9 _ -")


def _check_key_length(key: bytes, what: str) -> None:
    if len(key) != KEY_BYTES:
        raise VaultKeyError(f"{what} must be {KEY_BYTES} bytes, got {len(key)}")


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# Bits of the last character that carry no data, by unpadded length modulo 4: they must be
# zero in the canonical spelling (a length of 1 modulo 4 is never valid base64).
_UNUSED_LOW_BITS = {0: 0, 2: 0b1111, 3: 0b11}
# urlsafe -> standard alphabet; the two characters only the standard alphabet has become "!",
# which binascii's strict mode refuses like any other stranger (one pass finds them all).
_URLSAFE_TO_STRICT = bytes.maketrans(b"-_+/", b"+/!!")
_PADDING_BY_LENGTH = (b"", b"", b"==", b"=")  # by unpadded length modulo 4


_B64_VALUE = {character: value for value, character in enumerate(_B64_ALPHABET)}
# The last characters a canonical unpadded payload may end with, by its length modulo 4 (a
# length of 1 modulo 4 is never valid, and an empty payload has no last character).
_CANONICAL_LAST_BY_SIZE: tuple[frozenset[str], ...] = (
    frozenset(_B64_ALPHABET),
    frozenset(),
    frozenset(c for c in _B64_ALPHABET if not _B64_VALUE[c] & _UNUSED_LOW_BITS[2]),
    frozenset(c for c in _B64_ALPHABET if not _B64_VALUE[c] & _UNUSED_LOW_BITS[3]),
)


def _b64decode(text: str) -> bytes:
    """Decode urlsafe base64, tolerating missing padding; raise ValueError otherwise.

    Only the canonical spelling is accepted (no stray low bits in the last character), so each
    byte string has exactly one text form. The alphabet and padding are checked by binascii's
    strict mode, canonicity on the last character alone: no pattern match, no re-encoding of
    the payload.
    """
    unpadded = text.rstrip("=")
    unused = _UNUSED_LOW_BITS.get(len(unpadded) % 4)
    if unused is None or len(text) - len(unpadded) > 2:
        raise ValueError("not urlsafe base64")
    if unused and _B64_VALUE.get(unpadded[-1], 0) & unused:
        raise ValueError("not canonical urlsafe base64")
    try:
        standard = unpadded.encode("ascii").translate(_URLSAFE_TO_STRICT)
        return binascii.a2b_base64(
            standard + _PADDING_BY_LENGTH[len(unpadded) % 4], strict_mode=True
        )
    except (UnicodeEncodeError, binascii.Error) as error:
        raise ValueError("not urlsafe base64") from error


def _length_prefixed(parts: Iterable[bytes]) -> bytes:
    """Encode parts unambiguously: each is preceded by its 4-byte big-endian length."""
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)


def _seal(key: bytes | AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """nonce||ciphertext||tag under a key or an AESGCM object already made for it."""
    nonce = os.urandom(NONCE_BYTES)
    cipher = key if isinstance(key, AESGCM) else AESGCM(key)
    return nonce + cipher.encrypt(nonce, plaintext, aad)


def _open(key: bytes | AESGCM, sealed: bytes, aad: bytes) -> bytes:
    """Authenticate and decrypt nonce||ciphertext||tag; raise InvalidTag on any mismatch."""
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise InvalidTag()
    nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    cipher = key if isinstance(key, AESGCM) else AESGCM(key)
    return cipher.decrypt(nonce, ciphertext, aad)


# Maps a data key id to its key bytes or to an AESGCM object for it; raises KeyError if unknown.
KeyResolver = Callable[[str], "bytes | AESGCM"]


def _resolve(resolve_dek: KeyResolver, dek_id: str) -> bytes | AESGCM:
    try:
        dek = resolve_dek(dek_id)
    except KeyError:
        raise VaultIntegrityError(f"ciphertext uses unknown data key {dek_id!r}") from None
    if not isinstance(dek, AESGCM):
        _check_key_length(dek, f"data key {dek_id!r}")
    return dek


_TAMPERED = (
    "ciphertext failed authentication: it was altered, or belongs to another row/column "
    "or to another owning case"
)


# --------------------------------------------------------------------------- KEK


def derive_kek_id(kek: bytes) -> str:
    """Stable short id for a KEK (a hash, so it reveals nothing usable about the key)."""
    return hashlib.sha256(b"haven-kek-id:" + kek).hexdigest()[:8]


def parse_kek_text(text: str, source: str) -> tuple[str, bytes]:
    """Parse "base64" or "id:base64" into (kek_id, kek); ``source`` describes it in errors."""
    stripped = text.strip()
    if not stripped:
        raise VaultKeyError(f"{source} is empty: run `haven keys init` or set {KEK_ENV_VAR}")
    kek_id, _, encoded = stripped.rpartition(":")
    try:
        kek = _b64decode(encoded)
    except ValueError:
        # Never echo the text: it is (probably) key material.
        raise VaultKeyError(
            f"{source} is not urlsafe base64 of {KEY_BYTES} bytes (optionally 'id:' first)"
        ) from None
    if len(kek) != KEY_BYTES:
        raise VaultKeyError(
            f"{source} holds {len(kek)} bytes, expected {KEY_BYTES}: "
            "generate one with `haven keys init`"
        )
    if kek_id:
        _check_key_id(kek_id, f"key id in {source}")
        return kek_id, kek
    return derive_kek_id(kek), kek


def load_kek(path: Path | None, env_value: str | None) -> tuple[str, bytes]:
    """Return (kek_id, kek) from the environment value if set, else from the key file."""
    if env_value is not None and env_value.strip():
        return parse_kek_text(env_value, f"HAVEN key in the {KEK_ENV_VAR} environment variable")
    if path is None:
        raise VaultKeyError(
            f"no HAVEN key-encryption key configured: run `haven keys init` or set {KEK_ENV_VAR}"
        )
    try:
        text = Path(path).read_text(encoding="ascii")
    except FileNotFoundError:
        raise VaultKeyError(
            f"HAVEN key file {path} is missing: run `haven keys init` or set {KEK_ENV_VAR}"
        ) from None
    except UnicodeDecodeError:
        raise VaultKeyError(f"HAVEN key file {path} is not ASCII key text") from None
    except OSError as error:
        raise VaultKeyError(f"HAVEN key file {path} cannot be read: {error.strerror}") from None
    return parse_kek_text(text, f"HAVEN key file {path}")


def generate_kek_text() -> str:
    """New random KEK as key-file text (urlsafe base64 of 32 bytes, newline-terminated)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii") + "\n"


def write_kek_file(path: Path) -> str:
    """Create a new KEK file readable only by its owner; return its kek_id. Never overwrites."""
    text = generate_kek_text()
    create_key_file(path, text.encode("ascii"), "HAVEN key file", VaultKeyError)
    return parse_kek_text(text, f"HAVEN key file {path}")[0]


# --------------------------------------------------------------------------- DEK


def new_data_key() -> bytes:
    """Fresh random 32-byte data key."""
    return secrets.token_bytes(KEY_BYTES)


def _dek_aad(dek_id: str) -> bytes:
    return _DEK_AAD_PREFIX + dek_id.encode("ascii")


def wrap_data_key(kek_id: str, kek: bytes, dek_id: str, dek: bytes) -> bytes:
    """Encrypt a data key under a KEK; the result names the KEK for later unwrapping."""
    _check_key_id(kek_id, "KEK id")
    _check_key_id(dek_id, "data key id")
    _check_key_length(kek, "key-encryption key")
    _check_key_length(dek, "data key")
    kek_id_bytes = kek_id.encode("ascii")
    header = WRAPPED_KEY_MAGIC + bytes([len(kek_id_bytes)]) + kek_id_bytes
    return header + _seal(kek, dek, _dek_aad(dek_id))


def _split_key_id_header(blob: bytes, magic: bytes, what: str) -> tuple[str, bytes]:
    """Split ``magic || len || key_id || rest`` into (key_id, rest)."""
    if not blob.startswith(magic) or len(blob) <= len(magic):
        raise VaultIntegrityError(f"{what} has an unknown format")
    id_length = blob[len(magic)]
    id_start = len(magic) + 1
    id_bytes = blob[id_start : id_start + id_length]
    try:
        key_id = id_bytes.decode("ascii")
    except UnicodeDecodeError:
        key_id = ""
    if len(id_bytes) != id_length or not _KEY_ID_PATTERN.fullmatch(key_id):
        raise VaultIntegrityError(f"{what} has a malformed key id")
    return key_id, blob[id_start + id_length :]


def wrapping_kek_id(wrapped: bytes) -> str:
    """Id of the KEK that wrapped this data key (to pick the KEK, or find keys to rewrap)."""
    return _split_key_id_header(wrapped, WRAPPED_KEY_MAGIC, "wrapped data key")[0]


def unwrap_data_key(keks: Mapping[str, bytes], dek_id: str, wrapped: bytes) -> bytes:
    """Decrypt a wrapped data key with whichever KEK it names."""
    kek_id, sealed = _split_key_id_header(wrapped, WRAPPED_KEY_MAGIC, "wrapped data key")
    if kek_id not in keks:
        raise VaultIntegrityError(f"data key {dek_id!r} is wrapped by unknown KEK {kek_id!r}")
    try:
        dek = _open(keks[kek_id], sealed, _dek_aad(dek_id))
    except InvalidTag:
        raise VaultIntegrityError(
            f"data key {dek_id!r} failed to unwrap with KEK {kek_id!r}: wrong key or altered"
        ) from None
    _check_key_length(dek, f"data key {dek_id!r}")
    return dek


def rewrap_data_key(
    keks: Mapping[str, bytes], dek_id: str, wrapped: bytes, new_kek_id: str, new_kek: bytes
) -> bytes:
    """Re-wrap a data key under another KEK (KEK rotation: field ciphertexts are untouched)."""
    return wrap_data_key(new_kek_id, new_kek, dek_id, unwrap_data_key(keks, dek_id, wrapped))


# --------------------------------------------------------------------------- fields


_LENGTH = struct.Struct(">I")


def field_aad(table: str, column: str, row_id: str, owner: str | None = None) -> bytes:
    """Associated data binding a ciphertext to one cell; unambiguous for any strings.

    ``owner`` (e.g. ``"case_id=<uuid>"``) binds a case-owned record to its owning case too, so
    a row re-pointed at another case in the database fails to decrypt. It is a fourth
    length-prefixed part, so owned and unowned cells can never share associated data.
    """
    return _column_aad_prefix(table, column) + row_aad(row_id, owner)


def row_aad(row_id: str, owner: str | None = None) -> bytes:
    """The row's part of :func:`field_aad` (its end: the row id, then the owner if any, each
    length-prefixed), the same for every column of the row."""
    row = str(row_id).encode("utf-8")
    if owner is None:
        return _LENGTH.pack(len(row)) + row
    owner_bytes = owner.encode("utf-8")
    return _LENGTH.pack(len(row)) + row + _LENGTH.pack(len(owner_bytes)) + owner_bytes


@lru_cache(maxsize=1024)
def _column_aad_prefix(table: str, column: str) -> bytes:
    # The same bytes field_aad always began with, computed once per column (a code constant).
    return _FIELD_AAD_LABEL + _length_prefixed((table.encode("utf-8"), column.encode("utf-8")))


@lru_cache(maxsize=256)
def _key_aad_prefix(label: bytes, dek_id: str) -> bytes:
    return label + _length_prefixed((dek_id.encode("ascii"),))


def _full_aad(label: bytes, dek_id: str, aad: bytes) -> bytes:
    # The format label and key id are authenticated too, so neither can be swapped.
    return _key_aad_prefix(label, dek_id) + struct.pack(">I", len(aad)) + aad


def encrypt_field(dek_id: str, dek: bytes | AESGCM, plaintext: str, aad: bytes) -> str:
    """Encrypt text to an ASCII token ``hv1.<dek_id>.<b64>``; random nonce each time.

    ``dek`` may be an AESGCM object already made for the key (the key ring keeps one per key,
    checked when the key was added)."""
    _check_key_id(dek_id, "data key id")
    if not isinstance(dek, AESGCM):
        _check_key_length(dek, "data key")
    sealed = _seal(dek, plaintext.encode("utf-8"), _full_aad(_FIELD_AAD_LABEL, dek_id, aad))
    return f"{FIELD_TOKEN_PREFIX}.{dek_id}.{_b64encode(sealed)}"


def _parse_token(token: str) -> tuple[str, str]:
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or parts[0] != FIELD_TOKEN_PREFIX:
        raise VaultIntegrityError("not a HAVEN vault token (expected 'hv1.<key id>.<data>')")
    _, dek_id, payload = parts
    if not _KEY_ID_PATTERN.fullmatch(dek_id):
        raise VaultIntegrityError("vault token has a malformed key id")
    return dek_id, payload


def key_id_of(token: str) -> str:
    """Data key id named by a field token (for rotation: find values on old keys)."""
    return _parse_token(token)[0]


def decrypt_field(token: str, aad: bytes, resolve_dek: KeyResolver) -> str:
    """Decrypt a field token; ``resolve_dek`` maps a key id to its DEK (or an AESGCM object
    for it) or raises KeyError."""
    dek_id, payload = _parse_token(token)
    try:
        sealed = _b64decode(payload)
    except ValueError:
        raise VaultIntegrityError("vault token payload is not urlsafe base64") from None
    dek = _resolve(resolve_dek, dek_id)
    return _open_text(dek, sealed, _full_aad(_FIELD_AAD_LABEL, dek_id, aad))


def _open_text(key: bytes | AESGCM, sealed: bytes, full_aad: bytes) -> str:
    """A field token's sealed payload as text; a forged, moved or garbled one is refused."""
    try:
        plaintext = _open(key, sealed, full_aad)
    except InvalidTag:
        raise VaultIntegrityError(_TAMPERED) from None
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise VaultIntegrityError("decrypted field is not UTF-8 text") from None


# --------------------------------------------------------------------------- documents


def encrypt_bytes(dek_id: str, dek: bytes | AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt a document to ``b"hv1" || len || dek_id || nonce || ciphertext || tag``."""
    _check_key_id(dek_id, "data key id")
    if not isinstance(dek, AESGCM):
        _check_key_length(dek, "data key")
    dek_id_bytes = dek_id.encode("ascii")
    header = DOCUMENT_MAGIC + bytes([len(dek_id_bytes)]) + dek_id_bytes
    return header + _seal(dek, plaintext, _full_aad(_DOCUMENT_AAD_LABEL, dek_id, aad))


def key_id_of_bytes(blob: bytes) -> str:
    """Data key id named by an encrypted document."""
    return _split_key_id_header(blob, DOCUMENT_MAGIC, "encrypted document")[0]


def decrypt_bytes(blob: bytes, aad: bytes, resolve_dek: KeyResolver) -> bytes:
    """Decrypt a document produced by :func:`encrypt_bytes`."""
    dek_id, sealed = _split_key_id_header(blob, DOCUMENT_MAGIC, "encrypted document")
    dek = _resolve(resolve_dek, dek_id)
    try:
        return _open(dek, sealed, _full_aad(_DOCUMENT_AAD_LABEL, dek_id, aad))
    except InvalidTag:
        raise VaultIntegrityError(_TAMPERED) from None


# --------------------------------------------------------------------------- key ring


Reserve = Callable[[str, int], None]

# Bound on a key ring's cached (key, table, column, row length) entries: a handful per column.
_MAX_CELLS = 4096


class KeyRing:
    """Unwrapped data keys in memory, one of them active for new encryptions.

    Storage-agnostic: the caller (e.g. the Django DataKey table) unwraps and adds keys. With
    ``reserve``, every encryption under the active key is counted: before the first one and
    every ``lease`` ones after, ``reserve(key_id, lease)`` must record (persist) ``lease`` more
    encryptions or raise to refuse. Counting is one atomic ``next()`` per encryption.
    """

    def __init__(self, reserve: Reserve | None = None, lease: int = 1024) -> None:
        self._keys: dict[str, bytes] = {}
        # One AESGCM object per data key, made once: building one costs more than a field's
        # whole decryption. They hold the same key material as ``_keys``, nothing more.
        self._ciphers: dict[str, AESGCM] = {}
        # Per (token head "hv1.<data key id>", table, column, length of the row's part of
        # the associated data):
        # the cipher and every byte of the associated data before the row's part, so reading
        # a cell looks up one entry (see open_cell). Bounded: cleared past _MAX_CELLS.
        self._cells: dict[tuple[str, str, str, int], tuple[AESGCM, bytes]] = {}
        self._active_key_id: str | None = None
        self._reserve = reserve
        self._lease = max(1, lease)
        self._used = itertools.count()
        self._granted = 0
        self._lease_key: str | None = None
        self._lease_lock = threading.Lock()

    def __repr__(self) -> str:
        # Never show key material, only ids.
        return f"KeyRing(active={self._active_key_id!r}, key_ids={sorted(self._keys)!r})"

    def add_key(self, dek_id: str, dek: bytes, active: bool = False) -> None:
        """Add (or replace) a data key; ``active=True`` makes it the key for new writes."""
        _check_key_id(dek_id, "data key id")
        _check_key_length(dek, f"data key {dek_id!r}")
        self._keys[dek_id] = bytes(dek)
        self._ciphers[dek_id] = AESGCM(self._keys[dek_id])
        self._cells.clear()  # a replaced key must not keep its old cipher
        if active:
            self._active_key_id = dek_id

    @property
    def active_key_id(self) -> str:
        if self._active_key_id is None:
            raise VaultKeyError("HAVEN key ring has no active data key: run `haven keys init`")
        return self._active_key_id

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def __contains__(self, dek_id: object) -> bool:
        return dek_id in self._keys

    def resolve(self, dek_id: str) -> bytes:
        """DEK for an id; raises KeyError if absent (as :func:`decrypt_field` expects)."""
        return self._keys[dek_id]

    def cipher(self, dek_id: str) -> AESGCM:
        """The AESGCM object for a data key id; raises KeyError if absent."""
        return self._ciphers[dek_id]

    def adopt_lease(self, previous: KeyRing) -> None:
        """Keep the unused part of `previous`'s lease if the active key is unchanged (a reload
        of the ring must not waste a lease each time)."""
        if previous._reserve is None or previous._lease_key != self._active_key_id:
            return
        with previous._lease_lock:
            used = next(previous._used)
            self._granted = max(0, previous._granted - used)
            self._lease_key = previous._lease_key
            # The sentinel next() above consumed one number: a lost encryption, counted anyway.

    def _count_encryption(self, active_id: str) -> None:
        if self._reserve is None:
            return
        number = next(self._used)  # atomic in CPython: no lock on the fast path
        if number < self._granted and self._lease_key == active_id:
            return
        with self._lease_lock:
            if self._lease_key != active_id:
                self._used, number, self._granted = itertools.count(1), 0, 0
                self._lease_key = active_id
            while number >= self._granted:
                self._reserve(active_id, self._lease)  # may raise: refuse to encrypt
                self._granted += self._lease

    def reserve_ahead(self, count: int) -> None:
        """Lease `count` more encryptions under the active key now, in one reservation of at
        least a lease: a bulk load reserves once per batch instead of once per lease (each
        reservation is a write on its own connection). Unused encryptions stay counted."""
        if self._reserve is None or count <= 0:
            return
        active_id = self.active_key_id
        with self._lease_lock:
            if self._lease_key != active_id:
                self._used, self._granted = itertools.count(), 0
                self._lease_key = active_id
            # Peeking takes a number, as adopt_lease's does: one encryption counted unused.
            shortfall = next(self._used) + 1 + count - self._granted
            if shortfall > 0:
                grant = max(self._lease, shortfall)
                self._reserve(active_id, grant)  # may raise: refuse to encrypt
                self._granted += grant

    def encrypt(self, plaintext: str, aad: bytes) -> str:
        active_id = self.active_key_id
        self._count_encryption(active_id)
        return encrypt_field(active_id, self._ciphers[active_id], plaintext, aad)

    def encrypt_column(
        self, table: str, column: str, plaintexts: list[str | None], row_parts: list[bytes]
    ) -> list[str | None]:
        """The tokens ``encrypt(text, field_aad(table, column, …))`` makes for one column of
        many rows (bulk loads), in one pass: the key, the cipher and the associated data's
        prefix looked up once, every encryption counted against the lease as ``encrypt``
        counts it. ``row_parts[i]`` is row i's :func:`row_aad`; None stays None."""
        self.reserve_ahead(sum(plaintext is not None for plaintext in plaintexts))
        active_id = self.active_key_id
        cipher = self._ciphers[active_id]
        column_prefix = _column_aad_prefix(table, column)
        key_prefix = _key_aad_prefix(_FIELD_AAD_LABEL, active_id)
        token_prefix = f"{FIELD_TOKEN_PREFIX}.{active_id}."
        pack, urandom, encrypt, encode = _LENGTH.pack, os.urandom, cipher.encrypt, _b64encode
        tokens: list[str | None] = []
        for plaintext, row_part in zip(plaintexts, row_parts, strict=True):
            if plaintext is None:
                tokens.append(None)
                continue
            self._count_encryption(active_id)
            aad = column_prefix + row_part
            nonce = urandom(NONCE_BYTES)
            sealed = encrypt(nonce, plaintext.encode("utf-8"), key_prefix + pack(len(aad)) + aad)
            tokens.append(token_prefix + encode(nonce + sealed))
        return tokens

    def decrypt(self, token: str, aad: bytes) -> str:
        parts = token.split(".") if isinstance(token, str) else []
        cipher = self._ciphers.get(parts[1]) if len(parts) == 3 and parts[0] == "hv1" else None
        if cipher is None:
            # Malformed, or a key this ring does not hold: the checked path says which.
            return decrypt_field(token, aad, self.cipher)
        # The same checks as decrypt_field, minus the key id pattern: an id in this ring was
        # checked when its key was added.
        try:
            sealed = _b64decode(parts[2])
        except ValueError:
            raise VaultIntegrityError("vault token payload is not urlsafe base64") from None
        return _open_text(cipher, sealed, _full_aad(_FIELD_AAD_LABEL, parts[1], aad))

    def decrypt_cell(
        self, token: str, table: str, column: str, row_id: str, owner: str | None = None
    ) -> str:
        """Decrypt the field token of one cell: the same checks and the same associated data
        as ``decrypt(token, field_aad(table, column, row_id, owner))``, in one pass (the key id
        split once; the cipher and the associated-data prefixes of the key and the column
        found by one look-up; a canonical unpadded payload decoded by one strict binascii
        call). Raises KeyError if this ring does not hold the token's key (the caller
        reloads)."""
        return self.open_cell(token, table, column, row_aad(row_id, owner))

    def open_cell(self, token: str, table: str, column: str, row_part: bytes) -> str:
        """:meth:`decrypt_cell` with the row's part of the associated data made already
        (:func:`row_aad`): the cells of one row share it."""
        # The token's head "hv1.<key id>" names the cell's entry: only a well-formed head of a
        # key this ring holds has one (see _cell), and the payload after the last "." has no
        # "." in it, so a hit is a token of exactly three parts, as decrypt_field wants.
        head_text, _, payload = token.rpartition(".")
        found = self._cells.get((head_text, table, column, len(row_part)))
        if found is None:
            found = self._cell(head_text, table, column, len(row_part))
            if found is None:  # not a vault token: the checked path says what is wrong
                aad = _column_aad_prefix(table, column) + row_part
                return decrypt_field(token, aad, self.cipher)
        cipher, head = found
        size = len(payload) & 3
        try:
            if payload[-1:] in _CANONICAL_LAST_BY_SIZE[size]:
                # What _b64decode accepts with no padding, and the bytes it returns: the
                # alphabet (and ASCII) checked by the translation and strict mode, canonicity
                # by the last character. Anything else (padding, strangers) takes that path.
                sealed = binascii.a2b_base64(
                    payload.encode("ascii").translate(_URLSAFE_TO_STRICT)
                    + _PADDING_BY_LENGTH[size],
                    strict_mode=True,
                )
            else:
                sealed = _b64decode(payload)
        except ValueError:  # UnicodeEncodeError and binascii.Error are ValueErrors too
            raise VaultIntegrityError("vault token payload is not urlsafe base64") from None
        return _open_text(cipher, sealed, head + row_part)

    def _cell(
        self, head_text: str, table: str, column: str, row_length: int
    ) -> tuple[AESGCM, bytes] | None:
        """Cipher and associated-data head for the cells of (token head "hv1.<key id>", table,
        column, length of the row's part); None for a head that is not "hv1." and one key id,
        KeyError if this ring does not hold that key. Made once, then kept in ``_cells``. The
        head is what makes ``head + row_aad(row_id, owner)`` equal to
        ``_full_aad(label, key id, field_aad(table, column, row_id, owner))``, byte for byte."""
        prefix, dot, dek_id = head_text.partition(".")
        if prefix != FIELD_TOKEN_PREFIX or not dot or "." in dek_id:
            return None
        cipher = self._ciphers[dek_id]
        column_prefix = _column_aad_prefix(table, column)
        head = (
            _key_aad_prefix(_FIELD_AAD_LABEL, dek_id)
            + _LENGTH.pack(len(column_prefix) + row_length)
            + column_prefix
        )
        if len(self._cells) >= _MAX_CELLS:
            self._cells.clear()
        self._cells[head_text, table, column, row_length] = (cipher, head)
        return cipher, head

    def holds_key_of(self, token: str) -> bool:
        """Whether this ring holds the data key a field token names (no other checks)."""
        parts = token.split(".", 2)
        return len(parts) == 3 and parts[1] in self._ciphers

    def encrypt_bytes(self, plaintext: bytes, aad: bytes) -> bytes:
        active_id = self.active_key_id
        self._count_encryption(active_id)
        return encrypt_bytes(active_id, self._ciphers[active_id], plaintext, aad)

    def decrypt_bytes(self, blob: bytes, aad: bytes) -> bytes:
        return decrypt_bytes(blob, aad, self.cipher)

    def needs_reencryption(self, token: str) -> bool:
        """True if a field token is not under the active key (rotation work remains)."""
        return key_id_of(token) != self.active_key_id

    def reencrypt(self, token: str, aad: bytes) -> str:
        """Token re-encrypted under the active key (unchanged plaintext, fresh nonce)."""
        return self.encrypt(self.decrypt(token, aad), aad)
