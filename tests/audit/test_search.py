from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from haven.accounts import services as account_services
from haven.accounts.roles import Role
from haven.audit import ledger
from haven.audit.models import Action, LedgerEntry
from haven.audit.selectors import AUDIT_JUSTIFICATION, LedgerSearch, open_entry, search_ledger
from haven.concurrency.transactions import service_transaction
from haven.vault.crypto import VaultIntegrityError
from tests.factories import UserFactory, force_sign_in, issue_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def entries():
    alice = UserFactory(username="alice", roles=[Role.PROTECTION_OFFICER])
    bob = UserFactory(username="bob", roles=[Role.PROTECTION_OFFICER])
    with service_transaction():
        ledger.record(actor=alice, action=Action.CONSULTATION, object_type="case", object_id="c1")
        ledger.record(actor=bob, action=Action.ALTERATION, object_type="case", object_id="c2")
        ledger.record(actor=bob, action=Action.BREAK_GLASS, object_type="case", object_id="c1")
    return alice, bob


def ids(page):
    return [(entry.actor_username, entry.action, entry.object_id) for entry in page.object_list]


def test_auditor_filters_by_user_object_action_and_date(entries):
    auditor = UserFactory(roles=[Role.AUDITOR])
    by_user = search_ledger(auditor, LedgerSearch(username="bob"), 1)
    assert {row[0] for row in ids(by_user)} == {"bob"}
    by_object = search_ledger(auditor, LedgerSearch(object_id="c1"), 1)
    assert {row[2] for row in ids(by_object)} == {"c1"} and len(by_object.object_list) == 2
    by_action = search_ledger(auditor, LedgerSearch(action=Action.BREAK_GLASS), 1)
    assert ids(by_action) == [("bob", "break_glass", "c1")]
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert not search_ledger(auditor, LedgerSearch(date_from=tomorrow), 1).object_list


def test_auditor_searches_are_themselves_recorded(entries):
    auditor = UserFactory(roles=[Role.AUDITOR])
    search_ledger(auditor, LedgerSearch(username="bob"), 1)
    latest = search_ledger(auditor, LedgerSearch(username=auditor.username), 1).object_list[0]
    assert latest.object_type == "ledger" and latest.details["username"] == "bob"
    assert ledger.open_sealed(latest) == {"justification": AUDIT_JUSTIFICATION}


@pytest.mark.parametrize(
    "role", [r for r in Role.values if r != Role.AUDITOR], ids=lambda role: str(role)
)
def test_nobody_else_searches_the_ledger(entries, role):
    with pytest.raises(PermissionDenied):
        search_ledger(UserFactory(roles=[role]), LedgerSearch(), 1)


def test_ledger_page_and_api_for_auditors_only(entries, client):
    auditor = UserFactory(roles=[Role.AUDITOR])
    page = force_sign_in(client, auditor).get("/audit/ledger/?username=bob&action=break_glass")
    assert page.status_code == 200 and "Break-glass access" in page.content.decode()
    _, secret = account_services.issue_api_token(
        auditor, "audit", modules=auditor.modules, can_write=True
    )
    response = client.get(
        "/api/audit/entries?username=alice", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert [row["actor_username"] for row in response.json()["results"]] == ["alice"]
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    _, other = account_services.issue_api_token(
        manager, "x", modules=manager.modules, can_write=True
    )
    response = client.get("/api/audit/entries", HTTP_AUTHORIZATION=f"Bearer {other}")
    assert response.status_code == 404


def test_bad_date_range_is_a_field_error(entries, client):
    auditor = UserFactory(roles=[Role.AUDITOR])
    body = (
        force_sign_in(client, auditor)
        .get("/audit/ledger/?date_from=2026-05-02&date_to=2026-05-01")
        .content.decode()
    )
    assert "The end date must be on or after the start date" in body


@pytest.fixture
def sealed_entry():
    manager = UserFactory(username="carol", roles=[Role.PROTECTION_MANAGER])
    with service_transaction():
        return ledger.record(
            actor=manager,
            action=Action.BREAK_GLASS,
            object_type="case",
            object_id="c9",
            justification="Neighbour Zanzibar Quill phoned about the subject",
            details={"expires_at": "2026-01-01T00:00:00+00:00", "note": "Quill's address"},
        )


def test_free_text_is_sealed_and_structured_details_stay_clear(sealed_entry):
    assert sealed_entry.justification == ""
    assert sealed_entry.details["expires_at"] == "2026-01-01T00:00:00+00:00"
    assert "Quill" not in str(sealed_entry.details) and ledger.is_sealed(sealed_entry)
    assert ledger.open_sealed(sealed_entry) == {
        "justification": "Neighbour Zanzibar Quill phoned about the subject",
        "details": {"note": "Quill's address"},
    }


def test_a_purpose_code_stays_clear_and_seals_nothing():
    user = UserFactory(roles=[Role.PROTECTION_OFFICER])
    with service_transaction():
        entry = ledger.record(
            actor=user, action=Action.CONSULTATION, object_type="case", object_id="c1",
            justification="supervision", details={"page": 2},
        )  # fmt: skip
    assert entry.justification == "supervision" and entry.details == {"page": 2}


def test_an_auditor_opens_a_sealed_entry_and_the_opening_is_ledgered(sealed_entry, client):
    auditor = UserFactory(roles=[Role.AUDITOR])
    page = force_sign_in(client, auditor).get(f"/audit/ledger/{sealed_entry.pk}/")
    assert page.status_code == 200 and "Neighbour Zanzibar Quill" in page.content.decode()
    opening = LedgerEntry.objects.latest("id")
    assert (opening.actor_username, opening.object_type, opening.object_id) == (
        auditor.username, "ledger_entry", str(sealed_entry.pk),
    )  # fmt: skip
    _, secret = issue_token(auditor, "audit")
    body = client.get(
        f"/api/audit/entries/{sealed_entry.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}"
    ).json()
    assert body["justification"].startswith("Neighbour") and body["sealed"] is True
    assert body["details"]["note"] == "Quill's address"


def test_nobody_else_opens_a_sealed_entry(sealed_entry, client):
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    page = force_sign_in(client, manager).get(f"/audit/ledger/{sealed_entry.pk}/")
    assert page.status_code == 404 and "Zanzibar" not in page.content.decode()
    with pytest.raises(PermissionDenied):
        open_entry(manager, sealed_entry.pk)


def test_a_moved_seal_does_not_open(sealed_entry):
    other = LedgerEntry.objects.get(pk=sealed_entry.pk)
    other.object_id = "c10"  # the token copied onto another entry (as a forger would)
    with pytest.raises(VaultIntegrityError):
        ledger.open_sealed(other)
