from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from haven.audit import ledger
from haven.audit.models import Action, LedgerEntry
from haven.oversight import selectors, services
from haven.oversight.models import (
    COMPLAINT,
    AppropriateAuthority,
    Complaint,
    ComplaintStatus,
    ReviewApplication,
    ReviewBody,
    ReviewStatus,
)
from tests.oversight.helpers import complaint, handled_with_outcome, head, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def test_complaint_is_logged_recorded_and_encrypted_at_rest():
    user = officer()
    item = complaint(user)
    assert item.status == ComplaintStatus.RECORDED
    assert [e.to_status for e in item.events.all()] == ["received", "logged", "recorded"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT complainant_name, narrative FROM oversight_complaint WHERE id = %s",
            [item.pk.hex if connection.vendor == "sqlite" else item.pk],
        )
        name, narrative = cursor.fetchone()
    assert "Fictional" not in name and "rude" not in narrative
    assert Complaint.objects.get(pk=item.pk).complainant_name == "Ivor Fictional-Complainant"
    entry = LedgerEntry.objects.filter(object_type=COMPLAINT, action=Action.COLLECTION).get()
    assert "complainant_name" in entry.fields


def test_outside_schedule_3_is_logged_only():
    item = complaint(officer(), schedule3=False)
    assert item.status == ComplaintStatus.OUTSIDE_SCH3


def test_reading_a_complaint_is_a_consultation_entry():
    user = officer()
    item = complaint(user)
    selectors.get_complaint(user, item.pk)
    entry = LedgerEntry.objects.filter(action=Action.CONSULTATION).get()
    assert entry.object_id == str(item.pk) and "complainant_name" in entry.fields
    assert ledger.open_sealed(entry)["justification"]


def test_complaint_against_the_chief_officer_is_ours_and_reviewed_by_the_iopc():
    item = complaint(officer(), against_chief_officer=True)
    assert item.appropriate_authority == AppropriateAuthority.LOCAL_POLICING_BODY
    # PRA 2002 Sch 3 para 30: the local policing body is the appropriate authority, so the
    # IOPC reviews; not PCMR reg 32(a), which describes complaints the force handles.
    assert (item.review_body, item.review_body_limb) == (ReviewBody.IOPC, "p")


def test_local_review_refused_where_a_mandatory_limb_applies():
    with pytest.raises(ValidationError, match="IOPC is the relevant review body"):
        complaint(officer(), reg4_criteria=["serious_assault"], review_body="local_policing_body")
    assert not Complaint.objects.exists()


def test_reg4_complaint_must_be_referred_before_handled():
    user = officer()
    item = complaint(user, reg4_criteria=["serious_assault"])
    with pytest.raises(ValidationError, match="refer it to the IOPC"):
        services.act_on_complaint(user, item.pk, "handled")
    services.act_on_complaint(user, item.pk, "refer_iopc")
    assert services.act_on_complaint(user, item.pk, "handled").status == ComplaintStatus.HANDLED


def test_reg4_complaint_cannot_be_handled_outside_schedule_3():
    with pytest.raises(ValidationError):
        complaint(officer(), reg4_criteria=["serious_assault"], schedule3=False)


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("log", ComplaintStatus.RECORDED),
        ("close", ComplaintStatus.RECORDED),
        ("outside", "recorded"),
    ],
)
def test_illegal_transitions_are_refused(action, status):
    user = officer()
    item = complaint(user)
    with pytest.raises(ValidationError, match="cannot move"):
        services.act_on_complaint(user, item.pk, action)
    assert Complaint.objects.get(pk=item.pk).status == status


def test_outcome_needs_a_handled_complaint_and_a_sane_date():
    user = officer()
    item = complaint(user)
    with pytest.raises(ValidationError, match="cannot move"):
        services.record_outcome(
            user, item.pk, outcome="service_acceptable", notice_on=date(2025, 3, 3)
        )
    services.act_on_complaint(user, item.pk, "handled")  # handled today, 2 Jun 2025
    with pytest.raises(ValidationError, match="before the complaint was handled"):
        services.record_outcome(
            user, item.pk, outcome="service_acceptable", notice_on=date(2025, 3, 3)
        )
    with pytest.raises(ValidationError, match="future"):
        services.record_outcome(
            user, item.pk, outcome="service_acceptable", notice_on=date(2025, 6, 3)
        )


def test_review_in_time_then_determined_with_recommendations_and_response():
    user = officer()
    item = handled_with_outcome(user, notice_on=date(2025, 6, 2))
    review = services.record_review_application(user, item.pk, received_on=date(2025, 6, 2))
    assert review.in_time and review.due_on == date(2025, 6, 30)
    with pytest.raises(ValidationError, match="recommendations"):
        services.determine_review(
            user, review.pk, determined_on=date(2025, 6, 2), reasonable_and_proportionate=False
        )
    services.determine_review(
        user,
        review.pk,
        determined_on=date(2025, 6, 2),
        reasonable_and_proportionate=False,
        recommendations="Reinvestigate the fictional allegation.",
    )
    assert Complaint.objects.get(pk=item.pk).status == ComplaintStatus.REVIEW_DETERMINED
    with pytest.raises(ValidationError, match="force's response to the recommendations"):
        services.act_on_complaint(user, item.pk, "close")
    services.record_force_response(
        user, review.pk, response="Accepted.", response_on=date(2025, 6, 2)
    )
    assert services.act_on_complaint(user, item.pk, "close").status == ComplaintStatus.CLOSED


