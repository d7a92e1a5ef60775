"""Key material for the Django side of the vault.

* KEK (key-encryption key): env ``HAVEN_KEK`` (text as :func:`crypto.load_kek` accepts),
  else the file ``settings.KEY_DIR / "kek.key"``.
* Blind-index key (a separate 32-byte key, same text format): env ``HAVEN_BLIND_INDEX_KEY``,
  else ``settings.KEY_DIR / "blind-index.key"``.
* Data keys: :class:`~haven.vault.models.DataKey` rows wrapped by the KEK, unwrapped into a
  process-wide :class:`~haven.vault.crypto.KeyRing` cached for
  ``settings.HAVEN_VAULT_KEY_REFRESH_SECONDS`` so a rotation done by ``haven keys rotate`` in
  another process is picked up by the running service without a restart.
* Encryption counts: every data key counts the encryptions made under it
  (``DataKey.encryptions``). A process reserves a lease of ``HAVEN_VAULT_ENCRYPTION_LEASE``
  encryptions in the database *before* using them, so the stored count is never below the true
  count, with one bounded exception documented in docs/keys.md (a lease reserved inside a
  transaction that then rolls back on SQLite). Past ``HAVEN_VAULT_ROTATE_AT`` encryptions the
  vault creates a new active key by itself; past ``HAVEN_VAULT_REFUSE_AT`` it refuses to
  encrypt under that key.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.db.models import F
from django.utils import timezone

from haven.vault import crypto
from haven.vault.crypto import KeyRing, VaultError, VaultKeyError
from haven.vault.kek import KeyEncryptionKey, LocalKek, pkcs11_from_environment
from haven.vault.keyfiles import read_key_file

logger = logging.getLogger(__name__)

BLIND_INDEX_ENV_VAR = "HAVEN_BLIND_INDEX_KEY"
KEK_FILE_NAME = "kek.key"
BLIND_INDEX_FILE_NAME = "blind-index.key"
DEFAULT_REFRESH_SECONDS = 60.0
# Random 96-bit GCM nonces: at most 2**32 encryptions per key. Rotate at a quarter of that and
# refuse at half, so even a badly under-counted key stays far from the bound.
DEFAULT_ROTATE_AT = 2**30
DEFAULT_REFUSE_AT = 2**31
DEFAULT_ENCRYPTION_LEASE = 1024

_lock = threading.RLock()
_ring: KeyRing | None = None
_ring_loaded_at = 0.0
# (ring, monotonic time until which it may be served): what the fast path of get_keyring reads,
# one global replaced whole, so no reader pairs a ring with another ring's deadline.
_fresh_ring: tuple[KeyRing, float] | None = None
_blind_key: bytes | None = None


# --------------------------------------------------------------------------- key files


def kek_path() -> Path:
    return Path(settings.KEY_DIR) / KEK_FILE_NAME


def blind_index_key_path() -> Path:
    return Path(settings.KEY_DIR) / BLIND_INDEX_FILE_NAME


def load_configured_kek() -> tuple[str, bytes]:
    """(kek_id, kek) from ``HAVEN_KEK`` or the KEK file; VaultKeyError with one line if not."""
    return crypto.load_kek(kek_path(), os.environ.get(crypto.KEK_ENV_VAR))


KEK_PROVIDER_ENV_VAR = "HAVEN_KEK_PROVIDER"
_hsm_kek: KeyEncryptionKey | None = None


def configured_kek() -> KeyEncryptionKey:
    """The KEK that wraps data keys: ``HAVEN_KEK_PROVIDER`` "local" (default: HAVEN_KEK or the
    key file) or "pkcs11" (a key on an HSM token; its session is opened once per process)."""
    global _hsm_kek
    provider = os.environ.get(KEK_PROVIDER_ENV_VAR, "local").strip().lower() or "local"
    if provider == "local":
        return LocalKek(*load_configured_kek())
    if provider == "pkcs11":
        with _lock:
            if _hsm_kek is None:
                _hsm_kek = pkcs11_from_environment()
            return _hsm_kek
    raise VaultKeyError(f"{KEK_PROVIDER_ENV_VAR}={provider!r}: use 'local' or 'pkcs11'")


def _load_blind_index_key() -> bytes:
    env_value = os.environ.get(BLIND_INDEX_ENV_VAR)
    if env_value is not None and env_value.strip():
        source = f"HAVEN blind-index key in the {BLIND_INDEX_ENV_VAR} environment variable"
        return crypto.parse_kek_text(env_value, source)[1]
    path = blind_index_key_path()
    hint = f"run `haven keys init` or set {BLIND_INDEX_ENV_VAR}"
    data = read_key_file(path, "HAVEN blind-index key file", hint, VaultKeyError)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise VaultKeyError(f"HAVEN blind-index key file {path} is not ASCII key text") from None
    return crypto.parse_kek_text(text, f"HAVEN blind-index key file {path}")[1]


def blind_index_key() -> bytes:
    """The blind-index HMAC key (cached per process; never the encryption key)."""
    global _blind_key
    with _lock:
        if _blind_key is None:
            _blind_key = _load_blind_index_key()
        return _blind_key


_index_keys: tuple[bytes, tuple[bytes, ...]] | None = None
_index_keys_loaded_at = 0.0


def blind_index_keys() -> tuple[bytes, tuple[bytes, ...]]:
    """(key for new index values, keys a search must match) - refreshed like the data keys.

    Normally both are the same one key; during a blind-index rotation a search matches the
    values under the new key and under the key before it."""
    global _index_keys, _index_keys_loaded_at
    with _lock:
        now = time.monotonic()
        if _index_keys is not None and now - _index_keys_loaded_at < _refresh_seconds():
            return _index_keys
        from haven.vault.models import BlindIndexKey

        using = router.db_for_read(BlindIndexKey)
        keys = [blind_index_key()]
        if BlindIndexKey._meta.db_table in connections[using].introspection.table_names():
            kek = configured_kek()
            rows = list(BlindIndexKey.objects.using(using).order_by("created_at", "id"))
            keys += [kek.unwrap(row.id, bytes(row.wrapped)) for row in rows]
            rotating = bool(rows) and rows[-1].state == BlindIndexKey.ROTATING
        else:
            rotating = False
        search = (keys[-1], keys[-2]) if rotating else (keys[-1],)
        _index_keys, _index_keys_loaded_at = (keys[-1], search), now
        return _index_keys


def init_keys(if_missing: bool) -> list[str]:
    """Create the KEK and blind-index key files (0600) in KEY_DIR; return one line per file.

    Never overwrites: an existing file raises VaultKeyError unless ``if_missing`` is true, in
    which case it is left alone (and validated). A key supplied by environment variable is
    not written to disk.
    """
    key_dir = Path(settings.KEY_DIR)
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    lines: list[str] = []
    for label, path, env_var in (
        ("key-encryption key", kek_path(), crypto.KEK_ENV_VAR),
        ("blind-index key", blind_index_key_path(), BLIND_INDEX_ENV_VAR),
    ):
        if os.environ.get(env_var, "").strip():
            lines.append(f"{label}: taken from {env_var}, no file written")
            continue
        if path.exists():
            if not if_missing:
                raise VaultKeyError(
                    f"HAVEN {label} file {path} already exists: refusing to overwrite"
                )
            lines.append(f"{label}: {path} already exists, kept")
            continue
        key_id = crypto.write_kek_file(path)
        lines.append(f"{label}: created {path} (id {key_id}, mode 0600)")
    _check_key_material()
    reset_keyring_cache()
    return lines


# --------------------------------------------------------------------------- data keys


def refresh_seconds() -> float:
    """How long a process may keep serving cached keys before reloading them."""
    return _refresh_seconds()


def _refresh_seconds() -> float:
    return float(getattr(settings, "HAVEN_VAULT_KEY_REFRESH_SECONDS", DEFAULT_REFRESH_SECONDS))


def rotate_at() -> int:
    return int(getattr(settings, "HAVEN_VAULT_ROTATE_AT", DEFAULT_ROTATE_AT))


def refuse_at() -> int:
    return int(getattr(settings, "HAVEN_VAULT_REFUSE_AT", DEFAULT_REFUSE_AT))


def _add_encryptions_durably(using: str, dek_id: str, count: int) -> bool:
    """PostgreSQL: count on a separate autocommit connection, so the count survives a rollback
    of the caller's transaction. False if that is not possible (SQLite, whose single writer
    the caller may hold; or a key not yet committed)."""
    if connections[using].vendor != "postgresql":
        return False
    side = connections.create_connection(using)
    try:
        with side.cursor() as cursor:
            # NOWAIT: the caller's own transaction may hold the key row (it just created or
            # retired keys); waiting for it would wait for ourselves. Count in-transaction then.
            cursor.execute(
                "UPDATE vault_datakey SET encryptions = encryptions + %s WHERE id = ("
                "SELECT id FROM vault_datakey WHERE id = %s FOR UPDATE NOWAIT)",
                [count, dek_id],
            )
            return bool(cursor.rowcount == 1)
    except DatabaseError:
        return False
    finally:
        side.close()


def _reserve_encryptions(dek_id: str, count: int) -> None:
    """KeyRing callback: persist `count` more encryptions under `dek_id` before they happen;
    rotate to a new key past HAVEN_VAULT_ROTATE_AT, refuse past HAVEN_VAULT_REFUSE_AT."""
    model = _datakey_model()
    using = router.db_for_write(model)
    keys = model.objects.using(using).filter(id=dek_id)
    if not _add_encryptions_durably(using, dek_id, count):
        keys.update(encryptions=F("encryptions") + count)
    total = keys.values_list("encryptions", flat=True).first() or 0
    if total > refuse_at():
        _rotate_when_possible(using, dek_id)
        raise VaultKeyError(
            f"data key {dek_id} has reached its limit of {refuse_at()} encryptions: refusing to "
            "encrypt under it (run `haven keys rotate`)"
        )
    if total > rotate_at():
        _rotate_when_possible(using, dek_id)


def _rotate_when_possible(using: str, dek_id: str) -> None:
    """A new active data key, now or when the caller's transaction commits."""
    if connections[using].in_atomic_block:
        transaction.on_commit(lambda: retire_worn_key(dek_id, using), using=using)
    else:
        retire_worn_key(dek_id, using)


