"""Reading and creating key files, shared by the vault keys and the ledger signing key.

Each failure is one readable line in the caller's own error type (a VaultKeyError, a
SigningKeyError...), naming the file and, where it helps, how to fix it.
"""

from __future__ import annotations

import os
from pathlib import Path


def read_key_file(path: Path, what: str, hint: str, error: type[Exception]) -> bytes:
    """The bytes of the key file `what` at `path`; `error` if it is missing, unreadable or empty."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise error(f"{what} {path} is missing: {hint}") from None
    except OSError as problem:
        raise error(f"{what} {path} cannot be read: {problem.strerror}") from None
    if not data.strip():
        raise error(f"{what} {path} is empty: {hint}")
    return data


def create_key_file(path: Path, data: bytes, what: str, error: type[Exception]) -> None:
    """Write a new key file readable only by its owner; `error` rather than overwrite one."""
    try:
        # O_EXCL makes "refuse to overwrite" atomic; mode applies before any byte is written.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise error(f"{what} {path} already exists: refusing to overwrite") from None
    except OSError as problem:
        raise error(f"{what} {path} cannot be created: {problem.strerror}") from None
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(data)
