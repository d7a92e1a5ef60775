"""Writers append without waiting for each other; checkpoints and verification cover only
entries below every writer still open, and the fast verify agrees with the reference pass."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import CommandError
from django.db import IntegrityError, OperationalError, connection, transaction

from haven.accounts.models import User
from haven.audit import copies, fastverify, ledger, signing, verification
from haven.audit.merkle import TreeBuilder, leaf_hash
from haven.audit.models import Checkpoint, LedgerEntry
from haven.concurrency.transactions import service_transaction

from .ledger_helpers import (
    audit,
    checkpoint,
    drop_append_only_triggers,
    drop_ledger_guards,
    execute,
    write_entries,
)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite has one writer at a time"
)


@pytest.fixture
def other_session() -> Iterator[Any]:
    """A second database session (a concurrent writer); what it does is rolled back."""
    session = connection.get_new_connection(connection.get_connection_params())
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def insert_uncommitted(session: Any) -> None:
    """An entry inserted by another transaction that has not committed yet: it draws its id
    now, before the entries the test writes afterwards."""
    session.execute(
        "INSERT INTO audit_ledgerentry (recorded_at, actor_username, action, object_type, "
        "object_id, case_id, fields, recipients, justification, details, leaf_hash) "
        "VALUES (now(), 'other', 'consultation', 'witness', '1', '', '[]', '[]', '', '{}', %s)",
        ["0" * 64],
    )


def keys() -> dict[str, Any]:
    return verification.public_keys_by_id(signing.trusted_public_keys())


@on_postgresql
def test_a_checkpoint_waits_for_a_writer_holding_a_lower_id(
    officer: User, ledger_key: Ed25519PrivateKey, other_session: Any
) -> None:
    insert_uncommitted(other_session)
    later = write_entries(officer, 2)
    with pytest.raises(verification.AuditError, match=r"1 ledger writer\(s\) still open after 0 s"):
        verification.snapshot_last_id(timeout=0)
    before = Checkpoint.objects.count()
    other_session.rollback()  # the lower id never commits: the horizon moves past it
    assert verification.snapshot_last_id(timeout=0) == later[-1].pk
    checkpoint()
    assert Checkpoint.objects.count() == before + 1
    assert Checkpoint.objects.order_by("-id").first().tree_size == 2  # type: ignore[union-attr]


@on_postgresql
def test_verify_refuses_rather_than_sign_past_an_open_writer(
    officer: User, ledger_key: Ed25519PrivateKey, other_session: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(verification, "SETTLE_TIMEOUT_S", 0.0)
    insert_uncommitted(other_session)
    write_entries(officer, 1)
    with pytest.raises(CommandError, match=r"still open after 0 s .* cannot be checkpointed"):
        audit("checkpoint", "--quiet")
    assert not Checkpoint.objects.exists()


@on_postgresql
def test_an_ordinary_entry_does_not_wait_for_the_ledger_lock(
    officer: User, other_session: Any
) -> None:
    """Before issue 22 every append took this lock until commit; now nothing a writer does
    waits for another writer."""
    other_session.execute("SELECT pg_advisory_xact_lock(%s)", [ledger.LEDGER_LOCK_KEY])
    execute("SET LOCAL lock_timeout = '2s'")
    entries = write_entries(officer, 3)
    assert LedgerEntry.objects.filter(pk__in=[entry.pk for entry in entries]).count() == 3


@on_postgresql
def test_an_entry_carrying_access_state_still_takes_the_ledger_lock(
    officer: User, other_session: Any
) -> None:
    """State changes are replayed in id order (`haven audit verify --state`), so among
    themselves they still commit in id order."""
    other_session.execute("SELECT pg_advisory_xact_lock(%s)", [ledger.LEDGER_LOCK_KEY])
    execute("SET LOCAL lock_timeout = '50ms'")
    with pytest.raises(OperationalError, match="lock timeout"), service_transaction():
        ledger.record(
            actor=officer,
            action="access_grant",
            object_type="team",
            object_id=1,
            details={"state": [["member", 1, officer.pk, "add"]]},
        )
    assert not LedgerEntry.objects.filter(action="access_grant").exists()


def test_on_sqlite_the_horizon_is_the_last_id(officer: User) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    entries = write_entries(officer, 2)
    assert verification.snapshot_last_id(timeout=0) == entries[-1].pk


# --- the fast verify -------------------------------------------------------------------------


def fast_report(workers: int) -> verification.VerificationReport | None:
    """The fast pass over ``workers`` ranges, each hashed on this connection (the test's
    entries are visible to no other)."""
    checkpoints = verification.stored_checkpoints()
    last_id = verification.snapshot_last_id()
    assert last_id is not None
    ranges = verification._fast_ranges(last_id, checkpoints, workers)
    results = [fastverify.hash_range(connection.connection, *bound[1:]) for bound in ranges]
    return verification._fold_ranges(keys(), checkpoints, ranges, results)


def reference_report() -> verification.VerificationReport:
    checkpoints = verification.stored_checkpoints()
    last_id = verification.snapshot_last_id()
    return verification._verify_rows(keys(), checkpoints, None, None, last_id)


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Subtrees of 4 leaves, so that a few entries span several chunks and ranges."""
    monkeypatch.setattr(fastverify, "CHUNK", 4)
    monkeypatch.setattr(fastverify, "MIN_RANGE", 4)


