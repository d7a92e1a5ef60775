"""The statements every ingest batch runs, done without the ORM's per-row machinery: locking
(reading) its devices, inserting its positions, and writing back its devices' state.

Through the ORM these cost more than everything else an ingest does: instantiating a Position,
its per-field pre_save and get_db_prep_save, and quoting ~17 parameters per row into one
giant INSERT (whose text is parsed again for every batch) come to ~110 µs a message, and the
locking query is compiled afresh for every batch. Here a position is a dict of plaintext
values; on PostgreSQL the devices are read with binary results, and the positions inserted and the
devices updated in ONE statement of binary array parameters (psycopg converts in C), all
through statements whose text never changes; on SQLite with the ORM's query and executemany.

Round trips count as much as CPU: the batch writer waits for each one, and every message of
the batch waits for the writer (a tracker sends its next record only once acknowledged). On
PostgreSQL a batch makes four: BEGIN with the lock, the authorisation look-up, the write, the
COMMIT (it was seven: BEGIN, the lock, the look-up, COPY's two, the UPDATE, the COMMIT).

Encrypted columns are sealed by the vault's bulk API (`haven.vault.fields.bulk_sealer`), a
column at a time: the same tokens `save()` writes, bound to (table, column, row id), one key
ring per batch.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Collection, Iterable, Sequence
from functools import cache
from operator import attrgetter
from typing import Any
from uuid import UUID

import psycopg
from django.db import connection
from django.db.models import Field, FloatField, JSONField

from haven.vault.fields import EncryptedTextField, bulk_opener, bulk_sealer

from . import geofence as gf
from .models import Position, TelemetryDevice, stored_accuracy, stored_point

Values = dict[str, Any]  # a position's plaintext values by field attname (not "device")


def lock_devices(device_ids: Collection[str]) -> list[TelemetryDevice]:
    """The active devices with these ids, their rows locked (SELECT ... FOR UPDATE) in primary
    key order. On PostgreSQL read in binary (psycopg decodes timestamps and JSON in C) and
    built with Model.from_db: half the CPU of the ORM's query, which a batch pays every time."""
    if connection.vendor != "postgresql":
        found = TelemetryDevice.objects.select_for_update().filter(
            device_id__in=device_ids, active=True
        )
        return list(found.order_by("pk"))
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        # Pipelined: the transaction's BEGIN goes with the query, in one round trip; the
        # results are there once the pipeline is left.
        with connection.connection.pipeline():
            cursor.execute(_lock_sql(), [list(device_ids)], binary=True)
        found_rows = cursor.fetchall()
    return [_device_from_row(row) for row in found_rows]


@cache
def _lock_sql() -> str:
    meta = TelemetryDevice._meta
    columns = ", ".join(_qn(f.column) for f in meta.concrete_fields)
    assert meta.pk is not None
    device_id, active = _qn(meta.get_field("device_id").column), _qn("active")
    where = f"{device_id} = ANY(%s::varchar(80)[]) AND {active}"
    order = f"ORDER BY {_qn(meta.pk.column)} FOR UPDATE"
    return f"SELECT {columns} FROM {_qn(meta.db_table)} WHERE {where} {order}"  # noqa: S608


@cache
def _json_columns() -> tuple[int, ...]:
    fields = TelemetryDevice._meta.concrete_fields
    return tuple(i for i, f in enumerate(fields) if isinstance(f, JSONField))


@cache
def _device_attnames() -> tuple[str, ...]:
    return tuple(f.attname for f in TelemetryDevice._meta.concrete_fields)


def _device_from_row(row: Sequence[Any]) -> TelemetryDevice:
    """psycopg's binary jsonb loader already gives Python values; text (another loader
    configured) is decoded as JSONField would."""
    values = list(row)
    for i in _json_columns():
        if isinstance(values[i], str):
            values[i] = json.loads(values[i])
    return TelemetryDevice.from_db(connection.alias, _device_attnames(), values)