def retire_worn_key(dek_id: str, using: str = "default") -> str | None:
    """Make a new active data key if `dek_id` is still the active one; its new id, else None.

    Several processes may cross the threshold together: only the first replaces the key.
    """
    model = _datakey_model()
    try:
        with transaction.atomic(using=using):
            worn = model.objects.using(using).select_for_update().filter(id=dek_id, active=True)
            if not worn.exists():
                return None
            new_id = create_data_key(using)
    except IntegrityError:
        return None  # another process activated a new key at the same moment
    logger.warning(
        "HAVEN vault: data key %s passed %s encryptions; new active data key %s",
        dek_id,
        rotate_at(),
        new_id,
    )
    return new_id


def _lease() -> int:
    return int(getattr(settings, "HAVEN_VAULT_ENCRYPTION_LEASE", DEFAULT_ENCRYPTION_LEASE))


def _unwrap_all(using: str, keep: KeyRing | None) -> tuple[KeyRing, bool]:
    """Ring of every DataKey in the database; (ring, has_active)."""
    from haven.vault.models import DataKey

    kek = configured_kek()
    ring = KeyRing(reserve=_reserve_encryptions, lease=_lease())
    if keep is not None:
        # Keys never leave the database; keeping known ones only guards against a key row
        # that was rolled back in a test while values encrypted under it are still in memory.
        for old_id in keep.key_ids:
            ring.add_key(old_id, keep.resolve(old_id))
    has_active = False
    # Only the columns every schema version has: the startup check runs before `migrate`.
    rows = DataKey.objects.using(using).only("id", "wrapped", "active", "created_at")
    for row in rows.order_by("created_at", "id"):
        ring.add_key(row.id, kek.unwrap(row.id, bytes(row.wrapped)), active=row.active)
        has_active = has_active or row.active
    return ring, has_active


