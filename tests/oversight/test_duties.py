"""Oversight duties of seed 002 (issue 21): ownership, notes and correspondence, complaints about
the chief officer, holding the chief officer to account, tribunal members from the register."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from haven.accounts import services as account_services
from haven.accounts.roles import Clearance, Role
from haven.audit.models import Action, LedgerEntry
from haven.notifications.models import Notification
from haven.oversight import performance, selectors, services, workflow
from haven.oversight.models import (
    Complaint,
    ComplaintNote,
    ComplaintStatus,
    ComplaintSubject,
    GovernanceAction,
    MemberKind,
    PoliceAppealTribunal,
)
from haven.web.awaiting import awaiting_you
from haven.workflow import TransitionError
from tests.factories import UserFactory, force_sign_in
from tests.oversight.helpers import complaint, handled_with_outcome, head, member, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def web(user) -> Client:
    return force_sign_in(Client(), user)


def api(user) -> Client:
    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


# ---------------------------------------------------------------------------------------------
# Ownership


def test_a_manager_assigns_a_caseworker_who_is_told_and_the_change_is_ledgered():
    manager, worker = head(), officer()
    item = complaint(manager)
    services.assign_complaint(manager, item.pk, assignee_id=worker.pk)
    assert Complaint.objects.get(pk=item.pk).assignee == worker
    note = Notification.objects.get(user=worker)
    assert item.reference == note.reference and "assigned to you" in note.message
    entry = LedgerEntry.objects.filter(object_id=str(item.pk), action=Action.ALTERATION).last()
    assert entry is not None and "assignee" in entry.fields
    assert list(selectors.my_complaints(worker)) == [Complaint.objects.get(pk=item.pk)]


def test_reassignment_needs_a_reason_and_changes_nothing_without_one():
    manager, first, second = head(), officer(), officer()
    item = complaint(manager)
    services.assign_complaint(manager, item.pk, assignee_id=first.pk)
    with pytest.raises(ValidationError, match="reason for reassigning"):
        services.assign_complaint(manager, item.pk, assignee_id=second.pk)
    assert Complaint.objects.get(pk=item.pk).assignee == first
    services.assign_complaint(manager, item.pk, assignee_id=second.pk, reason="Leave cover")
    assert Complaint.objects.get(pk=item.pk).assignee == second
    assert Notification.objects.filter(user=second).count() == 1


@pytest.mark.parametrize(
    "roles", [[Role.PROTECTION_OFFICER], [Role.TECHNICAL_OFFICER], [Role.OVERSIGHT_HEAD]]
)
def test_only_oversight_caseworkers_can_be_assigned(roles):
    manager = head()
    item = complaint(manager)
    with pytest.raises(ValidationError, match="Only an oversight caseworker"):
        services.assign_complaint(manager, item.pk, assignee_id=UserFactory(roles=roles).pk)
    assert Complaint.objects.get(pk=item.pk).assignee is None


def test_a_caseworker_not_cleared_for_the_complaint_cannot_be_assigned():
    manager = head(clearance=Clearance.SECRET)
    item = complaint(manager)
    Complaint.objects.filter(pk=item.pk).update(classification=Clearance.SECRET)
    low = officer(clearance=Clearance.OFFICIAL)
    with pytest.raises(ValidationError, match="not cleared"):
        services.assign_complaint(manager, item.pk, assignee_id=low.pk)


def test_a_caseworker_cannot_assign_work():
    worker = officer()
    item = complaint(worker)
    with pytest.raises(ValidationError, match="Only an oversight manager"):
        services.assign_complaint(worker, item.pk, assignee_id=worker.pk)
    assert web(worker).get(f"/oversight/complaints/{item.pk}/assign/").status_code == 404
    assert web(worker).get("/oversight/caseloads/").status_code == 404
    assert api(worker).get("/api/oversight/caseloads").status_code == 403


def test_a_review_is_assigned_like_a_complaint():
    manager, worker = head(), officer()
    item = handled_with_outcome(manager, notice_on=date(2025, 6, 2))
    review = services.record_review_application(manager, item.pk, received_on=date(2025, 6, 2))
    response = api(manager).post(
        f"/api/oversight/reviews/{review.pk}/assignee",
        {"assignee_id": worker.pk},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["assignee_id"] == worker.pk
    assert [r.pk for r in selectors.my_reviews(worker)] == [review.pk]


def test_caseloads_count_each_caseworkers_open_work_and_the_unassigned():
    manager, worker = head(), officer()
    owned, _ = complaint(manager), complaint(manager)
    services.assign_complaint(manager, owned.pk, assignee_id=worker.pk)
    lines, unassigned = selectors.caseloads(manager)
    assert unassigned == 1
    assert [(line.caseworker, line.complaints) for line in lines] == [(worker, 1)]
    page = web(manager).get("/oversight/caseloads/")
    assert page.status_code == 200 and worker.get_full_name() in page.content.decode()


def test_my_complaints_reach_home():
    manager, worker = head(), officer()
    item = complaint(manager)
    services.assign_complaint(manager, item.pk, assignee_id=worker.pk)
    lines = {line.label: line for line in awaiting_you(worker)}
    assert lines["My complaints"].count == 1 and lines["My complaints"].url == "/oversight/my-work/"
    home = web(worker).get("/").content.decode()
    assert "/oversight/my-work/" in home
    assert item.reference in web(worker).get("/oversight/my-work/").content.decode()


# ---------------------------------------------------------------------------------------------
# Notes and correspondence


def test_notes_and_correspondence_are_encrypted_and_ledgered():
    worker = officer()
    item = complaint(worker)
    services.add_note(worker, item.pk, text="Spoke to the fictional PSD about timing")
    services.record_correspondence(
        worker,
        item.pk,
        direction="out",
        on=date(2025, 2, 3),
        party="Ivor Fictional-Complainant",
        method="letter",
        text="Update letter",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT text, party FROM oversight_complaintnote")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert "fictional PSD" not in stored and "Ivor" not in stored
    collected = LedgerEntry.objects.filter(object_id=str(item.pk), action=Action.COLLECTION)
    assert collected.count() == 3  # the complaint, the note, the letter
    before = LedgerEntry.objects.filter(action=Action.CONSULTATION).count()
    page = web(worker).get(f"/oversight/complaints/{item.pk}/").content.decode()
    assert "fictional PSD" in page and "Letter sent: Ivor Fictional-Complainant" in page
    consulted = LedgerEntry.objects.filter(action=Action.CONSULTATION)[before:]
    assert any("notes.text" in entry.fields for entry in consulted)


def test_correspondence_needs_direction_party_method_and_a_real_date():
    worker = officer()
    item = complaint(worker)
    with pytest.raises(ValidationError) as refused:
        services.record_correspondence(
            worker, item.pk, direction="", on=date(2024, 1, 1), party="", method="fax", text=""
        )
    assert set(refused.value.message_dict) == {"direction", "party", "method", "text", "on"}
    assert not ComplaintNote.objects.exists()
    response = api(worker).post(
        f"/api/oversight/complaints/{item.pk}/correspondence",
        {"direction": "in", "on": "2025-02-03", "party": " ", "method": "email", "text": "x"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "roles", [[Role.PROTECTION_MANAGER], [Role.IDENTITY_OFFICER], [Role.TECHNICAL_SUPERVISOR]]
)
def test_protection_and_technical_roles_reach_none_of_it(roles):
    worker = officer()
    item = complaint(worker)
    services.add_note(worker, item.pk, text="Oversight-only note")
    meeting = services.create_meeting(
        worker, kind="accountability", title="Board", held_on=date(2025, 5, 1)
    )
    outsider = UserFactory(roles=roles)
    for page in (
        f"/oversight/complaints/{item.pk}/notes/",
        "/oversight/my-work/",
        "/oversight/governance/",
        f"/oversight/governance/{meeting.pk}/",
        "/oversight/performance/",
        "/oversight/performance/export.csv",
    ):
        assert web(outsider).get(page).status_code == 404, page
    for path in (
        f"/api/oversight/complaints/{item.pk}/notes",
        "/api/oversight/performance",
        "/api/oversight/governance/meetings",
    ):
        response = api(outsider).get(path)
        assert response.status_code == 404 and "Oversight-only" not in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Complaints about the chief officer: the body's own decision steps


def test_chief_officer_complaint_steps_carry_their_citations_and_unconfirmed_marks():
    table = workflow.complaint_transitions(ComplaintSubject.CHIEF_OFFICER)
    refer = table.rule(ComplaintStatus.RECORDED, ComplaintStatus.IOPC_REFERRED)
    assert refer is not None and "Sch 3 para 4" in refer.citation
    handle = table.rule(ComplaintStatus.RECORDED, ComplaintStatus.HANDLED)
    assert handle is not None and Role.OVERSIGHT_HEAD in handle.roles
    from haven.oversight import config

    assert config.CHIEF_COMPLAINT_STEPS["handle"].confirmed is False
    # The ordinary table is unchanged: a caseworker handles a force complaint.
    assert (
        workflow.complaint_transitions(ComplaintSubject.OFFICER) is workflow.COMPLAINT_TRANSITIONS
    )


def test_only_the_head_of_oversight_takes_the_decisions_on_a_chief_officer_complaint():
    worker, manager = officer(), head()
    item = complaint(worker, against_chief_officer=True)
    assert item.appropriate_authority == "local_policing_body" and item.review_body == "iopc"
    with pytest.raises(TransitionError, match="Your role does not allow"):
        services.act_on_complaint(worker, item.pk, "handled")
    assert Complaint.objects.get(pk=item.pk).status == ComplaintStatus.RECORDED
    page = web(worker).get(f"/oversight/complaints/{item.pk}/").content.decode()
    assert "Mark as handled" not in page and "Sch 3 para 4" in page
    services.act_on_complaint(manager, item.pk, "refer_iopc")
    services.act_on_complaint(manager, item.pk, "handled")
    done = services.record_outcome(
        manager, item.pk, outcome="service_acceptable", notice_on=date(2025, 6, 2)
    )
    assert done.status == ComplaintStatus.OUTCOME_NOTIFIED


def test_a_force_complaint_is_still_handled_by_a_caseworker():
    worker = officer()
    item = complaint(worker)
    assert services.act_on_complaint(worker, item.pk, "handled").status == "handled"


# ---------------------------------------------------------------------------------------------
# Holding the chief officer to account


def test_meeting_decisions_and_actions_with_owner_told_and_overdue_reminder_once(clock):
    manager, worker = head(), officer()
    meeting = services.create_meeting(
        manager, kind="accountability", title="Quarterly board", held_on=date(2025, 5, 1)
    )
    decision = services.record_decision(
        manager, meeting.pk, summary="Ask for a stop-and-search report", decided_on=date(2025, 5, 1)
    )
    action = services.add_action(
        manager,
        meeting.pk,
        description="Report on stop and search",
        owner_id=worker.pk,
        due_on=date(2025, 6, 10),
        decision_id=decision.pk,
    )
    assert Notification.objects.filter(user=worker).count() == 1
    assert services.notify_overdue_actions() == 0  # not yet due
    clock.move_to(datetime(2025, 6, 11, 9, tzinfo=UTC))
    assert services.notify_overdue_actions() == 1
    assert services.notify_overdue_actions() == 0  # once per due date
    overdue = Notification.objects.filter(user=worker, category="deadline").get()
    assert meeting.reference == overdue.reference and "overdue" in overdue.message
    services.complete_action(worker, action.pk, completed_on=date(2025, 6, 11))
    assert GovernanceAction.objects.get(pk=action.pk).status == "done"


def test_the_overdue_action_job_is_on_haven_scheduler():
    from haven.oversight import tasks
    from haven.runtime import periodic

    names = {job.name for job in periodic.jobs()}
    assert tasks.notify_overdue_governance_actions.name in names


def test_an_action_needs_an_oversight_owner_and_a_due_date_after_the_meeting():
    manager = head()
    meeting = services.create_meeting(
        manager, kind="panel", title="Panel", held_on=date(2025, 5, 1)
    )
    outsider = UserFactory(roles=[Role.PROTECTION_MANAGER])
    with pytest.raises(ValidationError) as refused:
        services.add_action(
            manager, meeting.pk, description="x", owner_id=outsider.pk, due_on=date(2025, 4, 1)
        )
    assert set(refused.value.message_dict) == {"owner", "due_on"}
    assert not GovernanceAction.objects.exists()


def test_only_the_owner_or_a_manager_completes_an_action():
    manager, owner, other = head(), officer(), officer()
    meeting = services.create_meeting(manager, kind="audit", title="JAC", held_on=date(2025, 5, 1))
    action = services.add_action(
        manager, meeting.pk, description="x", owner_id=owner.pk, due_on=date(2025, 6, 1)
    )
    with pytest.raises(ValidationError, match="owner"):
        services.complete_action(other, action.pk, completed_on=date(2025, 6, 1))
    assert GovernanceAction.objects.get(pk=action.pk).status == "open"


def test_performance_shows_quarters_with_trends_and_suppression(clock):
    worker = officer()
    # 8 complaints in Oct-Dec 2024, 6 in Jan-Mar 2025, 2 in Apr-Jun 2025 (below 5).
    for count, first in ((8, date(2024, 10, 7)), (6, date(2025, 1, 6)), (2, date(2025, 4, 7))):
        for day in range(count):
            complaint(worker, received_on=first.replace(day=first.day + day))
    report = performance.build()
    assert [q.label for q in report.quarters] == [
        "Apr–Jun 2024",
        "Jul–Sep 2024",
        "Oct–Dec 2024",
        "Jan–Mar 2025",
        "Apr–Jun 2025",
    ]
    row = next(r for r in report.rows if r.measure.code == "complaints_received")
    # The 2 is hidden (primary) and so is the 6 (secondary: else 2 = year total - the rest).
    assert row.cells == ["0", "0", "8", "[c]", "[c]"]
    # The change next to a hidden count is hidden too.
    assert row.trends == ["", "no change", "up 8", "[c]", "[c]"]
    page = web(worker).get("/oversight/performance/").content.decode()
    assert "Jan–Mar 2025" in page and "Workforce headcount" in page and "Tribunal" in page


def test_trend_words():
    assert performance.trend(6, 9) == "up 3"
    assert performance.trend(9, 6) == "down 3"
    assert performance.trend(None, 6) == "[c]"


def test_performance_csv_is_a_ledgered_disclosure_through_the_csv_helper():
    worker = officer()
    response = web(worker).get("/oversight/performance/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Area", "Measure", "Apr–Jun 2024"]
    assert LedgerEntry.objects.filter(action=Action.DISCLOSURE, object_id="performance").exists()


# ---------------------------------------------------------------------------------------------
# Tribunal members from the register


def _tribunal(user) -> PoliceAppealTribunal:
    return services.create_tribunal(
        user,
        appellant_reference="PC 0001 Fictional",
        notice_received_on=date(2025, 5, 1),
        hearing_on=date(2025, 7, 1),
    )


def test_tribunal_chair_and_lay_member_come_from_the_register():
    worker = officer()
    tribunal = _tribunal(worker)
    chair = member(worker, "Chair Fictional", kind=MemberKind.LEGAL)
    lay = member(worker, "Lay Fictional")
    with pytest.raises(ValidationError, match="from the register"):
        services.seat_tribunal_member(worker, tribunal.pk, seat="chair", member_id=lay.pk)
    services.seat_tribunal_member(worker, tribunal.pk, seat="chair", member_id=chair.pk)
    with pytest.raises(ValidationError, match="never been police"):
        services.seat_tribunal_member(worker, tribunal.pk, seat="lay", member_id=lay.pk)
    services.seat_tribunal_member(
        worker, tribunal.pk, seat="lay", member_id=lay.pk, never_police=True
    )
    seated = PoliceAppealTribunal.objects.get(pk=tribunal.pk)
    assert (seated.chair_member, seated.lay_member) == (chair, lay)
    assert seated.chair_name == "Chair Fictional"
    page = web(worker).get(f"/oversight/tribunals/{tribunal.pk}/").content.decode()
    assert "Chair Fictional" in page and "/seat/" in page


def test_the_tribunal_draw_checks_availability_interests_and_term():
    worker = officer()
    tribunal = _tribunal(worker)
    busy = member(worker, "Busy Fictional", kind=MemberKind.LEGAL)
    services.record_unavailability(
        worker, busy.pk, starts_on=date(2025, 6, 30), ends_on=date(2025, 7, 2)
    )
    conflicted = member(worker, "Conflicted Fictional", kind=MemberKind.LEGAL)
    services.declare_interest(
        worker, conflicted.pk, subject="PC 0001 Fictional", declared_on=date(2025, 1, 1)
    )
    lapsed = member(worker, "Lapsed Fictional", kind=MemberKind.LEGAL, term_end=date(2025, 6, 1))
    for person, why in (
        (busy, "unavailable"),
        (conflicted, "declared interest"),
        (lapsed, "does not cover"),
    ):
        with pytest.raises(ValidationError, match=why):
            services.seat_tribunal_member(worker, tribunal.pk, seat="chair", member_id=person.pk)
    assert PoliceAppealTribunal.objects.get(pk=tribunal.pk).chair_member is None


def test_the_tribunal_form_no_longer_takes_typed_names():
    worker = officer()
    page = web(worker).get("/oversight/tribunals/").content.decode()
    assert 'name="chair_name"' not in page and 'name="lay_member_name"' not in page


# ---------------------------------------------------------------------------------------------
# The pages, clicked through


def test_pages_assign_note_correspond_and_run_a_meeting():
    manager, worker = head(), officer()
    item = complaint(manager)
    browser = web(manager)
    assert "/oversight/caseloads/" in browser.get("/").content.decode()
    page = browser.get(f"/oversight/complaints/{item.pk}/").content.decode()
    assert f"/oversight/complaints/{item.pk}/assign/" in page
    refused = browser.post(f"/oversight/complaints/{item.pk}/assign/", {"assignee": ""})
    assert refused.status_code == 200 and "Choose a caseworker" in refused.content.decode()
    done = browser.post(f"/oversight/complaints/{item.pk}/assign/", {"assignee": worker.pk})
    assert done.status_code == 302 and Complaint.objects.get(pk=item.pk).assignee == worker
    bad = browser.post(
        f"/oversight/complaints/{item.pk}/correspondence/",
        {"direction": "in", "on": "2025-02-03", "party": "", "method": "email", "text": "x"},
    )
    assert bad.status_code == 200 and "govuk-error-summary" in bad.content.decode()
    assert not ComplaintNote.objects.exists()
    browser.post(f"/oversight/complaints/{item.pk}/notes/", {"text": "A page note"})
    assert ComplaintNote.objects.get().text == "A page note"
    created = browser.post(
        "/oversight/governance/",
        {"kind": "accountability", "title": "Board", "held_on": "2025-05-01"},
    )
    assert created.status_code == 302
    meeting_url = created["Location"]
    browser.post(
        meeting_url,
        {"form": "decision", "decision-summary": "Decided", "decision-decided_on": "2025-05-01"},
    )
    browser.post(
        meeting_url,
        {
            "form": "action",
            "action-description": "Do it",
            "action-owner_id": worker.pk,
            "action-due_on": "2025-05-20",
        },
    )
    action = GovernanceAction.objects.get()
    assert action.owner == worker and action.decision is None
    mine = web(worker).get("/oversight/my-work/").content.decode()
    assert item.reference in mine and "Do it" in mine and "Overdue" in mine
    web(worker).post(
        f"/oversight/governance/actions/{action.pk}/done/", {"completed_on": "2025-06-01"}
    )
    assert GovernanceAction.objects.get().status == "done"


def test_an_action_is_marked_done_with_the_govuk_date_input_and_a_field_error():
    """Issue 20 item 6: the meeting page's "Date done" is the GOV.UK date input (three boxes),
    and a date that does not exist is an error beside the field, nothing changed."""
    manager, worker = head(), officer()
    meeting = services.create_meeting(
        manager, kind="accountability", title="Quarterly board", held_on=date(2025, 5, 1)
    )
    action = services.add_action(
        manager,
        meeting.pk,
        description="Fictional action",
        owner_id=worker.pk,
        due_on=date(2025, 6, 30),
    )
    url = f"/oversight/governance/{meeting.pk}/"
    page = web(worker).get(url).content.decode()
    assert 'type="date"' not in page and 'name="completed_on_day"' in page
    refused = web(worker).post(
        f"/oversight/governance/actions/{action.pk}/done/",
        {"completed_on_day": "31", "completed_on_month": "2", "completed_on_year": "2025"},
    )
    body = refused.content.decode()
    assert refused.status_code == 200 and "Enter a real date" in body
    assert f'id="done-{action.pk}-completed_on-error"' in body
    assert GovernanceAction.objects.get().status == "open"
    web(worker).post(
        f"/oversight/governance/actions/{action.pk}/done/",
        {"completed_on_day": "2", "completed_on_month": "6", "completed_on_year": "2025"},
    )
    assert GovernanceAction.objects.get().completed_on == date(2025, 6, 2)