def valid_fixes(
    device_pks: Collection[UUID], fix_times: Collection[dt.datetime]
) -> list[tuple[UUID, dt.datetime, gf.Fix]]:
    """(device pk, fix time, the fix) of the stored valid fixes with a point among these
    devices and fix times, the point as Position.point and .point_accuracy give it (sealed
    coordinates opened). Read as plain rows, not model instances: a receiver's first batches
    read one per tracker of the fleet (its previous fix)."""
    found = Position.objects.filter(
        device_id__in=device_pks, fix_time__in=fix_times, valid=True
    ).values_list("id", "device_id", "fix_time", "lat", "lon", "accuracy", "sealed")
    open_, sealed_field = bulk_opener(Position), Position._meta.get_field("sealed")
    fixes = []
    for row_id, device_pk, at, lat, lon, accuracy, sealed in found:
        opened = open_(sealed_field, sealed, str(row_id))
        point = stored_point(lat, lon, opened)
        if point is not None:
            fixes.append((device_pk, at, gf.Fix(*point, stored_accuracy(accuracy, opened), at)))
    return fixes


def position_instance(device: TelemetryDevice, values: Values) -> Position:
    """The model instance of a row inserted by write_batch, as bulk_create leaves it."""
    position = Position(device=device, **values)
    position._state.adding = False
    position._state.db = connection.alias
    return position


@cache
def _position_fields() -> tuple[Field[Any, Any], ...]:
    return tuple(Position._meta.concrete_fields)


def _position_columns(positions: Sequence[tuple[TelemetryDevice, Values]]) -> list[list[Any]]:
    """The positions as one list per column (in _position_fields() order): an encrypted
    column is sealed in one call, its key and associated data's prefix looked up once."""
    seal = bulk_sealer(Position)
    row_ids = [str(values["id"]) for _, values in positions]
    columns: list[list[Any]] = []
    for f in _position_fields():
        if f.attname == "device_id":
            columns.append([device.pk for device, _ in positions])
        elif isinstance(f, EncryptedTextField):
            columns.append(seal(f, [values[f.attname] for _, values in positions], row_ids))
        else:
            columns.append([values[f.attname] for _, values in positions])
    return columns


def _insert_positions(positions: Sequence[tuple[TelemetryDevice, Values]]) -> None:
    """SQLite: INSERT the positions (no conflict handling: the caller holds the device rows
    locked and has already left out every (device, fix time) that is stored)."""
    if not positions:
        return
    prepare = _sqlite_adapters(_position_fields())
    columns = [
        [adapt(value) for value in column]
        for adapt, column in zip(prepare, _position_columns(positions), strict=True)
    ]
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.executemany(_position_sql(), list(zip(*columns, strict=True)))


@cache
def _position_sql() -> str:
    """The statement inserting a position (its identifiers come from the model's metadata)."""
    fields = _position_fields()
    table, columns = _qn(Position._meta.db_table), ", ".join(_qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608


def _sqlite_adapters(fields: Sequence[Field[Any, Any]]) -> list[Callable[[Any], Any]]:
    """Django's own conversion per column (UUIDs as hex, datetimes as text); sealed tokens are
    already text."""

    def adapter(f: Field[Any, Any]) -> Callable[[Any], Any]:
        if isinstance(f, EncryptedTextField):
            return _same
        return lambda value: f.get_db_prep_save(value, connection)

    return [adapter(f) for f in fields]


def _same(value: Any) -> Any:
    return value


def write_batch(
    positions: Sequence[tuple[TelemetryDevice, Values]],
    devices: Iterable[TelemetryDevice],
    state: Sequence[str],
) -> None:
    """Insert a batch's positions and write back the `state` fields of its devices. On
    PostgreSQL in one statement: the INSERT as a data-modifying WITH of the device UPDATE,
    every column one binary array (and the devices' columns that did not change rewritten
    with the value read under the row lock, which is the same)."""
    devices = list(devices)
    if connection.vendor != "postgresql":
        _insert_positions(positions)
        _save_device_state(devices, state)
        return
    if not positions and not devices:
        return
    columns = [
        _position_column(f, column)
        for f, column in zip(_position_fields(), _position_columns(positions), strict=True)
    ]
    state_fields = _device_fields(tuple(state))
    columns += [_state_column(f, devices) for f in state_fields]
    _update_from_arrays(_write_batch_sql(tuple(state)), columns)


@cache
def _write_batch_sql(state: tuple[str, ...]) -> str:
    """INSERT ... SELECT FROM unnest(one array per column), then the state UPDATE. (The two
    touch different tables: neither needs to see the other's rows.)"""
    fields = _position_fields()
    table, columns = _qn(Position._meta.db_table), ", ".join(_qn(f.column) for f in fields)
    arrays = ", ".join(f"%b::{f.db_type(connection)}[]" for f in fields)
    insert = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})"  # noqa: S608
    return f"WITH new_positions AS ({insert}) {_device_state_sql('postgresql', state)}"