def create_data_key(using: str = "default", activate: bool = True) -> str:
    """Create a new DataKey wrapped by the configured KEK; make it the active one."""
    from haven.vault.models import DataKey, new_data_key_id

    kek = configured_kek()
    dek_id = new_data_key_id()
    wrapped = kek.wrap(dek_id, crypto.new_data_key())
    with transaction.atomic(using=using):
        if activate:
            DataKey.objects.using(using).filter(active=True).update(
                active=False, retired_at=timezone.now()
            )
        DataKey.objects.using(using).create(
            id=dek_id, wrapped=wrapped, kek_id=kek.key_id, active=activate
        )
    reset_keyring_cache()
    return dek_id


def _ensure_active_key(using: str) -> bool:
    """Create the first active data key if none exists; True if one was created."""
    from haven.vault.models import DataKey

    if DataKey.objects.using(using).filter(active=True).exists():
        return False
    try:
        with transaction.atomic(using=using):
            create_data_key(using)
    except IntegrityError:
        # Another process created it at the same moment (one active key is a constraint).
        return False
    return True


def get_keyring() -> KeyRing:
    """The process-wide key ring, (re)loaded from the DataKey table when stale.

    Creates the first active data key if there is none. A key created inside a caller's
    transaction is not cached until a later call, so a rollback cannot leave the process
    encrypting under a key that is not in the database.
    """
    global _ring, _ring_loaded_at
    fresh = _fresh_ring
    # Fast path without the lock or a settings look-up (every decryption asks): the pair is
    # replaced whole, under the lock, below, and forgotten when the refresh setting changes.
    if fresh is not None and time.monotonic() < fresh[1]:
        return fresh[0]
    with _lock:
        now = time.monotonic()
        if _ring is not None and now - _ring_loaded_at < _refresh_seconds():
            _serve(_ring, _ring_loaded_at)
            return _ring
        using = router.db_for_write(_datakey_model())
        try:
            created = _ensure_active_key(using)
            ring, _has_active = _unwrap_all(using, _ring)
        except VaultError as error:
            if _ring is None:
                raise
            # E.g. data keys were re-wrapped under a new KEK this process does not have yet:
            # keep serving with the keys already unwrapped, and say so.
            logger.error("HAVEN vault: cannot reload data keys, keeping cached ones: %s", error)
            _ring_loaded_at = now
            _serve(_ring, now)
            return _ring
        if _ring is not None:
            ring.adopt_lease(_ring)
        if created and connections[using].in_atomic_block:
            return ring
        _ring, _ring_loaded_at = ring, now
        _serve(ring, now)
        return ring