def test_review_before_the_outcome_notice_is_refused_and_nothing_saved(clock):
    user = officer()
    item = handled_with_outcome(user, notice_on=date(2025, 6, 2))
    with pytest.raises(ValidationError, match="before the outcome notice"):
        services.record_review_application(user, item.pk, received_on=date(2025, 6, 1))
    assert not ReviewApplication.objects.exists()
    assert Complaint.objects.get(pk=item.pk).status == ComplaintStatus.OUTCOME_NOTIFIED


def test_out_of_time_review_must_be_extended_or_refused(clock):
    user = officer()
    item = handled_with_outcome(user, notice_on=date(2025, 6, 2))
    clock.move_to(datetime(2025, 7, 10, 12, tzinfo=UTC))
    review = services.record_review_application(user, item.pk, received_on=date(2025, 7, 10))
    assert not review.in_time and review.timeliness == "Out of time"
    with pytest.raises(ValidationError, match="out of time"):
        services.determine_review(
            user, review.pk, determined_on=date(2025, 7, 10), reasonable_and_proportionate=True
        )
    with pytest.raises(ValidationError, match="reason"):
        services.extend_review(user, review.pk, extension_days=14, reason=" ")
    review = services.extend_review(user, review.pk, extension_days=14, reason="In hospital")
    assert review.in_time and review.timeliness == "In time (extended)"
    assert review.due_on == date(2025, 7, 14)


def test_forwarding_days_are_excluded_from_the_window(clock):
    user = officer()
    item = handled_with_outcome(user, notice_on=date(2025, 6, 2))
    clock.move_to(datetime(2025, 7, 3, 12, tzinfo=UTC))
    review = services.record_review_application(
        user, item.pk, received_on=date(2025, 7, 3), forwarded_days=5
    )
    assert review.due_on == date(2025, 7, 5) and review.in_time


def test_refusing_an_out_of_time_application_closes_the_complaint(clock):
    user = officer()
    item = handled_with_outcome(user, notice_on=date(2025, 6, 2))
    clock.move_to(datetime(2025, 7, 10, 12, tzinfo=UTC))
    review = services.record_review_application(user, item.pk, received_on=date(2025, 7, 10))
    services.refuse_review_out_of_time(user, review.pk)
    assert ReviewApplication.objects.get(pk=review.pk).status == ReviewStatus.REFUSED_OUT_OF_TIME
    assert Complaint.objects.get(pk=item.pk).status == ComplaintStatus.CLOSED


def test_iopc_reviewed_complaint_refuses_a_local_application():
    # The handling of a complaint about the chief officer is the head of oversight's decision.
    user = head()
    item = handled_with_outcome(user, notice_on=date(2025, 6, 2), against_chief_officer=True)
    with pytest.raises(ValidationError, match="forward the application"):
        services.record_review_application(user, item.pk, received_on=date(2025, 6, 2))


def test_closing_waits_for_the_review_window(clock):
    user = officer()
    item = handled_with_outcome(user, notice_on=date(2025, 6, 2))
    with pytest.raises(ValidationError, match="review window is open"):
        services.act_on_complaint(user, item.pk, "close")
    clock.move_to(datetime(2025, 7, 1, 12, tzinfo=UTC))
    assert services.act_on_complaint(user, item.pk, "close").status == ComplaintStatus.CLOSED


def test_update_and_twelve_month_flags(clock):
    user = officer()
    item = complaint(user, received_on=date(2024, 5, 1))
    item = services.record_investigation(user, item.pk, started_on=date(2024, 5, 20))
    deadlines = {d.rule_code: d for d in selectors.complaint_deadlines(item)}
    assert deadlines["complaint_progress_update"].state == "overdue"
    assert deadlines["overdue_investigation_report"].state == "overdue"
    assert deadlines["overdue_investigation_report"].due == date(2025, 5, 1)
    services.record_update(user, item.pk, sent_on=date(2025, 6, 2), method="letter")
    item = Complaint.objects.get(pk=item.pk)
    deadlines = {d.rule_code: d for d in selectors.complaint_deadlines(item)}
    assert deadlines["complaint_progress_update"].due == date(2025, 6, 30)
    assert deadlines["complaint_progress_update"].state == "due"


def test_overdue_filter_lists_only_overdue(clock):
    user = officer()
    old = complaint(user, received_on=date(2024, 5, 1))
    complaint(user, received_on=date(2025, 6, 1))
    page = selectors.list_complaints(user, selectors.ComplaintSearch(overdue=True), 1)
    assert [c.pk for c in page.object_list] == [old.pk]


def test_search_by_complainant_name_uses_the_blind_index():
    user = officer()
    wanted = complaint(user, complainant_name="Zelda Madeup")
    complaint(user)
    page = selectors.list_complaints(
        user, selectors.ComplaintSearch(complainant="zelda  MADEUP"), 1
    )
    assert [c.pk for c in page.object_list] == [wanted.pk]
    entry = LedgerEntry.objects.filter(action=Action.CONSULTATION, object_id="list").get()
    assert "complainant_name" in entry.fields
