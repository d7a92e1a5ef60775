"""Key-encryption keys (KEK): where the key that wraps the data keys lives (docs/keys.md).

Haven only ever asks a KEK to wrap or unwrap a 32-byte data key, so any key store fits behind
the small :class:`KeyEncryptionKey` protocol:

* :class:`LocalKek` - the key bytes are in this process: from the key file
  ``KEY_DIR/kek.key`` or the ``HAVEN_KEK`` environment variable (development, small sites).
* :class:`Pkcs11Kek` - the key never leaves a hardware security module (or a cloud KMS with a
  PKCS#11 interface): wrapping is AES-256-GCM performed *by the token*, through
  ``python-pkcs11`` (optional extra ``haven[hsm]``). Tested against SoftHSM2.

Both produce the same wrapped format (``crypto.wrap_data_key``: ``hvk1 || len || kek id ||
nonce || ciphertext || tag``, associated data ``haven-dek:<dek id>``), so data keys can be
re-wrapped from one kind to the other.
"""

from __future__ import annotations

import os
from typing import Any, Protocol, runtime_checkable

from haven.vault import crypto
from haven.vault.crypto import VaultIntegrityError, VaultKeyError


@runtime_checkable
class KeyEncryptionKey(Protocol):
    """Wraps and unwraps data keys; ``key_id`` is written into every wrapped key."""

    key_id: str

    def wrap(self, dek_id: str, dek: bytes) -> bytes: ...

    def unwrap(self, dek_id: str, wrapped: bytes) -> bytes: ...


class LocalKek:
    """A KEK held in memory (from the key file or HAVEN_KEK)."""

    def __init__(self, key_id: str, key: bytes) -> None:
        self.key_id = key_id
        self._key = key

    def __repr__(self) -> str:
        return f"LocalKek({self.key_id!r})"  # never the key

    def wrap(self, dek_id: str, dek: bytes) -> bytes:
        return crypto.wrap_data_key(self.key_id, self._key, dek_id, dek)

    def unwrap(self, dek_id: str, wrapped: bytes) -> bytes:
        return crypto.unwrap_data_key({self.key_id: self._key}, dek_id, wrapped)


class Pkcs11Kek:
    """An AES-256 key on a PKCS#11 token (HSM, SoftHSM2, a KMS's PKCS#11 library).

    The key is found by label (``key_label``); wrapping runs CKM_AES_GCM on the token with a
    random 96-bit nonce from this process, so the key material never enters Haven's memory.
    """

    def __init__(
        self, library: str, token_label: str, pin: str, key_label: str, key_id: str | None = None
    ) -> None:
        try:
            import pkcs11
        except ImportError:
            raise VaultKeyError(
                "HAVEN_KEK_PROVIDER=pkcs11 needs python-pkcs11: pip install 'haven[hsm]'"
            ) from None
        self._pkcs11 = pkcs11
        try:
            token = pkcs11.lib(library).get_token(token_label=token_label)
            try:
                self._session = token.open(user_pin=pin)
            except pkcs11.exceptions.UserAlreadyLoggedIn:
                # PKCS#11 logs in per application: another session of this process already did.
                self._session = token.open()
            self._key: Any = self._session.get_key(
                object_class=pkcs11.ObjectClass.SECRET_KEY, label=key_label
            )
        except (pkcs11.PKCS11Error, RuntimeError, OSError) as error:
            detail = type(error).__name__ if not str(error) else str(error)
            raise VaultKeyError(
                f"PKCS#11 KEK {key_label!r} on token {token_label!r} ({library}) is not "
                f"usable: {detail}"
            ) from None
        self.key_id = key_id or f"p11-{key_label}"[:64]
        crypto._check_key_id(self.key_id, "PKCS#11 KEK id")

    def __repr__(self) -> str:
        return f"Pkcs11Kek({self.key_id!r})"

    def close(self) -> None:
        """End the token session (and the login, when it is the last session)."""
        self._session.close()

    def _params(self, nonce: bytes, dek_id: str) -> Any:
        return self._pkcs11.mechanisms.GCMParams(nonce, crypto._dek_aad(dek_id), 128)

    def wrap(self, dek_id: str, dek: bytes) -> bytes:
        crypto._check_key_id(dek_id, "data key id")
        crypto._check_key_length(dek, "data key")
        nonce = os.urandom(crypto.NONCE_BYTES)
        sealed = self._key.encrypt(
            dek,
            mechanism=self._pkcs11.Mechanism.AES_GCM,
            mechanism_param=self._params(nonce, dek_id),
        )
        key_id = self.key_id.encode("ascii")
        return crypto.WRAPPED_KEY_MAGIC + bytes([len(key_id)]) + key_id + nonce + bytes(sealed)

    def unwrap(self, dek_id: str, wrapped: bytes) -> bytes:
        kek_id = crypto.wrapping_kek_id(wrapped)
        if kek_id != self.key_id:
            raise VaultIntegrityError(f"data key {dek_id!r} is wrapped by unknown KEK {kek_id!r}")
        sealed = wrapped[len(crypto.WRAPPED_KEY_MAGIC) + 1 + len(kek_id) :]
        nonce, ciphertext = sealed[: crypto.NONCE_BYTES], sealed[crypto.NONCE_BYTES :]
        try:
            dek = self._key.decrypt(
                ciphertext,
                mechanism=self._pkcs11.Mechanism.AES_GCM,
                mechanism_param=self._params(nonce, dek_id),
            )
        except self._pkcs11.PKCS11Error:
            raise VaultIntegrityError(
                f"data key {dek_id!r} failed to unwrap with KEK {self.key_id!r}: wrong key or "
                "altered"
            ) from None
        crypto._check_key_length(bytes(dek), f"data key {dek_id!r}")
        return bytes(dek)


def pkcs11_from_environment() -> Pkcs11Kek:
    """The PKCS#11 KEK named by HAVEN_PKCS11_LIBRARY, _TOKEN, _PIN and _KEY_LABEL."""
    names = (
        "HAVEN_PKCS11_LIBRARY",
        "HAVEN_PKCS11_TOKEN",
        "HAVEN_PKCS11_PIN",
        "HAVEN_PKCS11_KEY_LABEL",
    )
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        raise VaultKeyError(f"HAVEN_KEK_PROVIDER=pkcs11 needs {', '.join(missing)}")
    library, token, pin, label = (os.environ[name] for name in names)
    return Pkcs11Kek(library, token, pin, label)