def _serve(ring: KeyRing, loaded_at: float) -> None:
    """Let the fast path of get_keyring hand out `ring` until it is due for a reload."""
    global _fresh_ring
    _fresh_ring = (ring, loaded_at + _refresh_seconds())


def forget_refresh_deadline(setting: str = "", **kwargs: Any) -> None:
    """setting_changed: a new HAVEN_VAULT_KEY_REFRESH_SECONDS applies to the ring in hand."""
    global _fresh_ring
    if setting == "HAVEN_VAULT_KEY_REFRESH_SECONDS":
        _fresh_ring = None


def keyring_with(dek_id: str) -> KeyRing:
    """The key ring, reloaded once if it does not know ``dek_id`` (a key made elsewhere)."""
    ring = get_keyring()
    if dek_id not in ring:
        reset_keyring_cache(keep_blind_index_key=True)
        ring = get_keyring()
    return ring


def reset_keyring_cache(keep_blind_index_key: bool = False) -> None:
    """Forget cached keys; the next :func:`get_keyring` reloads from the database."""
    global _ring, _ring_loaded_at, _fresh_ring, _blind_key, _index_keys
    with _lock:
        _ring, _ring_loaded_at, _fresh_ring, _index_keys = None, 0.0, None, None
        if not keep_blind_index_key:
            _blind_key = None


def _datakey_model() -> Any:
    from haven.vault.models import DataKey

    return DataKey


# --------------------------------------------------------------------------- startup checks


def _check_key_material() -> None:
    configured_kek()
    _load_blind_index_key()


def _check_data_keys_unwrap(using: str) -> None:
    """Every stored DataKey must unwrap with the configured KEK (detects a wrong key file)."""
    connection = connections[using]
    if _datakey_model()._meta.db_table not in connection.introspection.table_names():
        return
    _unwrap_all(using, None)


def exit_unless_keys_available() -> None:
    """For the ASGI/WSGI entry points: refuse to serve without the right vault keys, with one line
    on stderr and exit status 2 rather than a traceback per request later."""
    try:
        assert_keys_available()
    except VaultKeyError as error:
        print(f"haven: {error}", file=sys.stderr)
        raise SystemExit(2) from None


def assert_keys_available(using: str | None = "default") -> None:
    """Raise VaultKeyError with one clear line unless the keys are present and correct.

    Checks the KEK and blind-index key load, and (if ``using`` is given and the DataKey table
    exists) that every data key unwraps with this KEK.
    """
    try:
        _check_key_material()
        if using is not None:
            _check_data_keys_unwrap(using)
    except VaultKeyError:
        raise
    except VaultError as error:
        raise VaultKeyError(f"{error}: is HAVEN_KEK / the KEK file the right key?") from None


def check_keys(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Any]:
    """System check haven.vault.E001: the service refuses to start without usable keys."""
    using = "default" if databases and "default" in databases else None
    try:
        assert_keys_available(using)
    except VaultKeyError as error:
        return [checks.Error(str(error), id="haven.vault.E001")]
    return []


def ensure_first_data_key_after_migrate(using: str = "default", **kwargs: Any) -> None:
    """post_migrate: create the first active data key, committed, outside any request."""
    try:
        _check_key_material()
    except VaultKeyError:
        return  # `haven keys init` creates the keys; the system check reports it meanwhile.
    if _datakey_model()._meta.db_table not in connections[using].introspection.table_names():
        return
    _ensure_active_key(using)
