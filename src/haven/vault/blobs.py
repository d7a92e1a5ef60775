"""Encrypted blob store (documents, photos) in ``settings.BLOB_DIR``.

Each blob is one file named by a random id, holding ``crypto.encrypt_bytes`` output under the
active data key. ``aad`` must bind the blob to what owns it (e.g. ``b"case:<uuid>:doc:<uuid>"``)
and be given again to read it, so a blob swapped between owners fails to decrypt.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from django.conf import settings

from haven.vault import crypto
from haven.vault.crypto import VaultError, VaultIntegrityError
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
    sealed = get_keyring().encrypt_bytes(bytes(data), aad)
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
    return blob_id


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
