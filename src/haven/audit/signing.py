"""The ledger's checkpoint signing key (Ed25519).

Where the private key comes from, first match wins:

* env ``HAVEN_LEDGER_SIGNING_KEY``: the PEM text itself (PKCS#8, unencrypted);
* the file ``settings.KEY_DIR / "ledger-signing.pem"`` (mode 0600), written by
  ``haven audit init-key``.

``haven audit public-key`` prints the matching public key (SubjectPublicKeyInfo PEM): that is
all an oversight body needs to run ``haven-verify`` on a proof.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from haven.audit.checkpoint import (
    generate_signing_key,
    key_id_for,
    private_key_from_pem,
    private_key_to_pem,
    public_key_from_pem,
    public_key_to_pem,
)
from haven.vault.keyfiles import create_key_file, read_key_file

SIGNING_KEY_ENV_VAR = "HAVEN_LEDGER_SIGNING_KEY"
SIGNING_KEY_FILE_NAME = "ledger-signing.pem"
_HINT = f"run `haven audit init-key` or set {SIGNING_KEY_ENV_VAR}"


class SigningKeyError(RuntimeError):
    """The signing key is missing or unusable; the message is one line."""


def signing_key_path() -> Path:
    return Path(settings.KEY_DIR) / SIGNING_KEY_FILE_NAME


def load_signing_key() -> Ed25519PrivateKey:
    """The configured private key; SigningKeyError with one clear line if there is none."""
    env_value = os.environ.get(SIGNING_KEY_ENV_VAR, "")
    if env_value.strip():
        return _parse(env_value.encode(), f"the {SIGNING_KEY_ENV_VAR} environment variable")
    path = signing_key_path()
    pem = read_key_file(path, "ledger signing key", _HINT, SigningKeyError)
    return _parse(pem, str(path))


def _parse(pem: bytes, source: str) -> Ed25519PrivateKey:
    try:
        return private_key_from_pem(pem)
    except (ValueError, TypeError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise SigningKeyError(
            f"ledger signing key in {source} is not an unencrypted Ed25519 PEM key: {reason}"
        ) from None


def init_signing_key(if_missing: bool = False) -> str:
    """Create the key file (0600, directory 0700); return one line saying what happened.

    Never overwrites an existing file: that raises SigningKeyError unless ``if_missing``, in
    which case the file is kept (and checked).  A key given in the environment is not written.
    """
    if os.environ.get(SIGNING_KEY_ENV_VAR, "").strip():
        key = load_signing_key()
        return (
            f"ledger signing key taken from {SIGNING_KEY_ENV_VAR} "
            f"(key id {key_id_for(key.public_key())}); no file written"
        )
    path = signing_key_path()
    if path.exists():
        if not if_missing:
            raise SigningKeyError(
                f"ledger signing key {path} already exists: refusing to overwrite"
            )
        key = load_signing_key()
        return f"ledger signing key {path} already exists (key id {_key_id(key)}), kept"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = generate_signing_key()
    # Never clobbers a key another process created a moment ago.
    create_key_file(path, private_key_to_pem(key), "ledger signing key", SigningKeyError)
    return f"created ledger signing key {path} (key id {_key_id(key)}, mode 0600)"


def _key_id(key: Ed25519PrivateKey) -> str:
    return key_id_for(key.public_key())


def public_key() -> Ed25519PublicKey:
    return load_signing_key().public_key()


def public_key_pem() -> str:
    """PEM of the public key, for external verifiers (``haven-verify --public-key``)."""
    return public_key_to_pem(public_key()).decode("ascii")


_PEM_BLOCK = re.compile(rb"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)


def trusted_public_keys() -> list[Ed25519PublicKey]:
    """The pinned verification keys (settings.LEDGER_TRUSTED_KEYS: PEM text or file paths).

    Deliberately not the signing key found in KEY_DIR: whoever can rewrite the ledger can
    usually replace that file too, and would then re-sign the rewritten ledger."""
    keys = []
    for item in settings.LEDGER_TRUSTED_KEYS:
        if "-----BEGIN" in item:
            pem, source = item.encode(), "HAVEN_LEDGER_TRUSTED_KEYS"
        else:
            try:
                pem, source = Path(item).read_bytes(), item
            except OSError as error:
                raise SigningKeyError(
                    f"trusted ledger key {item} cannot be read: {error.strerror}"
                ) from None
        blocks = _PEM_BLOCK.findall(pem)
        if not blocks:
            raise SigningKeyError(f"trusted ledger key {source} holds no PEM public key")
        for block in blocks:
            try:
                keys.append(public_key_from_pem(block))
            except ValueError as error:
                raise SigningKeyError(f"trusted ledger key {source}: {error}") from None
    if not keys:
        raise SigningKeyError(
            "no trusted ledger keys: set HAVEN_LEDGER_TRUSTED_KEYS to the public key(s) "
            "(`haven audit public-key`) or pass --public-key"
        )
    return keys


def signing_and_pinned_keys() -> tuple[Ed25519PrivateKey, list[Ed25519PublicKey]]:
    """The signing key and the pinned keys a new checkpoint's ledger is verified with.

    Signing re-verifies the whole ledger first, against the same pins as `haven audit verify`:
    a key swapped into KEY_DIR (with a re-signed, rewritten ledger) must not get a fresh
    checkpoint, and Haven must not sign with a key that verification would reject.  With no
    pins configured, only a development or demo installation falls back to the signing key."""
    private_key = load_signing_key()
    own = key_id_for(private_key.public_key())
    if not settings.LEDGER_TRUSTED_KEYS:
        if settings.DEBUG or settings.DEMO_MODE:
            return private_key, [private_key.public_key()]
        raise SigningKeyError(
            "no trusted ledger keys pinned: set HAVEN_LEDGER_TRUSTED_KEYS to the public key "
            f"(`haven audit public-key`, key id {own}) before signing checkpoints"
        )
    pinned = trusted_public_keys()
    if own not in {key_id_for(key) for key in pinned}:
        raise SigningKeyError(
            f"the ledger signing key (key id {own}) is not among HAVEN_LEDGER_TRUSTED_KEYS: "
            "refusing to sign with a key that verification would reject (was it replaced?)"
        )
    return private_key, pinned
