from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from haven.accounts import services as account_services
from haven.accounts.roles import Role
from haven.audit import ledger
from haven.audit.models import Action
from haven.audit.selectors import LedgerSearch, search_ledger
from haven.concurrency.transactions import service_transaction
from tests.factories import UserFactory, force_sign_in

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
    assert latest.object_type == "ledger" and latest.details == {"username": "bob"}


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
