"""ASVS 4.0.3 2.4.5: a pepper. Before Argon2id sees a password it is keyed with HMAC-SHA256
under a secret that is never in the database: a key derived from the vault's blind-index key
(the key file `haven keys init` writes, or HAVEN_BLIND_INDEX_KEY; docs/keys.md). A database
dump alone then cannot test a single password guess against the stored hashes.

Existing plain Argon2 hashes stay valid (settings.PASSWORD_HASHERS lists that hasher second)
and are re-hashed with the pepper at the owner's next successful sign-in: Django's
check_password calls the user's setter whenever the hash was made by a hasher other than the
first one listed."""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.contrib.auth.hashers import Argon2PasswordHasher

from haven.vault.keyring import blind_index_key

# Domain separation: the pepper can never equal a blind-index column key (those are derived
# under their own label, haven.vault.blind_index.column_key). "v1" names this derivation, so a
# later pepper can sit beside it under another hasher name.
PEPPER_LABEL = b"haven password pepper v1"


def pepper() -> bytes:
    """The original blind-index key, not a rotated one: `haven keys rotate --blind-index`
    changes search keys but must not make every password unverifiable."""
    return hmac.new(blind_index_key(), PEPPER_LABEL, hashlib.sha256).digest()


def peppered(password: str) -> str:
    mac = hmac.new(pepper(), password.encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode("ascii")


class PepperedArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id over HMAC-SHA256(pepper, password); stored as ``argon2_peppered$argon2id$…``."""

    algorithm = "argon2_peppered"

    def encode(self, password: str, salt: str) -> str:
        return super().encode(peppered(password), salt)

    def verify(self, password: str, encoded: str) -> bool:
        return bool(super().verify(peppered(password), encoded))
