"""Encrypted blob store (documents, photos) in ``settings.BLOB_DIR``.

Each blob is one file named by a random id, holding ``crypto.encrypt_bytes`` output under the
active data key. ``aad`` must bind the blob to what owns it (e.g. ``b"case:<uuid>:doc:<uuid>"``)
and be given again to read it, so a blob swapped between owners fails to decrypt.

Key rotation: only the owner knows a blob's ``aad``, so each domain that stores blobs
registers a *blob source* (:func:`register_blob_source`) listing (blob id, aad) for every blob
it owns; :func:`rotate_blobs` re-encrypts those not under the active key, one file at a time
with an atomic replace (so an interrupted rotation simply resumes). A file no source claims is
an orphan: it cannot be re-encrypted and is reported, never silently counted as done.
"""

from __future__ import annotations

import os
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from haven.vault import crypto
from haven.vault.crypto import KeyRing, VaultError, VaultIntegrityError
from haven.vault.keyring import get_keyring, keyring_with

BLOB_ID_PREFIX = "bl"
_BLOB_ID = re.compile(r"bl[0-9a-f]{32}")


class BlobNotFound(VaultError):
    """No blob with this id."""


def _blob_dir() -> Path:
    return Path(settings.BLOB_DIR)


def _path_for(blob_id: str) -> Path:
    if not isinstance(blob_id, str) or not _BLOB_ID.fullmatch(blob_id):
        raise VaultIntegrityError("invalid blob id: expected 'bl' followed by 32 hex digits")
    # Two-level fan-out keeps directories small.
    return _blob_dir() / blob_id[2:4] / blob_id


def store_blob(data: bytes, aad: bytes) -> str:
    """Encrypt ``data`` bound to ``aad``, write it atomically, return the new blob id."""
    blob_id = BLOB_ID_PREFIX + secrets.token_hex(16)
    path = _path_for(blob_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_atomically(path, get_keyring().encrypt_bytes(bytes(data), aad))
    return blob_id


def _write_atomically(path: Path, sealed: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as blob_file:
            blob_file.write(sealed)
            blob_file.flush()
            os.fsync(blob_file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def read_blob(blob_id: str, aad: bytes) -> bytes:
    """Decrypt a stored blob; VaultIntegrityError if altered or read with another ``aad``."""
    path = _path_for(blob_id)
    try:
        sealed = path.read_bytes()
    except FileNotFoundError:
        raise BlobNotFound(f"blob {blob_id} does not exist") from None
    ring = keyring_with(crypto.key_id_of_bytes(sealed))
    return ring.decrypt_bytes(sealed, aad)


def delete_blob(blob_id: str) -> bool:
    """Remove a blob; True if it existed."""
    path = _path_for(blob_id)
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


# --------------------------------------------------------------------------- rotation

BlobSource = Callable[[], Iterable[tuple[str, bytes]]]
_sources: list[BlobSource] = []


def register_blob_source(source: BlobSource) -> None:
    """Register a callable listing (blob id, aad) of every blob a domain owns (AppConfig.ready)."""
    if source not in _sources:
        _sources.append(source)


def _claimed_blobs() -> dict[str, bytes]:
    return {blob_id: aad for source in _sources for blob_id, aad in source() if blob_id}


def _stored_blob_ids() -> Iterable[str]:
    if not _blob_dir().is_dir():
        return
    for path in _blob_dir().glob("*/bl*"):
        if _BLOB_ID.fullmatch(path.name):
            yield path.name


def _key_id_on_disk(blob_id: str) -> str:
    with _path_for(blob_id).open("rb") as blob_file:
        return crypto.key_id_of_bytes(blob_file.read(80))  # magic, length, id: < 70 bytes


@dataclass
class BlobStatus:
    by_key: Counter[str] = field(default_factory=Counter)
    remaining: int = 0  # stored blobs not under the active key
    orphaned: int = 0  # stored blobs no registered source claims (cannot be re-encrypted)


def blob_status(active_key_id: str) -> BlobStatus:
    """Stored blobs per data key, and how many are not under the active key."""
    claimed = _claimed_blobs()
    result = BlobStatus()
    for blob_id in _stored_blob_ids():
        try:
            key_id = _key_id_on_disk(blob_id)
        except (OSError, VaultError):
            key_id = "unreadable"
        result.by_key[key_id] += 1
        if key_id != active_key_id:
            result.remaining += 1
            result.orphaned += blob_id not in claimed
    return result


@dataclass
class BlobRotation:
    reencrypted: int = 0
    remaining: int = 0
    orphaned: int = 0
    failures: list[str] = field(default_factory=list)


def rotate_blobs(ring: KeyRing) -> BlobRotation:
    """Re-encrypt every claimed blob not under the ring's active key (resumable, file by file)."""
    active = ring.active_key_id
    result = BlobRotation()
    for blob_id, aad in _claimed_blobs().items():
        path = _path_for(blob_id)
        try:
            sealed = path.read_bytes()
        except FileNotFoundError:
            continue  # deleted meanwhile (or never stored): nothing to rotate
        try:
            if crypto.key_id_of_bytes(sealed) == active:
                continue
            _write_atomically(path, ring.encrypt_bytes(ring.decrypt_bytes(sealed, aad), aad))
        except VaultError as error:
            result.failures.append(f"document blob {blob_id}: {error}")
            continue
        result.reencrypted += 1
    status = blob_status(active)
    result.remaining, result.orphaned = status.remaining, status.orphaned
    return result
