"""Ciphertext of case-owned records is bound to the owning case (issue 17, item 6)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from haven.accounts.models import Role
from haven.cases import services
from haven.cases.models import Document, IdentityRecord, Person
from haven.vault.crypto import VaultIntegrityError
from tests.factories import UserFactory, make_case

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n% witness statement\n" + b"0" * 200


def repoint(model: type, row_id: object, case_id: object) -> None:
    """What a DBA could do: point a row at another case behind the application's back."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk = model._meta.pk.get_db_prep_value(row_id, connection)
    case = Person._meta.get_field("case").get_db_prep_value(case_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET case_id = %s WHERE id = %s", [case, pk])  # noqa: S608


@pytest.fixture
def officer():  # type: ignore[no-untyped-def]
    return UserFactory(roles=[Role.PROTECTION_OFFICER])


def test_person_moved_to_another_case_by_sql_fails_to_decrypt(officer) -> None:  # type: ignore[no-untyped-def]
    home, other = make_case(officer, name="Home Case"), make_case(officer, name="Other Case")
    person = services.add_person(
        officer, home.pk, full_name="Rowan Quill", relationship="partner", phone="07700 900123"
    )
    assert Person.objects.get(pk=person.pk).full_name == "Rowan Quill"  # bound to home: opens
    repoint(Person, person.pk, other.pk)
    moved = Person.objects.get(pk=person.pk)
    with pytest.raises(VaultIntegrityError, match="another owning case"):
        _ = moved.full_name
    with pytest.raises(VaultIntegrityError):
        _ = moved.phone
    repoint(Person, person.pk, home.pk)  # put back: it opens again, nothing was destroyed
    assert Person.objects.get(pk=person.pk).phone == "07700 900123"


def test_new_identity_moved_to_another_case_by_sql_fails_to_decrypt(officer) -> None:  # type: ignore[no-untyped-def]
    home, other = make_case(officer, name="Home Case"), make_case(officer, name="Other Case")
    record = IdentityRecord.objects.create(
        case=home, legacy_name="Ada Old", new_name="Ada New", new_dob=datetime.date(1990, 5, 4)
    )
    repoint(IdentityRecord, record.pk, other.pk)
    moved = IdentityRecord.objects.get(pk=record.pk)
    for name in ("legacy_name", "new_name", "new_dob"):
        with pytest.raises(VaultIntegrityError):
            getattr(moved, name)


def test_a_move_through_the_model_reseals_under_the_new_case(officer) -> None:  # type: ignore[no-untyped-def]
    home, other = make_case(officer, name="Home Case"), make_case(officer, name="Other Case")
    person = services.add_person(officer, home.pk, full_name="Rowan Quill", relationship="partner")
    loaded = Person.objects.get(pk=person.pk)
    loaded.case = other  # not decrypted first: save must re-seal, not copy the old ciphertext
    loaded.save()
    assert Person.objects.get(pk=person.pk).full_name == "Rowan Quill"
    repoint(Person, person.pk, home.pk)
    with pytest.raises(VaultIntegrityError):
        _ = Person.objects.get(pk=person.pk).full_name


def test_deferred_owner_column_still_binds(officer) -> None:  # type: ignore[no-untyped-def]
    home = make_case(officer, name="Home Case")
    person = services.add_person(officer, home.pk, full_name="Rowan Quill", relationship="partner")
    assert Person.objects.only("id", "full_name").get(pk=person.pk).full_name == "Rowan Quill"


def test_document_moved_to_another_case_fails_to_open(officer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    home, other = make_case(officer, name="Home Case"), make_case(officer, name="Other Case")
    with override_settings(BLOB_DIR=tmp_path / "blobs"):
        document = services.upload_document(
            officer, home.pk, title="Statement", filename="s.pdf", data=PDF
        )
        repoint(Document, document.pk, other.pk)
        with pytest.raises(VaultIntegrityError):
            _ = Document.objects.get(pk=document.pk).title
