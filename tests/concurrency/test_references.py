"""Reference numbers come from a locked counter row: sequential per year, never shared."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from haven.accounts.roles import Role
from haven.cases import services as case_services
from haven.cases.models import Case
from haven.concurrency import references
from haven.concurrency.models import ReferenceCounter

from ..factories import UserFactory, make_case
from ..oversight.helpers import complaint, officer


@pytest.mark.django_db
def test_case_references_are_sequential_per_year() -> None:
    lead = UserFactory()
    year = timezone.localdate().year
    made = [make_case(lead, name=f"Ivy Number{n}").reference for n in range(3)]
    assert made == [f"HVN-{year}-{n:05d}" for n in (1, 2, 3)]
    with time_machine.travel(dt.datetime(year + 1, 1, 1, 9, tzinfo=dt.UTC), tick=False):
        assert make_case(lead).reference == f"HVN-{year + 1}-00001"
        assert make_case(lead).reference == f"HVN-{year + 1}-00002"
    assert make_case(lead).reference == f"HVN-{year}-00004"


@pytest.mark.django_db
def test_complaint_references_follow_the_year_received() -> None:
    user = officer()
    assert complaint(user, received_on=dt.date(2025, 1, 6)).reference == "CMP-2025-0001"
    assert complaint(user, received_on=dt.date(2024, 12, 30)).reference == "CMP-2024-0001"
    assert complaint(user, received_on=dt.date(2025, 2, 3)).reference == "CMP-2025-0002"


@pytest.mark.django_db
def test_a_new_series_starts_after_references_stored_before_the_counter() -> None:
    lead = UserFactory()
    year = timezone.localdate().year
    older = make_case(lead)
    ReferenceCounter.objects.all().delete()  # as on a database from before the counter
    Case.objects.filter(pk=older.pk).update(reference=f"HVN-{year}-00041")
    assert make_case(lead).reference == f"HVN-{year}-00042"
    assert make_case(lead).reference == f"HVN-{year}-00043"
    assert ReferenceCounter.objects.get(scope="HVN", year=year).last == 43


@pytest.mark.django_db
def test_a_rolled_back_transaction_gives_its_numbers_back() -> None:
    lead = UserFactory()
    year = timezone.localdate().year
    assert make_case(lead).reference == f"HVN-{year}-00001"
    with pytest.raises(RuntimeError), transaction.atomic():
        assert references.reserve(Case, "HVN", year, count=10) == 2
        raise RuntimeError("rolled back")
    assert make_case(lead).reference == f"HVN-{year}-00002"


@pytest.mark.django_db
def test_numbers_are_only_taken_inside_the_transaction_that_uses_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(connection, "in_atomic_block", False)
    with pytest.raises(RuntimeError, match="inside the transaction"):
        references.reserve(Case, "HVN", 2026)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_referrals_never_get_the_same_reference(
    resettable_ledger: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite serialises every writer)")
    lead = UserFactory(roles=[Role.PROTECTION_OFFICER])
    rounds, writers = 5, 2
    # Both referrals are inside their own transactions before either takes a number: with a
    # count() or max() both would read the same highest reference.
    together = threading.Barrier(writers)
    taking = case_services.next_reference

    def in_step() -> str:
        together.wait(timeout=30)
        return taking()

    monkeypatch.setattr(case_services, "next_reference", in_step)
    made: list[str] = []
    failures: list[BaseException] = []

    def refer(number: int) -> Callable[[], None]:
        def run() -> None:
            try:
                for round_ in range(rounds):
                    case = make_case(lead, name=f"Ivy Concurrent{number}x{round_}")
                    made.append(case.reference)
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                failures.append(error)
                together.abort()
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=refer(n)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not failures, failures
    year = timezone.localdate().year
    assert sorted(made) == [f"HVN-{year}-{n:05d}" for n in range(1, rounds * writers + 1)]
