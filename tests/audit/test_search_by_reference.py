"""Auditors search the ledger by the reference they can read (HVN-2026-00052), not only by
the id they cannot find without opening the case (issue 20 item 5)."""

from __future__ import annotations

import pytest

from haven.accounts.roles import Role
from haven.audit.models import LedgerEntry
from haven.audit.selectors import LedgerSearch, search_ledger
from haven.cases import services as case_services
from tests.factories import UserFactory, force_sign_in, make_case

pytestmark = pytest.mark.django_db


def test_a_case_reference_finds_the_entries_of_that_case(client):
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    case, other = make_case(officer), make_case(officer, name="Other Case")
    case_services.update_case(officer, case.pk, version=1, reason="moved", address="2 Road")
    auditor = UserFactory(roles=[Role.AUDITOR])
    of_case = LedgerEntry.objects.filter(case_id=str(case.pk)).count()
    found = search_ledger(auditor, LedgerSearch(object_id=case.reference.lower()), 1)
    assert len(found.object_list) == of_case >= 2
    assert all(str(other.pk) not in (e.object_id, e.case_id) for e in found.object_list)
    page = force_sign_in(client, auditor).get(f"/audit/ledger/?object_id={case.reference}")
    assert "No entries match" not in page.content.decode()
    assert not search_ledger(auditor, LedgerSearch(object_id="HVN-2026-99999"), 1).object_list
