"""Blind indexes keyed per (table, column), sized by recommended_bits() (issue 18 item 8)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import override_settings

from haven.accounts.roles import Role
from haven.cases.models import Case, Person
from haven.oversight.models import Complaint
from haven.vault import blind_index
from haven.vault.fields import BlindIndexField, index_for
from haven.vault.keyring import blind_index_keys
from haven.vault.rotation import BlindIndexRotation, blind_index_columns, reindex_columns
from tests.factories import UserFactory, make_case
from tests.oversight.helpers import complaint

pytestmark = pytest.mark.django_db

NAME = "Marguerite Fictional-Shared"


def test_a_protected_person_and_a_complainant_with_one_name_get_different_index_values():
    case = make_case(UserFactory(roles=[Role.PROTECTION_OFFICER]), name=NAME)
    person = Person.objects.get(case=case)
    item = complaint(UserFactory(roles=[Role.OVERSIGHT_OFFICER]), complainant_name=NAME)
    values = {
        Case.objects.get(pk=case.pk).name_index,
        person.name_index,
        Complaint.objects.get(pk=item.pk).name_index,
    }
    assert len(values) == 3 and None not in values
    # Each table still finds its own row by the name.
    assert Complaint.objects.filter(name_index=index_for("name", NAME)).get() == item
    assert Person.objects.filter(name_index=index_for("name", NAME)).get() == person


def test_column_keys_differ_by_table_and_column_and_need_a_real_key():
    key = blind_index_keys()[0]
    keys = {
        blind_index.column_key(key, "cases_person", "name_index"),
        blind_index.column_key(key, "cases_case", "name_index"),
        blind_index.column_key(key, "cases_person", "name_dob_index"),
        key,
    }
    assert len(keys) == 4
    with pytest.raises(Exception, match="at least"):
        blind_index.column_key(b"short", "t", "c")


@pytest.mark.parametrize(("expected_rows", "hex_digits"), [(100_000, 3), (1_000_000, 4)])
def test_the_default_width_follows_recommended_bits(expected_rows, hex_digits):
    with override_settings(
        HAVEN_BLIND_INDEX_BITS=None, HAVEN_BLIND_INDEX_EXPECTED_ROWS=expected_rows
    ):
        case = make_case(UserFactory(roles=[Role.PROTECTION_OFFICER]), name=NAME)
    assert len(Case.objects.get(pk=case.pk).name_index) == hex_digits
    assert blind_index.recommended_bits(expected_rows) == hex_digits * 4


def test_values_stored_under_the_old_scheme_are_reindexed_and_found_again():
    """What the data migration does to rows indexed under the one shared key at 32 bits."""
    case = make_case(UserFactory(roles=[Role.PROTECTION_OFFICER]), name=NAME)
    old = blind_index.name_index(blind_index_keys()[0], NAME, bits=32)
    Case.objects.filter(pk=case.pk).update(name_index=old)
    assert not Case.objects.filter(name_index=index_for("name", NAME)).exists()
    result = reindex_columns(blind_index_columns(), BlindIndexRotation("", False))
    assert result.finished and result.reindexed >= 1
    assert Case.objects.filter(name_index=index_for("name", NAME)).get() == case
    assert isinstance(Case._meta.get_field("name_index"), BlindIndexField)


def test_a_lookup_for_the_wrong_kind_is_refused():
    with pytest.raises(ValueError, match="indexes 'name'"):
        list(Case.objects.filter(name_index=index_for("dob", date(1980, 1, 1))))
