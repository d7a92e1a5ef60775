"""The ledger's "inside the transaction of the change" guard cannot be fooled by pytest.

pytest-django runs every test inside a transaction, so ``in_atomic_block`` is always true in a
test: a service that forgot its transaction would still pass. The ledger therefore asks for a
service transaction (``@service``), which only the service itself can open.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.ledger import LedgerError
from haven.audit.models import Action, LedgerEntry
from haven.concurrency.transactions import in_service, service, service_transaction

from ..factories import UserFactory, make_case

pytestmark = pytest.mark.django_db


def forgetful_write(actor: User) -> None:
    """A service write that forgot its transaction."""
    User.objects.filter(pk=actor.pk).update(first_name="Changed")
    ledger.record(actor=actor, action=Action.ALTERATION, object_type="user", object_id=actor.pk)


@service
def careful_write(actor: User) -> None:
    forgetful_write(actor)  # the same body, in a service transaction


@service
def outer_write(actor: User) -> None:
    careful_write(actor)
    careful_write(actor)


def test_pytest_is_already_inside_a_transaction() -> None:
    # Why in_atomic_block alone proves nothing in a test.
    assert connection.in_atomic_block
    assert not in_service()


def test_a_service_that_forgot_its_transaction_fails_under_pytest() -> None:
    actor = UserFactory()
    with pytest.raises(LedgerError, match="inside the transaction of the change"):
        forgetful_write(actor)
    with pytest.raises(LedgerError), transaction.atomic():  # a plain atomic block is not enough
        forgetful_write(actor)
    assert not LedgerEntry.objects.exists()


def test_a_service_in_its_transaction_writes_the_change_and_its_entry() -> None:
    actor = UserFactory()
    careful_write(actor)
    assert not in_service()
    assert User.objects.get(pk=actor.pk).first_name == "Changed"
    assert LedgerEntry.objects.get().object_id == str(actor.pk)


def test_services_calling_services_join_one_transaction() -> None:
    actor = UserFactory()
    with pytest.raises(ZeroDivisionError), service_transaction():
        outer_write(actor)
        assert LedgerEntry.objects.count() == 2
        _ = 1 / 0
    assert not in_service()
    assert not LedgerEntry.objects.exists()  # the change and its entries roll back together
    assert User.objects.get(pk=actor.pk).first_name != "Changed"


def test_domain_services_and_logged_reads_run_in_their_own_transaction() -> None:
    from haven.cases import selectors

    lead = UserFactory()
    case = make_case(lead)  # a service: writes the case and a collection entry
    selectors.get_case(lead, case.pk, purpose="case_management")  # a read: a consultation entry
    assert LedgerEntry.objects.filter(case_id=str(case.pk)).count() >= 2
    assert not in_service()