def _position_column(f: Field[Any, Any], values: list[Any]) -> list[Any]:
    """One column of positions as an array parameter. A float column may hold ints (a parser
    kept "5" as 5): psycopg types a list by its first element, so all are made floats."""
    if isinstance(f, FloatField):
        return [None if value is None else float(value) for value in values]
    return values


def _save_device_state(devices: list[TelemetryDevice], state: Sequence[str]) -> None:
    """SQLite: write back the `state` fields of every device (the batch touched them all:
    last_seen_at always changes). Not bulk_update(): its CASE WHEN per row and field costs
    ~30 µs of Python each. Columns that did not change are rewritten with the value read under
    the row lock, which is the same."""
    if not devices:
        return
    fields = _device_fields(tuple(state))
    values = [
        [f.get_db_prep_save(getattr(d, f.attname), connection) for f in fields] for d in devices
    ]
    with connection.cursor() as cursor:  # one prepared statement per row, as cheap
        cursor.executemany(_device_state_sql(connection.vendor, tuple(state)), values)


def _update_from_arrays(sql: str, columns: list[list[Any]]) -> None:
    """PostgreSQL: one array per column, sent in binary (psycopg dumps them in C; Django's
    cursor binds on the client, quoting every element into the SQL text: 4x the CPU). The
    statement's text is the same for every batch."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, columns)


@cache
def _device_state_sql(vendor: str, state: tuple[str, ...]) -> str:
    """The statement writing back the state (identifiers from the model's metadata; every
    value is a parameter)."""
    fields = _device_fields(state)
    table, pk = _qn(TelemetryDevice._meta.db_table), _qn(fields[-1].column)
    if vendor == "postgresql":
        names = ", ".join(_qn(f.column) for f in fields)
        arrays = ", ".join(f"%b::{f.db_type(connection)}[]" for f in fields)
        sets = ", ".join(f"{_qn(f.column)} = v.{_qn(f.column)}" for f in fields[:-1])
        source = f"unnest({arrays}) AS v({names})"
        return f"UPDATE {table} AS d SET {sets} FROM {source} WHERE d.{pk} = v.{pk}"  # noqa: S608
    sets = ", ".join(f"{_qn(f.column)} = %s" for f in fields[:-1])
    return f"UPDATE {table} SET {sets} WHERE {pk} = %s"  # noqa: S608


@cache
def _device_fields(state: tuple[str, ...]) -> list[Field[Any, Any]]:
    """The state fields, then the primary key."""
    meta = TelemetryDevice._meta
    fields = [meta.get_field(name) for name in state]
    assert all(isinstance(f, Field) for f in fields), state
    assert meta.pk is not None
    return [*fields, meta.pk]  # type: ignore[list-item]


def _state_column(f: Field[Any, Any], devices: list[TelemetryDevice]) -> list[Any]:
    """One device field of every device as an array parameter: JSON as its text (cast to
    jsonb by the statement), everything else as psycopg adapts it. A column at a time: the
    field's kind is looked at once, not for each of its values."""
    values = list(map(attrgetter(f.attname), devices))
    if isinstance(f, JSONField):
        encoder = f.encoder
        return [None if value is None else json.dumps(value, cls=encoder) for value in values]
    return values


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)
