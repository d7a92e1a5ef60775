"""Welfare notes entered in error are corrected or withdrawn, never deleted (issue 20, item 8):
by the note's author or a supervisor of the person's group, with the version read and a reason;
what a change replaced is kept (WelfareNoteRevision) and shown as the note's history; each
change is in the ledger; a withdrawn note stays, marked, and can no longer be changed."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from haven.accounts import services as account_services
from haven.accounts.roles import Role
from haven.audit.models import Action, LedgerEntry
from haven.concurrency.locking import ConflictError
from haven.rota import selectors, services
from haven.rota.models import WelfareNote, WelfareNoteRevision
from haven.rota.staff import OPERATIONS, PROTECTION
from tests.equipment.helpers import supervisor, technician
from tests.factories import UserFactory, force_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.PROTECTION_OFFICER], first_name="Olive")


@pytest.fixture
def manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER], first_name="Mona")


@pytest.fixture
def other_manager():
    return UserFactory(roles=[Role.PROTECTION_MANAGER], first_name="Max")


@pytest.fixture
def boss():
    return supervisor(first_name="Boris")


@pytest.fixture
def note(manager, officer):
    return services.record_welfare_note(
        manager, person=officer, text="Check-in: tired after nights", group=PROTECTION
    )


def web(user) -> Client:  # type: ignore[no-untyped-def]
    return force_sign_in(Client(), user)


def api(user) -> Client:  # type: ignore[no-untyped-def]
    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def alterations(note: WelfareNote) -> list[LedgerEntry]:
    return list(
        LedgerEntry.objects.filter(
            object_type="welfare_note", object_id=str(note.pk), action=Action.ALTERATION
        )
    )


def test_the_author_corrects_a_note_and_the_old_text_is_kept(manager, note):
    services.correct_welfare_note(
        manager,
        note.pk,
        version=1,
        text="Check-in: tired after late turns",
        reason="Wrong shift pattern",
        group=PROTECTION,
    )
    note.refresh_from_db()
    assert note.text == "Check-in: tired after late turns" and note.version == 2
    revision = WelfareNoteRevision.objects.get(note=note)
    assert revision.previous == {"text": "Check-in: tired after nights"}
    assert revision.reason == "Wrong shift pattern" and revision.changed_by == manager
    assert [entry.fields for entry in alterations(note)] == [["text"]]


def test_another_supervisor_of_the_group_withdraws_it_and_it_stays_marked(
    manager, other_manager, officer, note
):
    services.withdraw_welfare_note(
        other_manager,
        note.pk,
        version=1,
        reason="Written about the wrong officer",
        group=PROTECTION,
    )
    note.refresh_from_db()
    assert note.withdrawn and note.version == 2
    assert WelfareNote.objects.filter(pk=note.pk).exists()
    with pytest.raises(ValidationError):
        services.withdraw_welfare_note(
            manager, note.pk, version=2, reason="again", group=PROTECTION
        )
    with pytest.raises(ValidationError):
        services.correct_welfare_note(
            manager, note.pk, version=2, text="new", reason="r", group=PROTECTION
        )
    page = web(manager).get(f"/protection/welfare/{officer.pk}/")
    assert b"Withdrawn" in page.content and b"<del>" in page.content
    assert f"/protection/welfare/notes/{note.pk}/correct/".encode() not in page.content


def test_a_stale_version_is_a_conflict_and_nothing_changes(manager, note):
    with pytest.raises(ConflictError):
        services.correct_welfare_note(
            manager, note.pk, version=5, text="other", reason="r", group=PROTECTION
        )
    note.refresh_from_db()
    assert note.version == 1 and not WelfareNoteRevision.objects.exists()


def test_a_reason_is_required(manager, note):
    with pytest.raises(ValidationError) as error:
        services.withdraw_welfare_note(manager, note.pk, version=1, reason=" ", group=PROTECTION)
    assert "reason" in error.value.message_dict


def test_the_person_it_is_about_cannot_change_it_and_other_groups_cannot_see_it(
    officer, note, boss
):
    with pytest.raises(PermissionDenied):
        services.correct_welfare_note(
            officer, note.pk, version=1, text="not tired", reason="r", group=PROTECTION
        )
    # the officer reads it and its history, but is offered no change
    assert selectors.welfare_note(officer, note.pk, PROTECTION) == note
    own = web(officer).get("/protection/welfare/me/")
    assert b"Check-in: tired after nights" in own.content
    assert b"/correct/" not in own.content
    assert web(officer).get(f"/protection/welfare/notes/{note.pk}/correct/").status_code == 403
    # a technical supervisor: not found, on either side
    assert web(boss).get(f"/operations/rota/welfare/notes/{note.pk}/correct/").status_code == 404
    assert web(boss).get(f"/protection/welfare/notes/{note.pk}/history/").status_code == 404
    assert api(boss).get(f"/api/welfare/notes/{note.pk}/history").status_code == 404


def test_a_colleague_officer_does_not_find_anothers_note(note):
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER])
    assert web(colleague).get(f"/protection/welfare/notes/{note.pk}/history/").status_code == 404
    answer = api(colleague).post(
        f"/api/protection/welfare/notes/{note.pk}/withdrawal",
        {"version": 1, "reason": "not mine"},
        content_type="application/json",
    )
    assert answer.status_code == 404


def test_a_manager_corrects_on_the_web_and_the_history_shows_it(manager, officer, note):
    client = web(manager)
    person = client.get(f"/protection/welfare/{officer.pk}/")
    assert f"/protection/welfare/notes/{note.pk}/correct/".encode() in person.content
    form = client.get(f"/protection/welfare/notes/{note.pk}/correct/")
    assert form.status_code == 200 and b"Check-in: tired after nights" in form.content
    empty = client.post(
        f"/protection/welfare/notes/{note.pk}/correct/",
        {"text": "Check-in: tired", "version": "1", "reason": ""},
    )
    assert empty.status_code == 400 and b"Say why the note is being corrected" in empty.content
    done = client.post(
        f"/protection/welfare/notes/{note.pk}/correct/",
        {"text": "Check-in: tired after late turns", "version": "1", "reason": "Wrong shifts"},
    )
    assert done.status_code == 302 and done["Location"] == f"/protection/welfare/{officer.pk}/"
    stale = client.post(
        f"/protection/welfare/notes/{note.pk}/correct/",
        {"text": "Third", "version": "1", "reason": "Again"},
    )
    assert stale.status_code == 400 and b"govuk-error-summary" in stale.content
    history = client.get(f"/protection/welfare/notes/{note.pk}/history/")
    assert history.status_code == 200
    assert b"Check-in: tired after nights" in history.content and b"Wrong shifts" in history.content
    assert LedgerEntry.objects.filter(
        object_type="welfare_note", object_id=str(note.pk), action=Action.CONSULTATION
    ).exists()


def test_withdrawing_on_the_web_asks_for_confirmation(manager, officer, note):
    client = web(manager)
    url = f"/protection/welfare/notes/{note.pk}/withdraw/"
    asked = client.post(url, {"version": "1", "reason": "Duplicate"})
    assert asked.status_code == 200 and b"Withdraw this welfare note?" in asked.content
    note.refresh_from_db()
    assert not note.withdrawn
    done = client.post(url, {"version": "1", "reason": "Duplicate", "confirmed": "yes"})
    assert done.status_code == 302
    note.refresh_from_db()
    assert note.withdrawn
    history = client.get(f"/protection/welfare/notes/{note.pk}/history/")
    assert b"Withdrawn" in history.content and b"Duplicate" in history.content
    again = client.get(url)
    assert again.status_code == 400 and b"already been withdrawn" in again.content


def test_the_api_corrects_withdraws_and_shows_history(manager, officer, note):
    client = api(manager)
    base = f"/api/protection/welfare/notes/{note.pk}"
    corrected = client.post(
        f"{base}/correction",
        {"version": 1, "reason": "Typo", "text": "Check-in: rested"},
        content_type="application/json",
    )
    assert corrected.status_code == 200 and corrected.json()["version"] == 2
    stale = client.post(
        f"{base}/withdrawal", {"version": 1, "reason": "Dup"}, content_type="application/json"
    )
    assert stale.status_code == 409
    no_reason = client.post(
        f"{base}/withdrawal", {"version": 2, "reason": " "}, content_type="application/json"
    )
    assert no_reason.status_code == 422
    withdrawn = client.post(
        f"{base}/withdrawal", {"version": 2, "reason": "Dup"}, content_type="application/json"
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    history = client.get(f"{base}/history").json()
    assert history["version"] == 3
    assert [v["action"] for v in history["earlier"]] == ["ended", "corrected"]
    assert history["earlier"][1]["previous"] == {"text": "Check-in: tired after nights"}
    mine = api(officer).get("/api/protection/welfare/me").json()
    assert mine["notes"][0]["withdrawn_at"] is not None
    refused = api(officer).post(
        f"{base}/correction",
        {"version": 3, "reason": "mine", "text": "x"},
        content_type="application/json",
    )
    assert refused.status_code in (403, 422)


def test_operations_notes_are_corrected_by_technical_supervisors(boss):
    tech = technician()
    note = services.record_welfare_note(boss, person=tech, text="Ops check-in")
    answer = api(boss).post(
        f"/api/welfare/notes/{note.pk}/correction",
        {"version": 1, "reason": "Typo", "text": "Ops check-in, fine"},
        content_type="application/json",
    )
    assert answer.status_code == 200
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    assert api(manager).get(f"/api/protection/welfare/notes/{note.pk}/history").status_code == 404
    assert selectors.welfare_note(boss, note.pk, OPERATIONS).text == "Ops check-in, fine"