@on_postgresql
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_the_fast_pass_agrees_with_the_reference_pass(
    officer: User, ledger_key: Ed25519PrivateKey, small_chunks: None, workers: int
) -> None:
    for count in (3, 1, 4, 5, 6):  # checkpoints at 3, 4, 8 (a chunk edge), 13, 19
        write_entries(officer, count, start=LedgerEntry.objects.count())
        checkpoint()
    write_entries(officer, 2, start=100)  # not yet signed
    fast = fast_report(workers)
    reference = reference_report()
    assert fast is not None
    assert (fast.entries, fast.root, fast.checkpoints) == (21, reference.root, 5)
    assert fast == reference
    assert fast.latest_checkpoint is not None and fast.latest_checkpoint.tree_size == 19


@on_postgresql
@pytest.mark.usefixtures("resettable_ledger")
def test_committed_ranges_are_hashed_in_worker_processes(
    officer: User,
    ledger_key: Ed25519PrivateKey,
    small_chunks: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python's share of the work does not fit one thread: a command with no other thread
    forks a worker per range (each with a connection of its own, so the entries commit)."""
    write_entries(officer, 9)
    checkpoint()
    write_entries(officer, 3, start=9)  # not yet signed

    def no_threads(*args: object, **kwargs: object) -> None:
        raise AssertionError("the ranges ran in threads")

    monkeypatch.setattr(fastverify, "ThreadPoolExecutor", no_threads)
    checkpoints = verification.stored_checkpoints()
    last_id = verification.snapshot_last_id()
    assert len(verification._fast_ranges(last_id or 0, checkpoints)) == 3
    fast = verification._fast_verify(keys(), checkpoints, last_id)
    assert fast is not None
    assert fast == reference_report()
    assert (fast.entries, fast.checkpoints) == (12, 1)


@on_postgresql
def test_the_command_takes_the_fast_pass_on_a_good_ledger(
    officer: User, ledger_key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_entries(officer, 5)
    checkpoint()

    def no_reference_pass(*args: object, **kwargs: object) -> None:
        raise AssertionError("the reference pass ran on a good ledger")

    monkeypatch.setattr(verification, "_verify_rows", no_reference_pass)
    assert audit("verify", "--quiet").startswith("verified 5 entries, 1 checkpoints")


@on_postgresql
@pytest.mark.parametrize(
    "tampering",
    [
        "UPDATE audit_ledgerentry SET canonical = NULL WHERE id = %s",
        "UPDATE audit_ledgerentry SET leaf_hash = upper(leaf_hash) WHERE id = %s",
        # The same document spelled otherwise: the database sees the same jsonb, the hash not.
        "UPDATE audit_ledgerentry SET canonical = convert_to(replace(convert_from(canonical, "
        "'UTF8'), '\"action\":', '\"action\" :'), 'UTF8') WHERE id = %s",
    ],
)
def test_the_fast_pass_leaves_any_doubt_to_the_reference_pass(
    officer: User, ledger_key: Ed25519PrivateKey, small_chunks: None, tampering: str
) -> None:
    entries = write_entries(officer, 9)
    checkpoint()
    assert fast_report(2) is not None
    drop_append_only_triggers()  # the copy constraint stays: each of these passes it
    execute(tampering, [entries[5].pk])
    assert fast_report(2) is None
    assert LedgerEntry.objects.count() == 9  # the declined pass left the connection usable


COLUMN_TAMPERINGS = [
    "UPDATE audit_ledgerentry SET case_id = 'CASE-9' WHERE id = %s",
    "UPDATE audit_ledgerentry SET details = '{\"n\": 7}' WHERE id = %s",
    "UPDATE audit_ledgerentry SET actor_id = NULL WHERE id = %s",
    # The same time in the year BC, which to_char spells as the year AD.
    "UPDATE audit_ledgerentry SET recorded_at = (to_char(recorded_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD HH24:MI:SS.US') || ' BC')::timestamp AT TIME ZONE 'UTC' WHERE id = %s",
    "UPDATE audit_ledgerentry SET recorded_at = recorded_at + interval '1 microsecond' "
    "WHERE id = %s",
    "UPDATE audit_ledgerentry SET canonical = convert_to(replace(convert_from(canonical, "
    "'UTF8'), '\"action\":', '\"extra\":1,\"action\":'), 'UTF8') WHERE id = %s",
]


@on_postgresql
@pytest.mark.parametrize("tampering", COLUMN_TAMPERINGS)
def test_the_database_refuses_columns_that_disagree_with_the_stored_copy(
    officer: User, tampering: str
) -> None:
    entries = write_entries(officer, 3)
    drop_append_only_triggers()
    with pytest.raises(IntegrityError, match=copies.NAME), transaction.atomic():
        execute(tampering, [entries[1].pk])


@on_postgresql
@pytest.mark.django_db
def test_the_migrations_leave_the_copy_constraint_enforced() -> None:
    assert copies.enforced(connection)


@on_postgresql
def test_adding_the_copy_constraint_over_disagreeing_rows_leaves_it_unvalidated(
    officer: User,
) -> None:
    entries = write_entries(officer, 3)
    drop_ledger_guards()
    execute(COLUMN_TAMPERINGS[0], [entries[1].pk])
    assert copies.add(connection) is False  # what audit 0007 does on such a ledger
    assert not copies.enforced(connection)
    with pytest.raises(IntegrityError, match=copies.NAME), transaction.atomic():
        execute(COLUMN_TAMPERINGS[1], [entries[0].pk])  # new changes are still held to it
    execute(COLUMN_TAMPERINGS[0].replace("'CASE-9'", "'CASE-1'"), [entries[1].pk])
    assert copies.add(connection) is True
    assert copies.enforced(connection)


@on_postgresql
@pytest.mark.parametrize(
    "replacement",
    [
        None,  # dropped
        f"CHECK ({copies.CONDITION}) NOT VALID",  # back, but never checked on the rows there
        "CHECK (canonical IS NULL OR recorded_at IS NOT NULL)",  # back, but weaker
    ],
)
def test_without_the_copy_constraint_intact_the_reference_pass_compares_the_columns(
    officer: User, ledger_key: Ed25519PrivateKey, replacement: str | None
) -> None:
    entries = write_entries(officer, 4)
    checkpoint()
    drop_ledger_guards()
    execute(COLUMN_TAMPERINGS[0], [entries[2].pk])
    if replacement is not None:
        execute(f"ALTER TABLE {copies.TABLE} ADD CONSTRAINT {copies.NAME} {replacement}")
    assert not copies.enforced(connection)
    last_id = verification.snapshot_last_id()
    assert verification._fast_verify(keys(), verification.stored_checkpoints(), last_id) is None
    with pytest.raises(CommandError, match=rf"^entry {entries[2].pk} was altered"):
        audit("verify", "--quiet")


def plant_awkward_entries(actor: User) -> None:
    """Entries as any writer may have stored them, with what JSON must escape or order: the
    database's copy constraint must take each one's copy as the ledger spells it."""
    moments = [
        datetime.datetime(2025, 3, 4, 5, 6, 7, tzinfo=datetime.UTC),  # no microseconds
        datetime.datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=datetime.UTC),  # a three-digit year
        datetime.datetime(
            2025, 6, 1, 23, 30, 0, 1, tzinfo=datetime.timezone(-datetime.timedelta(hours=5))
        ),
    ]
    awkward = 'quote " backslash \\ newline \n tab \t bell \x07 del \x7f sep \u2028 zoë 🚓'
    values = [
        (
            moments[0],
            actor.pk,
            actor.username,
            "consultation",
            "witness",
            "1",
            "CASE-1",
            ["address", 'a, "b"', "c: d"],
            [],
            "operational_need",
            {},
        ),
        (
            moments[1],
            None,
            "",
            "disclosure",
            "witness",
            awkward,
            awkward,
            [],
            ["IOPC", awkward],
            awkward,
            {"to": 1, "from": [1.5, {"b": None, "a": True}]},
        ),
        (
            moments[2],
            actor.pk,
            "zoë 🚓",
            "alteration",
            'type "x"',
            "",
            "",
            [[1, 2], {"k": "v"}],
            [],
            "",
            {"é": "x\ny", "long_key": -2, "a": {"z": [], "y": {}}},
        ),
    ]
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            **dict(zip(ledger.CANONICAL_FIELDS, row, strict=True)),
            canonical=ledger.canonical_bytes_from_values(*row),
            leaf_hash=ledger.leaf_hash_hex(ledger.canonical_bytes_from_values(*row)),
        )
        for row in values
    )


@on_postgresql
def test_the_copy_constraint_takes_awkward_entries_as_the_ledger_spells_them(
    officer: User, ledger_key: Ed25519PrivateKey, small_chunks: None
) -> None:
    write_entries(officer, 2)
    plant_awkward_entries(officer)  # an IntegrityError here: the constraint spells otherwise
    checkpoint()
    assert copies.enforced(connection)
    fast = fast_report(2)
    assert fast is not None
    assert fast == reference_report()
    assert fast.entries == 5


@on_postgresql
def test_the_fast_pass_declines_a_forged_checkpoint_root(
    officer: User, ledger_key: Ed25519PrivateKey, small_chunks: None
) -> None:
    write_entries(officer, 6)
    checkpoint()
    drop_ledger_guards()
    execute("UPDATE audit_checkpoint SET tree_size = 5")
    assert fast_report(2) is None
    with pytest.raises(CommandError, match="invalid signature"):
        audit("verify", "--quiet")


def test_a_tree_grows_by_whole_subtrees_as_by_leaves() -> None:
    leaves = [leaf_hash(bytes([n])) for n in range(12)]
    by_leaf, by_subtree = TreeBuilder(), TreeBuilder()
    by_leaf.extend(leaves)
    reference = TreeBuilder()
    reference.extend(leaves[:8])
    by_subtree.append_subtree(reference.root(), 8)
    for leaf in leaves[8:]:
        by_subtree.append(leaf)
    assert by_subtree.root() == by_leaf.root()
    with pytest.raises(ValueError, match="cannot start at"):
        by_subtree.append_subtree(reference.root(), 8)  # 12 is no multiple of 8
    with pytest.raises(ValueError, match="cannot start at"):
        TreeBuilder().append_subtree(reference.root(), 6)  # not a power of two
