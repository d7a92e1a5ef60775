"""Checklist templates: kept by protection managers (add, change as a new version with a reason,
retire, never delete), read by every protection user; applied to a case by its team, which sets
one task per item in one transaction, each marked with the checklist it came from and ledgered
like any task. Applying the same checklist twice asks first. Grant readers and other modules
are neither offered nor allowed any of it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from haven.accounts.roles import Role
from haven.audit import ledger
from haven.audit.models import Action, LedgerEntry
from haven.cases import config, selectors, services
from haven.cases.models import CaseTask, ChecklistTemplate, ChecklistVersion
from haven.cases.selectors import ChecklistNotFound
from tests.cases.helpers import api_headers, web
from tests.factories import UserFactory, make_case

pytestmark = pytest.mark.django_db
ITEMS = [
    {"title": "Secure the new address", "due_in_days": 7, "kind": "task"},
    {"title": "Welfare visit after the move", "due_in_days": None, "kind": "task"},
    {"title": "Review the risk assessment", "due_in_days": 42, "kind": "review"},
]


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER])


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER])


@pytest.fixture
def checklist(manager):
    return services.add_checklist(manager, name="Relocation checklist", items=ITEMS)


@pytest.fixture
def case(officer, manager):
    return make_case(officer, manager=manager)


def titles(version: ChecklistVersion) -> list[str]:
    return [item.title for item in version.items.all()]


# --------------------------------------------------------------------------- templates


def test_manager_adds_a_checklist_in_order_and_ledgered(manager, checklist):
    first = checklist.versions.get()
    assert (checklist.version, first.number) == (1, 1)
    assert titles(first) == [item["title"] for item in ITEMS]
    assert [i.kind for i in first.items.all()] == ["task", "task", "review"]
    entry = LedgerEntry.objects.get(object_type="checklist", object_id=str(checklist.pk))
    assert (entry.action, entry.actor_id) == (Action.COLLECTION, manager.pk)


def test_officer_cannot_add_change_or_retire(officer, checklist):
    with pytest.raises(PermissionDenied):
        services.add_checklist(officer, name="Mine", items=ITEMS)
    with pytest.raises(PermissionDenied):
        services.edit_checklist(officer, checklist.pk, version=1, reason="r", name="New")
    with pytest.raises(PermissionDenied):
        services.retire_checklist(officer, checklist.pk, version=1, reason="r")
    assert ChecklistTemplate.objects.get().version == 1
    assert selectors.list_checklists(officer) == [checklist]  # but reads them


@pytest.mark.parametrize("role", [Role.OVERSIGHT_OFFICER, Role.TECHNICAL_SUPERVISOR, Role.AUDITOR])
def test_other_modules_cannot_read_checklists(role, checklist):
    outsider = UserFactory(roles=[role])
    with pytest.raises(ChecklistNotFound):
        selectors.find_checklist(outsider, checklist.pk)
    with pytest.raises(ChecklistNotFound):
        selectors.list_checklists(outsider)


def test_bad_input_is_refused_and_nothing_is_saved(manager):
    with pytest.raises(ValidationError) as refused:
        services.add_checklist(manager, name=" ", items=[{"title": " "}])
    assert set(refused.value.message_dict) == {"name", "items"}
    with pytest.raises(ValidationError) as refused:
        services.add_checklist(
            manager, name="Odd", items=[{"title": "A", "due_in_days": -1}, {"title": "B"}]
        )
    assert set(refused.value.message_dict) == {"item_1"}
    with pytest.raises(ValidationError):
        services.add_checklist(manager, name="Odd", items=[{"title": "A", "kind": "escalation"}])
    too_many = [{"title": f"Step {n}"} for n in range(config.CHECKLIST_MAX_ITEMS + 1)]
    with pytest.raises(ValidationError):
        services.add_checklist(manager, name="Long", items=too_many)
    assert not ChecklistTemplate.objects.exists() and not ChecklistVersion.objects.exists()


def test_a_change_is_a_new_version_and_the_old_one_is_kept(manager, checklist):
    with pytest.raises(ValidationError):
        services.edit_checklist(manager, checklist.pk, version=1, reason=" ", name="Moving house")
    with pytest.raises(ValidationError, match="Nothing has changed"):
        services.edit_checklist(manager, checklist.pk, version=1, reason="same", items=ITEMS)
    changed = services.edit_checklist(
        manager,
        checklist.pk,
        version=1,
        reason="alarm first",
        items=[{"title": "Fit the alarm", "due_in_days": 1}, *ITEMS],
    )
    assert changed.version == 2 and changed.name == "Relocation checklist"
    history = selectors.checklist_with_history(manager, checklist.pk).history
    assert [v.number for v in history] == [2, 1]
    assert titles(history[0])[0] == "Fit the alarm" and history[0].reason == "alarm first"
    assert titles(history[1]) == [item["title"] for item in ITEMS]
    with pytest.raises(services.ConflictError):
        services.edit_checklist(manager, checklist.pk, version=1, reason="stale", name="Other")
    assert ChecklistTemplate.objects.get().name == "Relocation checklist"
    assert LedgerEntry.objects.filter(object_type="checklist", action=Action.ALTERATION).count()


def test_retired_checklist_is_kept_frozen_and_no_longer_offered(manager, officer, checklist, case):
    services.retire_checklist(manager, checklist.pk, version=1, reason="replaced")
    assert ChecklistTemplate.objects.get().retirement_reason == "replaced"
    assert selectors.list_checklists(officer) == []
    assert selectors.list_checklists(officer, include_retired=True) == [checklist]
    with pytest.raises(ValidationError):
        services.edit_checklist(manager, checklist.pk, version=1, reason="r", name="Again")
    with pytest.raises(ValidationError) as refused:
        services.apply_checklist(officer, case.pk, checklist.pk)
    assert "checklist" in refused.value.message_dict
    assert not CaseTask.objects.exists()


# --------------------------------------------------------------------------- applying


def test_applying_sets_one_task_per_item_marked_and_ledgered(officer, checklist, case):
    start = date(2026, 3, 2)
    tasks = services.apply_checklist(officer, case.pk, checklist.pk, start_on=start)
    assert [t.title for t in tasks] == [item["title"] for item in ITEMS]
    assert [t.due_on for t in tasks] == [
        start + timedelta(days=7),
        start + timedelta(days=config.CHECKLIST_DEFAULT_DUE_DAYS),
        start + timedelta(days=42),
    ]
    assert [t.kind for t in tasks] == ["task", "task", "review"]
    current = checklist.versions.get(number=1)
    assert all(t.checklist == current and t.owner == officer for t in tasks)
    entries = LedgerEntry.objects.filter(object_type="task", case_id=case.pk)
    assert entries.count() == 3
    opened = [ledger.open_sealed(entry) for entry in entries]
    assert all(str(checklist.pk) in str(sealed) for sealed in opened)


def test_applying_is_one_transaction(officer, checklist, case, monkeypatch):
    made = services.create_task_record

    def fail_on_the_second(*args, **kwargs):
        if CaseTask.objects.filter(case=case).exists():
            raise RuntimeError("disk full")
        return made(*args, **kwargs)

    monkeypatch.setattr(services, "create_task_record", fail_on_the_second)
    with pytest.raises(RuntimeError):
        services.apply_checklist(officer, case.pk, checklist.pk)
    assert not CaseTask.objects.exists()


def test_applying_the_same_checklist_again_needs_confirmation(officer, manager, checklist, case):
    services.apply_checklist(officer, case.pk, checklist.pk)
    services.edit_checklist(manager, checklist.pk, version=1, reason="shorter", items=ITEMS[:1])
    with pytest.raises(ValidationError) as refused:  # a newer version is still the same list
        services.apply_checklist(officer, case.pk, checklist.pk)
    assert set(refused.value.message_dict) == {"confirm_repeat"}
    assert CaseTask.objects.count() == 3
    services.apply_checklist(officer, case.pk, checklist.pk, confirm_repeat=True)
    assert CaseTask.objects.count() == 4


def test_owner_must_be_on_the_team(officer, checklist, case):
    with pytest.raises(ValidationError) as refused:
        services.apply_checklist(officer, case.pk, checklist.pk, owner=UserFactory())
    assert "owner" in refused.value.message_dict
    assert not CaseTask.objects.exists()


def test_a_grant_reader_can_neither_apply_nor_see_the_action(officer, manager, checklist, case):
    reader = UserFactory(roles=[Role.PROTECTION_OFFICER])
    services.grant_access(manager, case.pk, reader, reason="cover", days=2)
    with pytest.raises(PermissionDenied):
        services.apply_checklist(reader, case.pk, checklist.pk)
    from django.test import Client

    page = web(Client(), reader).get(f"/cases/{case.pk}/tasks/")
    assert page.status_code == 200 and b"Apply a checklist" not in page.content
    assert web(Client(), reader).get(f"/cases/{case.pk}/tasks/checklist/").status_code == 403
    assert not CaseTask.objects.exists()


def test_someone_outside_the_case_gets_not_found(checklist, case):
    stranger = UserFactory(roles=[Role.PROTECTION_OFFICER])
    with pytest.raises(selectors.CaseNotFound):
        services.apply_checklist(stranger, case.pk, checklist.pk)


# --------------------------------------------------------------------------- pages


def test_manager_keeps_checklists_on_pages(client, manager):
    web(client, manager)
    listing = client.get("/checklists/")
    assert b"Add a checklist" in listing.content
    empty = client.post("/checklists/new/", {"name": ""})
    assert empty.status_code == 200 and b"Enter the checklist" in empty.content
    data = {"name": "New arrangement checklist", "item_1": "Brief the person"}
    data |= {"item_1_days": "2", "item_1_kind": "task", "item_2": "First review"}
    data |= {"item_2_days": "", "item_2_kind": "review"}
    for n in range(3, 6):
        data[f"item_{n}_kind"] = "task"
    created = client.post("/checklists/new/", data)
    checklist = ChecklistTemplate.objects.get()
    assert created.status_code == 302 and created["Location"] == f"/checklists/{checklist.pk}/"
    edit = client.get(f"/checklists/{checklist.pk}/edit/")
    assert b'value="Brief the person"' in edit.content
    change = dict(data, name="New arrangement checklist", item_1="Brief the whole household")
    change |= {"version": "1", "reason": "include the family", "item_6_kind": "task"}
    change |= {f"item_{n}_kind": "task" for n in range(6, 8)}
    assert client.post(f"/checklists/{checklist.pk}/edit/", change).status_code == 302
    detail = client.get(f"/checklists/{checklist.pk}/").content.decode()
    assert "Brief the whole household" in detail and "include the family" in detail
    assert "Version 1" in detail and "Version 2" in detail
    retire = client.post(f"/checklists/{checklist.pk}/retire/", {"version": "2", "reason": "old"})
    assert retire.status_code == 302 and ChecklistTemplate.objects.get().retired


def test_officer_reads_checklists_but_is_offered_no_changes(client, officer, checklist):
    web(client, officer)
    listing = client.get("/checklists/")
    assert b"Relocation checklist" in listing.content and b"Add a checklist" not in listing.content
    detail = client.get(f"/checklists/{checklist.pk}/")
    assert b"Secure the new address" in detail.content
    assert b"/edit/" not in detail.content and b"/retire/" not in detail.content
    assert client.get("/checklists/new/").status_code == 403


def test_checklists_are_reachable_from_the_casework_navigation(client, officer):
    web(client, officer)
    assert b'href="/checklists/"' in client.get("/cases/").content


def test_team_applies_a_checklist_from_the_tasks_tab_and_is_asked_before_a_repeat(
    client, officer, checklist, case
):
    web(client, officer)
    tasks_tab = client.get(f"/cases/{case.pk}/tasks/")
    assert f"/cases/{case.pk}/tasks/checklist/".encode() in tasks_tab.content
    page = client.get(f"/cases/{case.pk}/tasks/checklist/")
    assert b"Secure the new address" in page.content  # what it will set is shown first
    choice = {"checklist": str(checklist.pk), "owner": str(officer.pk)}
    done = client.post(f"/cases/{case.pk}/tasks/checklist/", choice)
    assert done.status_code == 302 and CaseTask.objects.count() == 3
    assert b"Checklist</strong>" in client.get(f"/cases/{case.pk}/tasks/").content
    again = client.post(f"/cases/{case.pk}/tasks/checklist/", choice)
    assert again.status_code == 200 and b"already been applied" in again.content
    assert b'name="confirm_repeat"' in again.content and CaseTask.objects.count() == 3
    confirmed = client.post(
        f"/cases/{case.pk}/tasks/checklist/", choice | {"confirm_repeat": "True"}
    )
    assert confirmed.status_code == 302 and CaseTask.objects.count() == 6
    unchosen = client.post(f"/cases/{case.pk}/tasks/checklist/", {"owner": str(officer.pk)})
    assert unchosen.status_code == 200 and b"Choose a checklist" in unchosen.content


# --------------------------------------------------------------------------- API


def test_api_keeps_and_applies_checklists(client, manager, officer, case):
    headers = api_headers(manager)
    body = {"name": "Relocation checklist", "items": ITEMS}
    made = client.post("/api/checklists", body, content_type="application/json", **headers)
    assert made.status_code == 201 and len(made.json()["items"]) == 3
    checklist_id = made.json()["id"]
    stale = {"version": 5, "reason": "r", "name": "X"}
    patched = client.patch(
        f"/api/checklists/{checklist_id}", stale, content_type="application/json", **headers
    )
    assert patched.status_code == 409
    refused = client.post(
        "/api/checklists", body, content_type="application/json", **api_headers(officer)
    )
    assert refused.status_code == 403
    apply = {"checklist_id": checklist_id, "start_on": str(timezone.localdate())}
    officer_headers = api_headers(officer)
    url = f"/api/cases/{case.pk}/checklists"
    first = client.post(url, apply, content_type="application/json", **officer_headers)
    assert first.status_code == 201 and len(first.json()) == 3
    second = client.post(url, apply, content_type="application/json", **officer_headers)
    assert second.status_code == 422 and "already been applied" in second.content.decode()
    assert CaseTask.objects.count() == 3
    retired = client.post(
        f"/api/checklists/{checklist_id}/retirement",
        {"version": 1, "reason": "replaced"},
        content_type="application/json",
        **headers,
    )
    assert retired.status_code == 200 and retired.json()["retired_at"]
