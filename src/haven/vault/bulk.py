"""Bulk insertion of model rows that keeps the vault's invariants (loaders, not services).

For writers of many rows at once (``haven demo --cases 100000``, the benches), where Django's
``bulk_create`` spends most of its time building one huge INSERT statement. :func:`insert`
writes the same rows ``save()`` would write:

* every encrypted value is sealed bound to its table, column and row id and, for a case-owned
  model (``vault_owner``), to its owner, with one key ring for the call (its encryptions
  counted against the data key's lease as any other);
* every blind index is computed from the plaintext as ``BlindIndexField.pre_save`` computes it,
  under the column key derived once per call;
* every other field goes through its own ``pre_save`` and ``get_db_prep_save``.

On PostgreSQL the rows are streamed with ``COPY … FROM STDIN``; elsewhere one ``executemany``.
No signals are sent (as ``bulk_create``). It runs in the caller's transaction: wrap it in
``transaction.atomic`` with whatever must commit together (a row and its ledger entry).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldError
from django.db import connections, models, router

from haven.vault import crypto
from haven.vault import fields as vault_fields
from haven.vault.fields import (
    BlindIndexField,
    EncryptedTextField,
    SealedToken,
    _index_or_none,
    owner_binding,
    owner_field,
)

_PLAIN, _SEALED, _INDEX = 0, 1, 2


def insert(model: type[models.Model], objs: Iterable[models.Model]) -> int:
    """Insert unsaved instances of `model` (plaintext in their encrypted attributes); returns
    how many rows were written. A primary key left None is assigned by the database (serial
    order follows the order of `objs`); a model with encrypted fields needs its keys set."""
    objs = list(objs)
    if not objs:
        return 0
    meta = model._meta
    table = meta.db_table
    assign_pk = objs[0].pk is None
    fields = [f for f in meta.concrete_fields if not (assign_pk and f.primary_key)]
    sealing = any(isinstance(f, EncryptedTextField) for f in fields)
    if sealing and (assign_pk or any(obj.pk is None for obj in objs)):
        raise FieldError(
            f"{model.__name__} has encrypted fields bound to the row id: set every primary key "
            "before a bulk insert"
        )
    # The connection itself, not the proxy: every attribute of ``django.db.connection`` is a
    # thread-local look-up, and each field asks for it once per row.
    connection = connections[router.db_for_write(model)]
    # The ring save() would use (looked up where the fields look it up: the casework bench's
    # security-off baseline swaps it there).
    ring = vault_fields.get_keyring() if sealing else None  # type: ignore[attr-defined]
    owner = owner_field(model)
    plan: list[tuple[int, Any, Any]] = []
    for field in fields:
        if isinstance(field, EncryptedTextField):
            plan.append((_SEALED, field, None))
        elif isinstance(field, BlindIndexField):
            plan.append((_INDEX, field, field.column_key()))
        else:
            plan.append((_PLAIN, field, None))
    rows = []
    for obj in objs:
        data = obj.__dict__
        row_id = str(obj.pk)  # only read by sealing, refused above without keys
        binding = None if owner is None else owner_binding(owner, data[owner.attname])
        row: list[Any] = []
        for kind, field, key in plan:
            if kind == _SEALED:
                value = data.get(field.attname)
                if isinstance(value, SealedToken):
                    raise FieldError(
                        f"{model.__name__}.{field.name} holds a token read from another row: "
                        "a bulk insert takes plaintext"
                    )
                row.append(
                    None
                    if value is None
                    else field.seal(
                        ring, value, crypto.field_aad(table, field.column, row_id, binding)
                    )
                )
            elif kind == _INDEX:
                sources = tuple(getattr(obj, source) for source in field.sources)
                value = _index_or_none(field.kind, sources, key)
                data[field.attname] = value
                row.append(value)
            else:
                row.append(field.get_db_prep_save(field.pre_save(obj, True), connection))
        rows.append(row)
    write_rows(connection, table, [f.column for f in fields], rows)
    return len(rows)


def write_rows(connection: Any, table: str, columns: list[str], rows: list[list[Any]]) -> None:
    """Rows of database-ready values into `table`: COPY on PostgreSQL, else executemany."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})",  # noqa: S608 - names from code
                rows,
            )
