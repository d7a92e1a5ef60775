"""Online data-key rotation, status counts and KEK re-wrapping (used by ``haven keys``).

Rotation makes a new data key active, then re-encrypts every encrypted value that is not
under the active key, in batches, each batch its own short transaction. Each value is written
with a compare-and-swap ``UPDATE … WHERE pk = %s AND column = <old token>``, so a value the
running service changed meanwhile is never overwritten (it is counted as skipped; it was
written under whatever key the service had, and a re-run picks it up). Rotation is therefore
resumable after a crash: ``rotate --resume`` re-encrypts whatever is still not on the active
key without creating another one.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import connections, models, transaction

from haven.vault import blobs, crypto
from haven.vault.crypto import KeyRing, VaultError
from haven.vault.fields import BlindIndexField, EncryptedTextField, owner_binding, owner_field
from haven.vault.kek import LocalKek
from haven.vault.keyring import (
    blind_index_keys,
    configured_kek,
    create_data_key,
    get_keyring,
    reset_keyring_cache,
)
from haven.vault.models import BlindIndexKey, DataKey, new_blind_index_key_id

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500


@dataclass(frozen=True)
class EncryptedColumn:
    model: type[models.Model]
    field: EncryptedTextField
    # Rows of an append-only history (audit.triggers) cannot be rewritten: they stay on the
    # key they were written with (never deleted), and are reported as such.
    append_only: bool = False

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field.name}"

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    @property
    def column(self) -> str:
        return self.field.column


def encrypted_columns(using: str = "default") -> list[EncryptedColumn]:
    """Every EncryptedTextField (and subclass) column of an installed model with a table."""
    from haven.audit.triggers import every_append_only  # core to core, at run time: no cycle

    tables = set(connections[using].introspection.table_names())
    append_only = {table for declared in every_append_only() for table in declared.tables}
    found: list[EncryptedColumn] = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or meta.db_table not in tables:
            continue
        for model_field in meta.concrete_fields:
            if isinstance(model_field, EncryptedTextField):
                found.append(EncryptedColumn(model, model_field, meta.db_table in append_only))
    return found


def _q(using: str, name: str) -> str:
    return connections[using].ops.quote_name(name)


def _key_id_sql(using: str, column_sql: str) -> str | None:
    vendor = connections[using].vendor
    if vendor == "postgresql":
        return f"split_part({column_sql}, '.', 2)"
    if vendor == "sqlite":
        return f"substr({column_sql}, 5, instr(substr({column_sql}, 5), '.') - 1)"
    return None


def counts_by_key(column: EncryptedColumn, using: str = "default") -> Counter[str]:
    """Number of non-null values of one column under each data key id."""
    table, col = _q(using, column.table), _q(using, column.column)
    expression = _key_id_sql(using, col)
    counts: Counter[str] = Counter()
    with connections[using].cursor() as cursor:
        if expression is not None:
            cursor.execute(
                f"SELECT {expression}, COUNT(*) FROM {table} "  # noqa: S608 (quoted names)
                f"WHERE {col} IS NOT NULL GROUP BY {expression}"
            )
            for key_id, count in cursor.fetchall():
                counts[str(key_id)] += int(count)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            cursor.execute(f"SELECT {col} FROM {table} WHERE {col} IS NOT NULL")  # noqa: S608
            for (token,) in cursor.fetchall():
                counts[crypto.key_id_of(token)] += 1
    return counts


def status(using: str = "default") -> dict[str, Counter[str]]:
    """{column label: Counter(key id -> values)} for every encrypted column."""
    return {column.label: counts_by_key(column, using) for column in encrypted_columns(using)}


def pending_count(active_key_id: str, using: str = "default") -> int:
    """Values rotation can still move to the active key (append-only histories excluded)."""
    return sum(
        count
        for column in encrypted_columns(using)
        if not column.append_only
        for key_id, count in counts_by_key(column, using).items()
        if key_id != active_key_id
    )


def kept_on_old_keys(active_key_id: str, using: str = "default") -> int:
    """Values in append-only histories under older keys (kept, readable, never rewritten)."""
    return sum(
        count
        for column in encrypted_columns(using)
        if column.append_only
        for key_id, count in counts_by_key(column, using).items()
        if key_id != active_key_id
    )


@dataclass
class RotationResult:
    active_key_id: str
    created_key: bool
    reencrypted: int = 0
    skipped_concurrent: int = 0
    failed: int = 0
    remaining: int = 0
    kept_append_only: int = 0
    documents: blobs.BlobRotation = field(default_factory=blobs.BlobRotation)
    failures: list[str] = field(default_factory=list)


ProgressCallback = Callable[[int], None]


def _fetch_batch(
    cursor: Any,
    column: EncryptedColumn,
    active_key_id: str,
    batch_size: int,
    after_pk: Any,
    using: str,
) -> list[tuple[Any, str, Any]]:
    """Up to ``batch_size`` (raw pk, token, raw owner id) rows not under the active key, pk >
    ``after_pk`` (owner id None for a model without an owner)."""
    pk_column = _q(using, column.model._meta.pk.column)
    table, col = _q(using, column.table), _q(using, column.column)
    owner = owner_field(column.model)
    owner_sql = _q(using, owner.column) if owner is not None else "NULL"
    prefix = f"{crypto.FIELD_TOKEN_PREFIX}.{active_key_id}."
    sql = (
        f"SELECT {pk_column}, {col}, {owner_sql} FROM {table} "  # noqa: S608 (quoted names)
        f"WHERE {col} IS NOT NULL AND substr({col}, 1, %s) <> %s"
    )
    params: list[Any] = [len(prefix), prefix]
    if after_pk is not None:
        sql += f" AND {pk_column} > %s"
        params.append(after_pk)
    cursor.execute(f"{sql} ORDER BY {pk_column} LIMIT %s", [*params, batch_size])
    return [(pk, token, owner_id) for pk, token, owner_id in cursor.fetchall()]


def _rotate_batch(
    cursor: Any,
    column: EncryptedColumn,
    rows: list[tuple[Any, str, Any]],
    ring: KeyRing,
    result: RotationResult,
    using: str,
) -> None:
    pk_field = column.model._meta.pk
    pk_column = _q(using, pk_field.column)
    table, col = _q(using, column.table), _q(using, column.column)
    update = f"UPDATE {table} SET {col} = %s WHERE {pk_column} = %s AND {col} = %s"  # noqa: S608
    owner = owner_field(column.model)
    for raw_pk, token, owner_id in rows:
        row_id = str(pk_field.to_python(raw_pk))
        binding = owner_binding(owner, owner_id) if owner is not None else None
        aad = crypto.field_aad(column.table, column.column, row_id, binding)
        try:
            new_token = ring.reencrypt(token, aad)
        except VaultError as error:
            result.failed += 1
            result.failures.append(f"{column.label} row {row_id}: {error}")
            continue
        cursor.execute(update, [new_token, raw_pk, token])
        if cursor.rowcount == 1:
            result.reencrypted += 1
        else:
            result.skipped_concurrent += 1


def rotate(
    batch_size: int = DEFAULT_BATCH_SIZE,
    resume: bool = False,
    using: str = "default",
    on_total: Callable[[int], None] | None = None,
    on_progress: ProgressCallback | None = None,
) -> RotationResult:
    """Rotate to a new active data key (or, with ``resume``, finish an unfinished rotation)."""
    if batch_size < 1:
        raise ValueError("batch size must be at least 1")
    reset_keyring_cache()
    active = get_keyring().active_key_id
    created = False
    if not resume or pending_count(active, using) + blobs.blob_status(active).remaining == 0:
        if resume:
            return RotationResult(active_key_id=active, created_key=False)
        active = create_data_key(using)
        created = True
    reset_keyring_cache()
    ring = get_keyring()
    assert ring.active_key_id == active, "active data key changed during rotation"
    result = RotationResult(active_key_id=active, created_key=created)
    if on_total is not None:
        on_total(pending_count(active, using))
    for column in encrypted_columns(using):
        if column.append_only:
            continue
        after_pk: Any = None
        while True:
            # One short transaction per batch: the service keeps writing meanwhile.
            with transaction.atomic(using=using), connections[using].cursor() as cursor:
                rows = _fetch_batch(cursor, column, active, batch_size, after_pk, using)
                if rows:
                    _rotate_batch(cursor, column, rows, ring, result, using)
            if not rows:
                break
            after_pk = rows[-1][0]
            if on_progress is not None:
                on_progress(len(rows))
    result.documents = blobs.rotate_blobs(ring)
    result.failed += len(result.documents.failures)
    result.failures.extend(result.documents.failures)
    result.remaining = pending_count(active, using) + result.documents.remaining
    result.kept_append_only = kept_on_old_keys(active, using)
    return result


# --------------------------------------------------------------------------- KEK rewrap


def rewrap(new_kek_file: Path, using: str = "default") -> tuple[str, int]:
    """Re-wrap every data key under the KEK in ``new_kek_file``; returns (new kek id, count).

    Field values are untouched. Afterwards replace the KEK file (or HAVEN_KEK) with the new
    key; until then the running service keeps its already-unwrapped keys.
    """
    old_kek = configured_kek()
    new_kek = LocalKek(*crypto.load_kek(Path(new_kek_file), None))
    count = 0
    with transaction.atomic(using=using):
        for row in DataKey.objects.using(using).select_for_update().order_by("created_at", "id"):
            row.wrapped = new_kek.wrap(row.id, old_kek.unwrap(row.id, bytes(row.wrapped)))
            row.kek_id = new_kek.key_id
            row.save(update_fields=["wrapped", "kek_id"])
            count += 1
    reset_keyring_cache()
    return new_kek.key_id, count


# --------------------------------------------------------------------------- blind indexes


@dataclass
class BlindIndexRotation:
    key_id: str
    created_key: bool
    rows: int = 0
    reindexed: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return not self.failures


def blind_index_columns() -> list[tuple[type[models.Model], list[BlindIndexField]]]:
    found = []
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        indexed = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
        if indexed:
            found.append((model, indexed))
    return found


def unfinished_blind_index_rotation(using: str = "default") -> BlindIndexKey | None:
    newest = BlindIndexKey.objects.using(using).order_by("created_at", "id").last()
    return newest if newest is not None and newest.state == BlindIndexKey.ROTATING else None


def rotate_blind_index(
    batch_size: int = DEFAULT_BATCH_SIZE,
    resume: bool = False,
    settle_seconds: float = 0.0,
    using: str = "default",
) -> BlindIndexRotation | None:
    """New blind-index key, then re-index every blind-index column under it.

    While the key is ``rotating`` searches match the old and the new value, so search keeps
    working throughout. Re-indexing recomputes each row from its decrypted sources, so it is
    idempotent and an interrupted run is finished by ``resume`` (None: nothing to resume).
    ``settle_seconds`` waits for running services to load the new key before re-indexing, so
    none still writes values under the old one afterwards.
    """
    key = unfinished_blind_index_rotation(using)
    created = key is None
    if key is None:
        if resume:
            return None
        new_id = new_blind_index_key_id()
        kek = configured_kek()
        key = BlindIndexKey.objects.using(using).create(
            id=new_id, wrapped=kek.wrap(new_id, crypto.new_data_key()), kek_id=kek.key_id
        )
        if settle_seconds > 0:
            time.sleep(settle_seconds)
    reset_keyring_cache(keep_blind_index_key=True)
    result = BlindIndexRotation(key_id=key.id, created_key=created)
    reindex_columns(blind_index_columns(), result, batch_size, using)
    if result.finished:
        BlindIndexKey.objects.using(using).filter(pk=key.pk).update(state=BlindIndexKey.ACTIVE)
        reset_keyring_cache(keep_blind_index_key=True)
    return result


def reindex_columns(
    columns: list[tuple[type[models.Model], list[BlindIndexField]]],
    result: BlindIndexRotation,
    batch_size: int = DEFAULT_BATCH_SIZE,
    using: str = "default",
) -> BlindIndexRotation:
    """Recompute every row's blind indexes under the current key, in short batches; rows
    already right are left alone, so a second run is cheap. Also what a data migration runs
    when the index scheme changes (per-column keys, width)."""
    write_key: bytes | None = None
    for model, indexed in columns:
        manager = model._base_manager.using(using)
        after: Any = None
        while True:
            ordered = manager.order_by("pk")
            page = ordered.filter(pk__gt=after) if after is not None else ordered
            batch = list(page[:batch_size])
            if not batch:
                break
            write_key = write_key or blind_index_keys()[0]  # no key needed for empty tables
            with transaction.atomic(using=using):
                for row in batch:
                    _reindex_row(manager, row, indexed, write_key, result)
            after = batch[-1].pk
    return result


def _reindex_row(
    manager: Any,
    row: models.Model,
    indexed: list[BlindIndexField],
    key: bytes,
    result: BlindIndexRotation,
) -> None:
    result.rows += 1
    try:
        values = {f.attname: f.compute(row, key) for f in indexed}
    except VaultError as error:
        result.failures.append(f"{row._meta.label} row {row.pk}: {error}")
        return
    if any(getattr(row, name) != value for name, value in values.items()):
        manager.filter(pk=row.pk).update(**values)
        result.reindexed += 1
