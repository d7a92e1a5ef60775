"""The demo's bulk path (haven.vault.bulk, ledger.append_many; COPY on PostgreSQL) writes what
the services write: values that decrypt through the normal selectors, blind indexes they find,
ciphertext bound to row and owner, and a ledger that verifies (issue 22, item 4)."""

from __future__ import annotations

import io
import uuid
from datetime import date
from typing import Any

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from haven.accounts.models import User
from haven.audit import state
from haven.audit.checkpoint import generate_signing_key, private_key_to_pem, public_key_to_pem
from haven.audit.models import LedgerEntry
from haven.audit.signing import SIGNING_KEY_ENV_VAR
from haven.cases import selectors
from haven.cases.models import Case, Decision, IdentityRecord, Person
from haven.demo import parallel
from haven.demo.accounts import create_demo_accounts
from haven.demo.cases import BATCH, create_demo_cases
from haven.vault import bulk
from haven.vault.crypto import VaultIntegrityError

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded() -> dict[str, User]:
    create_demo_accounts()
    create_demo_cases(12)
    return {u.username: u for u in User.objects.filter(username__in=["officer", "identity"])}


def test_bulk_built_cases_read_back_through_the_selectors(loaded: dict[str, User]) -> None:
    officer = loaded["officer"]
    assert Case.objects.count() == 12
    for case in Case.objects.order_by("reference"):
        opened = selectors.get_case_file(officer, case.pk, "case_management")
        assert opened.case.subject_name.split()[0] in {"Ada", "Bram", "Cleo", "Dov", "Esme",
            "Finn", "Gita", "Hal", "Iris", "Jude", "Kai", "Lumi"}  # fmt: skip
        assert opened.case.subject_dob is not None
        assert opened.case.address.endswith("Demo Town")
        principal = next(p for p in opened.people if p.role == "principal")
        assert principal.full_name == opened.case.subject_name  # case-owned row decrypts
        assert all(d.reason.startswith("Demo: ") for d in opened.decisions)


def test_bulk_built_cases_are_found_by_their_blind_indexes(loaded: dict[str, User]) -> None:
    officer = loaded["officer"]
    for case in Case.objects.all():
        search = selectors.CaseSearch(name=case.subject_name, dob=case.subject_dob.isoformat())
        found = selectors.search_cases(officer, search)
        assert case.pk in {c.pk for c in found}
        assert any(selectors.matches_exactly(c, search) for c in found)
    person = Person.objects.filter(role="principal").first()
    assert person is not None
    assert person.name_index and person.name_dob_index


def test_the_identity_compartment_decrypts_for_the_identity_officer_only(
    loaded: dict[str, User],
) -> None:
    record = IdentityRecord.objects.select_related("case").first()
    assert record is not None
    opened = selectors.get_identity(loaded["identity"], record.case_id, "case_management")
    assert opened is not None and opened.legacy_name == record.case.subject_name
    with pytest.raises(selectors.CaseNotFound):
        selectors.get_identity(loaded["officer"], record.case_id, "case_management")


