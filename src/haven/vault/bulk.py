"""Bulk insertion of model rows that keeps the vault's invariants (loaders, not services).

For writers of many rows at once (``haven demo --cases 100000``, the benches), where Django's
``bulk_create`` spends most of its time building one huge INSERT statement. :func:`insert`
writes the same rows ``save()`` would write:

* every encrypted value is sealed bound to its table, column and row id and, for a case-owned
  model (``vault_owner``), to its owner, with one key ring for the call (its encryptions
  counted against the data key's lease as any other);
* every blind index is computed from the plaintext as ``BlindIndexField.pre_save`` computes it,
  under the column key derived once per call;
* every other field goes through its own ``pre_save`` and ``get_db_prep_save`` (on PostgreSQL
  a value whose COPY text that conversion would not change is passed as it is:
  :func:`prepared_column`).

The work is done column by column (one key ring pass per encrypted column, one converter per
plain one), and :func:`reserve_encryptions` leases a whole batch's encryptions at once.

On PostgreSQL the rows are streamed with ``COPY … FROM STDIN``; elsewhere one ``executemany``.
No signals are sent (as ``bulk_create``). It runs in the caller's transaction: wrap it in
``transaction.atomic`` with whatever must commit together (a row and its ledger entry).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.core.exceptions import FieldError
from django.db import connections, models, router
from django.db.models.query_utils import DeferredAttribute

from haven.vault import crypto
from haven.vault import fields as vault_fields
from haven.vault.fields import (
    BlindIndexField,
    EncryptedAttribute,
    EncryptedTextField,
    SealedToken,
    _index_or_none,
    owner_binding,
    owner_field,
)


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
    ring: Any = vault_fields.get_keyring() if sealing else None  # type: ignore[attr-defined]
    datas = [obj.__dict__ for obj in objs]
    if sealing:
        for field in fields:
            if isinstance(field, EncryptedTextField):
                _refuse_tokens(model, field, datas)
        row_parts = _row_parts(model, objs)
    # Column by column, so that each column's work (its key, cipher, converter) is set up once.
    columns: list[list[Any]] = []
    for field in fields:
        if isinstance(field, EncryptedTextField):
            plaintexts = [
                None
                if (value := data.get(field.attname)) is None
                else field.to_plaintext_text(value)
                for data in datas
            ]
            columns.append(ring.encrypt_column(table, field.column, plaintexts, row_parts))
        elif isinstance(field, BlindIndexField):
            columns.append(_index_column(field, objs))
        else:
            if type(field).pre_save is models.Field.pre_save:  # the attribute as it stands
                values = [data[field.attname] for data in datas]
            else:  # auto_now and the like set the value they return
                values = [field.pre_save(obj, True) for obj in objs]
            columns.append(prepared_column(field, values, connection))
    rows = list(zip(*columns, strict=True))
    write_rows(connection, table, [f.column for f in fields], rows)
    return len(rows)


def maker(model: type[models.Model]) -> Callable[..., Any]:
    """A constructor of unsaved `model` instances for :func:`insert`: ``make(**kwargs)`` holds
    what ``model(**kwargs)`` holds (each field's value, or its default: a callable one called
    for each instance; a relation given as an instance sets its key and is cached as the
    descriptor caches it; an encrypted field's plaintext as its descriptor stores it), without
    Model.__init__'s Python loop over every field and its pre_init and post_init signals, which
    were the largest item of a demo load's client time (65,000 instances for 5,000 cases).
    For rows that go straight to :func:`insert`: no signal is sent, as insert sends none."""
    meta = model._meta
    constants: dict[str, Any] = {}
    calls: list[tuple[str, str, Callable[[], Any]]] = []  # (name, attname, default)
    for field in meta.concrete_fields:
        if field.has_default() and callable(field.default):
            calls.append((field.name, field.attname, field.default))
        else:
            constants[field.attname] = field.get_default()
    plain: dict[str, str] = {}  # keyword -> attname
    relations: dict[str, tuple[str, str, str]] = {}  # keyword -> (attname, cache name, target)
    others: set[str] = set()
    for field in meta.concrete_fields:
        descriptor = model.__dict__.get(field.name)
        if field.is_relation:
            relations[field.name] = (
                field.attname,
                field.cache_name,  # type: ignore[attr-defined]
                field.target_field.attname,  # type: ignore[attr-defined]
            )
            plain[field.attname] = field.attname
        elif descriptor is None or type(descriptor) in _PLAIN_DESCRIPTORS:
            plain[field.name] = field.attname
        else:  # a descriptor of its own: set through it, as __init__ sets it
            others.add(field.name)
    new_state = models.base.ModelState

    def make(**kwargs: Any) -> models.Model:
        obj = model.__new__(model)
        state = obj._state = new_state()
        data = obj.__dict__
        data.update(constants)
        for name, attname, default in calls:
            if name not in kwargs and attname not in kwargs:  # as __init__: no wasted call
                data[attname] = default()
        for name, value in kwargs.items():
            column = plain.get(name)
            if column is not None:
                data[column] = value
                continue
            relation = relations.get(name)
            if relation is None:
                if name in others:
                    setattr(obj, name, value)
                    continue
                raise TypeError(f"{model.__name__}() got an unexpected keyword argument '{name}'")
            key, cache, target = relation
            data[key] = None if value is None else getattr(value, target)
            state.fields_cache[cache] = value
        return obj

    return make


_PLAIN_DESCRIPTORS = (DeferredAttribute, EncryptedAttribute)


# Field types whose get_db_prep_save leaves a value of these Python types as it is, or whose
# text in COPY is the same whether Django's adapter wraps it first or not (an Int4 or a plain
# int, a Jsonb or the json.dumps text it dumps). Exact types: a subclass may convert.
_COPY_AS_IS: dict[type[models.Field[Any, Any]], tuple[type, ...]] = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.UUIDField: (uuid.UUID,),
    models.IntegerField: (int,),
    models.BigIntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveBigIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.AutoField: (int,),
    models.BigAutoField: (int,),
    models.BooleanField: (bool,),
    models.DateField: (datetime.date,),
    models.BinaryField: (bytes,),
}


def prepared_column(field: models.Field[Any, Any], values: list[Any], connection: Any) -> list[Any]:
    """``field.get_db_prep_save(value, connection)`` of each value (pre_save already applied),
    for :func:`write_rows`. On PostgreSQL, where COPY sends each value's text, values whose
    text Django's conversion would not change are passed as they are: Django's per-value
    conversion was most of a bulk load's client time."""
    prepare = field.get_db_prep_save
    if connection.vendor != "postgresql":
        return [prepare(value, connection) for value in values]
    kind = type(field)
    if kind is models.ForeignKey:  # its key's conversion, after its own None and "" rules
        kind = type(field.target_field)  # type: ignore[attr-defined]
    if kind is models.JSONField and field.encoder is None:  # type: ignore[attr-defined]
        # Jsonb(value) is dumped by json.dumps, as here; None stays SQL NULL as Django keeps it.
        dumps = json.dumps
        return [value if value is None else dumps(value) for value in values]
    if kind is models.DateTimeField:
        # Aware datetimes are passed through by PostgreSQL's adapter; naive ones get Django's
        # warning and conversion.
        return [
            value
            if value is None or (isinstance(value, datetime.datetime) and value.tzinfo is not None)
            else prepare(value, connection)
            for value in values
        ]
    as_is = _COPY_AS_IS.get(kind)
    if as_is is None:
        return [prepare(value, connection) for value in values]
    return [
        value if value is None or type(value) in as_is else prepare(value, connection)
        for value in values
    ]


def _refuse_tokens(
    model: type[models.Model], field: EncryptedTextField, datas: list[dict[str, Any]]
) -> None:
    if any(isinstance(data.get(field.attname), SealedToken) for data in datas):
        raise FieldError(
            f"{model.__name__}.{field.name} holds a token read from another row: "
            "a bulk insert takes plaintext"
        )


def _row_parts(model: type[models.Model], objs: list[models.Model]) -> list[bytes]:
    """Each row's part of the associated data: its id and, for a case-owned model, its owner."""
    owner = owner_field(model)
    if owner is None:
        return [crypto.row_aad(str(obj.pk)) for obj in objs]
    return [
        crypto.row_aad(str(obj.pk), owner_binding(owner, obj.__dict__[owner.attname]))
        for obj in objs
    ]


def _index_column(field: BlindIndexField, objs: list[models.Model]) -> list[str | None]:
    """The index ``BlindIndexField.pre_save`` computes, under the column key derived once; set
    on each instance too, as pre_save sets it."""
    key = field.column_key()
    values = []
    for obj in objs:
        value = _index_or_none(field.kind, tuple(getattr(obj, s) for s in field.sources), key)
        obj.__dict__[field.attname] = value
        values.append(value)
    return values


def reserve_encryptions(batches: Iterable[tuple[type[models.Model], Sequence[Any]]]) -> None:
    """Lease, in one reservation, the encryptions that inserting each (model, rows) batch may
    make (every encrypted field of every row: an upper bound), before :func:`insert`-ing them
    (a demo batch writes some twenty encrypted columns)."""
    count = sum(
        len(rows) * sum(isinstance(f, EncryptedTextField) for f in model._meta.concrete_fields)
        for model, rows in batches
    )
    vault_fields.get_keyring().reserve_ahead(count)  # type: ignore[attr-defined]


def write_rows(
    connection: Any, table: str, columns: list[str], rows: Sequence[Sequence[Any]]
) -> None:
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
