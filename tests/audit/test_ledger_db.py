"""The ledger in the database: same transaction as the change, append-only, one canonical form."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, connection, transaction

from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.ledger import (
    CANONICAL_FIELDS,
    LedgerError,
    canonical_bytes,
    canonical_bytes_from_values,
    leaf_hash_hex,
)
from haven.audit.models import Checkpoint, LedgerEntry
from haven.concurrency.transactions import service_transaction

from .ledger_helpers import write_entries


class Boom(Exception):
    pass


# Transactional (committing) tests are not possible here: pytest-django empties the tables
# between them with DELETE/TRUNCATE, which the append-only triggers refuse.  The test body runs
# inside pytest-django's transaction, so "commit" below is the release of the inner atomic
# block and "rollback" its rollback -- the same code paths a real request takes.


def test_record_outside_a_transaction_is_refused(
    officer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Outside pytest-django's wrapping transaction, as in autocommit code with no atomic().
    monkeypatch.setattr(connection, "in_atomic_block", False)
    with pytest.raises(LedgerError, match="inside the transaction"):
        ledger.record(actor=officer, action="consultation", object_type="case", object_id=1)
    monkeypatch.undo()
    assert not LedgerEntry.objects.exists()


def test_rolled_back_change_leaves_neither_change_nor_entry(officer: User) -> None:
    with pytest.raises(Boom), service_transaction():
        User.objects.filter(pk=officer.pk).update(first_name="After")
        ledger.record(
            actor=officer,
            action="alteration",
            object_type="user",
            object_id=officer.pk,
            fields=["first_name"],
        )
        assert LedgerEntry.objects.count() == 1
        raise Boom
    assert User.objects.get(pk=officer.pk).first_name != "After"
    assert not LedgerEntry.objects.exists()


def test_committed_change_has_its_entry(officer: User) -> None:
    with service_transaction():
        User.objects.filter(pk=officer.pk).update(first_name="After")
        ledger.record(
            actor=officer,
            action="alteration",
            object_type="user",
            object_id=officer.pk,
            fields=["first_name", "email"],
            justification="name change",
        )
    entry = LedgerEntry.objects.get()
    assert User.objects.get(pk=officer.pk).first_name == "After"
    assert (entry.actor_id, entry.actor_username) == (officer.pk, officer.username)
    assert (entry.object_type, entry.object_id) == ("user", str(officer.pk))
    assert entry.fields == ["email", "first_name"]
    assert entry.leaf_hash == leaf_hash_hex(canonical_bytes(entry))


def test_unknown_action_is_refused(officer: User) -> None:
    with pytest.raises(LedgerError, match="unknown ledger action"), service_transaction():
        ledger.record(actor=officer, action="peek", object_type="case", object_id=1)


def test_canonical_bytes_from_values_matches_model_path(officer: User) -> None:
    """The bulk verify path (values_list rows) and record()'s path give identical bytes."""
    with service_transaction():
        ledger.record(
            actor=officer,
            action="disclosure",
            object_type="report",
            object_id="R-1",
            recipients=["IOPC", "Ombudsman ✓"],
            justification='quote " and \\ and\nnewline',
            details={"z": [1, 2.5, None], "a": {"nested": "ü"}},
        )
    write_entries(officer, 3)
    for entry in LedgerEntry.objects.order_by("id"):
        stored = LedgerEntry.objects.filter(pk=entry.pk).values_list(*CANONICAL_FIELDS).get()
        assert canonical_bytes_from_values(*stored) == canonical_bytes(entry)
        assert leaf_hash_hex(canonical_bytes_from_values(*stored)) == entry.leaf_hash


def test_canonical_bytes_are_utc_and_key_sorted(officer: User) -> None:
    moment = datetime.datetime(
        2025, 6, 1, 13, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1))
    )
    canonical = canonical_bytes_from_values(
        moment, 7, "ann", "consultation", "case", "1", "", [], [], "é", {}
    )
    assert (
        canonical
        == (
            '{"action":"consultation","actor":"ann","actor_id":7,"case_id":"","details":{},'
            '"fields":[],"justification":"é","object_id":"1","object_type":"case",'
            '"recipients":[],"recorded_at":"2025-06-01T12:00:00.000000+00:00"}'
        ).encode()
    )


@pytest.mark.parametrize("table", ["audit_ledgerentry", "audit_checkpoint"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}"])
def test_update_and_delete_are_refused_by_the_database(
    officer: User, table: str, statement: str
) -> None:
    write_entries(officer, 2)
    Checkpoint.objects.create(
        tree_size=2,
        root_hash="0" * 64,
        signed_at="2025-01-01T00:00:00Z",
        key_id="0" * 16,
        signature="x",
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement.format(table=table))
    assert LedgerEntry.objects.count() == 2
    assert Checkpoint.objects.count() == 1


def test_orm_update_and_delete_are_refused_too(officer: User) -> None:
    entry = write_entries(officer, 1)[0]
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(justification="nothing to see")
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    assert LedgerEntry.objects.get(pk=entry.pk).justification == entry.justification


def test_fast_rows_equal_orm_rows(officer: User) -> None:
    """verify's bulk row conversion gives exactly Django's values_list values."""
    from haven.audit.verification import _entry_rows, orm_rows

    write_entries(officer, 3)
    with service_transaction():
        ledger.record(
            actor=None,
            action="disclosure",
            object_type="report",
            object_id="R-2",
            recipients=["IOPC", "Ombudsman ✓"],
            details={"z": [1, 2.5, None, True], "a": {"nested": "ü"}, "big": 2**70},
        )
    last_id = LedgerEntry.objects.order_by("-id").values_list("id", flat=True).first()
    fast, reference = list(_entry_rows(last_id)), list(orm_rows(last_id))
    assert len(fast) == 4
    assert fast == reference
    for fast_row, orm_row in zip(fast, reference, strict=True):
        assert canonical_bytes_from_values(*fast_row[2:]) == canonical_bytes_from_values(
            *orm_row[2:]
        )
        assert fast_row[2].utcoffset() == datetime.timedelta(0)


def test_a_recorded_entry_is_the_row_written(officer: User) -> None:
    """record() writes without save() on PostgreSQL: the entry it returns carries the row's
    id and reads back column for column, and saving it again is refused (an UPDATE)."""
    with service_transaction():
        entry = ledger.record(
            actor=officer,
            action="consultation",
            object_type="case",
            object_id=7,
            case_id="CASE-7",
            fields=["address"],
            recipients=["colleague"],
            justification="review — résumé",
            details={"n": 1},
        )
    stored = LedgerEntry.objects.get(pk=entry.pk)
    assert entry.pk == LedgerEntry.objects.latest("id").pk
    for field in LedgerEntry._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(entry, field.attname), field.name
    assert not entry._state.adding
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.save()