@pytest.fixture
def ledger_key(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    key = generate_signing_key()
    monkeypatch.setenv(SIGNING_KEY_ENV_VAR, private_key_to_pem(key).decode("ascii"))
    settings.LEDGER_TRUSTED_KEYS = [public_key_to_pem(key.public_key()).decode("ascii")]


def audit(*args: str) -> str:
    out = io.StringIO()
    call_command("audit", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_bulk_built_ledger_verifies_and_explains_every_team_membership(
    loaded: dict[str, User], ledger_key: None
) -> None:
    entries = LedgerEntry.objects.count()
    # A collection per case and an alteration per decision, ids in the order they were built.
    assert entries >= 12 + Decision.objects.count()
    audit("checkpoint", "--force", "--quiet")
    assert f"verified {entries} entries, 1 checkpoints" in audit("verify", "--quiet", "--state")
    assert state.unexplained_rows() == []


def test_a_bulk_sealed_value_is_bound_to_its_row_and_owner(loaded: dict[str, User]) -> None:
    first, second = Case.objects.order_by("reference")[:2]
    person = Person.objects.filter(case=first).first()
    assert person is not None
    table = connection.ops.quote_name(Person._meta.db_table)
    pk = Person._meta.pk.get_db_prep_value(person.pk, connection)
    other = Person._meta.get_field("case").get_db_prep_value(second.pk, connection)
    with connection.cursor() as cursor:  # what a DBA could do behind the application's back
        cursor.execute(f"UPDATE {table} SET case_id = %s WHERE id = %s", [other, pk])  # noqa: S608
    moved = Person.objects.get(pk=person.pk)
    with pytest.raises(VaultIntegrityError):
        _ = moved.full_name


def test_bulk_insert_refuses_rows_without_keys_and_tokens_from_elsewhere(
    loaded: dict[str, User],
) -> None:
    case = Case.objects.first()
    assert case is not None
    with pytest.raises(FieldError, match="primary key"), transaction.atomic():
        bulk.insert(Person, [Person(id=None, case=case, full_name="No Key", role="associated")])
    stored = Person.objects.filter(case=case).first()
    assert stored is not None
    copied = Person(id=uuid.uuid4(), case=case, role="associated")
    copied.__dict__["full_name"] = Person.objects.values_list("full_name", flat=True).get(
        pk=stored.pk
    )
    before = Person.objects.count()
    with pytest.raises(FieldError, match="plaintext"), transaction.atomic():
        bulk.insert(Person, [copied])
    assert Person.objects.count() == before


def test_a_maker_holds_what_the_model_constructor_holds(loaded: dict[str, User]) -> None:
    case = Case.objects.first()
    assert case is not None
    kwargs = {
        "id": uuid.uuid4(),
        "case": case,
        "role": "associated",
        "full_name": "Ada Fictional-100",
        "dob": date(1990, 1, 1),
        "created_at": timezone.now(),
    }
    made, built = bulk.maker(Person)(**kwargs), Person(**kwargs)
    attnames = [f.attname for f in Person._meta.concrete_fields]
    assert {a: made.__dict__[a] for a in attnames} == {a: built.__dict__[a] for a in attnames}
    assert made.case is case and made._state.adding and made._state.db is None
    with pytest.raises(TypeError, match="unexpected keyword argument 'nonsense'"):
        bulk.maker(Person)(nonsense=1)
    with transaction.atomic():  # and it inserts as the constructor's instance does
        bulk.insert(Person, [made])
    assert Person.objects.get(pk=made.pk).full_name == "Ada Fictional-100"


@pytest.mark.postgres_only
def test_cases_loaded_by_two_processes_read_back_and_verify(
    resettable_ledger: None, ledger_key: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``create_demo_cases(workers=2)``: two forked processes, each on its own connection and
    key ring lease, over disjoint references; what they wrote decrypts, is found by its blind
    indexes, and the ledger verifies with its access-control state."""
    if connection.vendor != "postgresql":
        pytest.skip("the load forks only on PostgreSQL")
    # pytest-xdist's worker runs threads of its own; the children here touch none of them.
    monkeypatch.setattr(parallel.threading, "active_count", lambda: 1)
    answers: list[bool] = []
    can_fork = parallel.can_fork
    monkeypatch.setattr(parallel, "can_fork", lambda: answers.append(can_fork()) or answers[-1])
    create_demo_accounts()
    create_demo_cases(2 * BATCH, workers=2)
    assert answers == [True]  # two parts, so forked
    references = list(Case.objects.values_list("reference", flat=True))
    assert len(references) == len(set(references)) == 2 * BATCH
    officer = User.objects.get(username="officer")
    for case in Case.objects.order_by("?")[:20]:
        opened = selectors.get_case_file(officer, case.pk, "case_management")
        principal = next(p for p in opened.people if p.role == "principal")
        assert principal.full_name == opened.case.subject_name
        search = selectors.CaseSearch(name=case.subject_name, dob=case.subject_dob.isoformat())
        assert case.pk in {c.pk for c in selectors.search_cases(officer, search)}
    entries = LedgerEntry.objects.count()
    audit("checkpoint", "--force", "--quiet")
    assert f"verified {entries} entries, 1 checkpoints" in audit("verify", "--quiet", "--state")
    assert state.unexplained_rows() == []
