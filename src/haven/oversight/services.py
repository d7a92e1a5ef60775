"""Every oversight write: one function per business action, one transaction with its ledger
entry. Bad input raises ValidationError (field -> message) and changes nothing."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency import references
from haven.concurrency.transactions import service
from haven.notifications import services as notifications
from haven.notifications.models import AlertCategory
from haven.timelimits import compute_deadline, is_in_time, rule_in_force
from haven.vault import documents

from . import config, panels, permissions, selectors, workflow
from .config import PERSONAL_FIELDS, REVIEW_RULE, RULES_FROM_RECEIPT
from .models import (
    COMPLAINT,
    FORFEITURE,
    GOVERNANCE,
    HEARING,
    PANEL_MEMBER,
    REVIEW,
    TRIBUNAL,
    ActionStatus,
    AppropriateAuthority,
    Assignment,
    Category,
    ComplainantUpdate,
    Complaint,
    ComplaintDocument,
    ComplaintEvent,
    ComplaintNote,
    ComplaintStatus,
    CorrespondenceMethod,
    DeadlineReminder,
    DeclaredInterest,
    Determination,
    Direction,
    ForfeitureGround,
    ForfeitureStatus,
    GovernanceAction,
    GovernanceDecision,
    GovernanceMeeting,
    HearingStatus,
    MeetingKind,
    MemberKind,
    MisconductHearing,
    NoteKind,
    Outcome,
    PanelAppointment,
    PanelMember,
    PanelOutcome,
    PensionForfeiture,
    PensionScheme,
    PoliceAppealTribunal,
    Reg4Criterion,
    Reg32Limb,
    ReviewApplication,
    ReviewBody,
    ReviewStatus,
    SelectionMethod,
    Unavailability,
    UpdateMethod,
)


def today() -> date:
    return timezone.localdate()


def _refuse(field: str | None, message: str) -> ValidationError:
    return ValidationError({field: message}) if field else ValidationError(message)


def _not_future(field: str, value: date, what: str) -> None:
    if value > today():
        raise _refuse(field, f"{what} cannot be in the future")


def _not_before(field: str, value: date, earlier: date | None, message: str) -> None:
    if earlier is not None and value < earlier:
        raise _refuse(field, message)


def _next_reference(model: Any, prefix: str, year: int) -> str:
    return references.next_reference(model, prefix, year, width=4)


# ---------------------------------------------------------------------------------------------
# Complaints


def _review_body(
    against_chief_officer: bool,
    reg4_criteria: list[str],
    review_body: str | None,
    limb: str,
) -> tuple[str, str]:
    """Relevant review body and reg 32 limb; the IOPC where a mandatory limb applies."""
    mandatory = ""
    if against_chief_officer:
        # The local policing body is the appropriate authority, so it cannot review its own
        # handling: Sch 3 para 30 makes the IOPC the review body (sub-paragraph not retrieved).
        mandatory = Reg32Limb.LOCAL_POLICING_BODY
    elif reg4_criteria:
        mandatory = Reg32Limb.C  # must be referred to the IOPC
    if review_body is None:
        return (
            (ReviewBody.IOPC, limb or mandatory)
            if (mandatory or limb)
            else (
                ReviewBody.LOCAL_POLICING_BODY,
                "",
            )
        )
    if review_body == ReviewBody.IOPC and not limb:
        if not mandatory:
            raise _refuse(
                "review_body_limb", "Give the reason (reg 32 limb) that makes the IOPC reviewer"
            )
        limb = mandatory
    if review_body == ReviewBody.LOCAL_POLICING_BODY:
        if mandatory:
            raise _refuse(
                "review_body",
                f"The IOPC is the relevant review body: {Reg32Limb(mandatory).label}",
            )
        if limb:
            raise _refuse(
                "review_body_limb", "A reg 32 limb applies only when the IOPC is the review body"
            )
    return review_body, limb


def _table(complaint: Complaint) -> Any:
    return workflow.complaint_transitions(complaint.subject)


def _move(complaint: Complaint, target: str, user: User | None, note: str = "") -> None:
    """Move by the complaint's table; a decision step the table reserves to a role is refused
    to anyone without it (system jobs, user None, are not role-checked)."""
    _table(complaint).check(complaint.status, target, permissions.roles_of(user))
    ComplaintEvent.objects.create(
        complaint=complaint, actor=user, from_status=complaint.status, to_status=target, note=note
    )
    complaint.status = target


def _locked_complaint(complaint_id: UUID | str) -> Complaint:
    return Complaint.objects.select_for_update().get(pk=complaint_id)


def _alteration(
    user: User | None, object_type: str, object_id: object, fields: Iterable[str], **details: Any
) -> None:
    ledger.record(
        actor=user,
        action=Action.ALTERATION,
        object_type=object_type,
        object_id=object_id,
        fields=fields,
        details=details,
    )


def _appropriate_authority(against_chief_officer: bool, against_commissioner: bool) -> str:
    if against_commissioner:
        return AppropriateAuthority.POLICE_AND_CRIME_PANEL
    if against_chief_officer:
        return AppropriateAuthority.LOCAL_POLICING_BODY
    return AppropriateAuthority.FORCE


def _commissioner_complaint_errors(
    against_chief_officer: bool, criteria: list[str], review_body: str | None
) -> dict[str, str]:
    """What a complaint about the Commissioner cannot carry: the police rules (PCMR reg 4
    referral, reg 32 review body) do not apply to it."""
    errors = {}
    if against_chief_officer:
        errors["subject"] = "Choose one: the chief officer or the Commissioner"
    if criteria:
        errors["reg4_criteria"] = (
            "PCMR reg 4 is for complaints about the police: a serious complaint about the "
            "Commissioner is referred to the IOPC under ELPB Regs 2012 reg 13"
        )
    if review_body not in (None, "", ReviewBody.NONE):
        errors["review_body"] = "A complaint about the Commissioner has no review body"
    return errors


def _refuse_commissioner_complaint(complaint: Complaint) -> None:
    """The police-complaint actions do not apply to a complaint about the Commissioner."""
    if complaint.against_commissioner:
        raise _refuse(
            None, "A complaint about the Commissioner follows its own steps (ELPB Regs 2012)"
        )


@service
def create_complaint(
    user: User | None,
    *,
    received_on: date,
    category: str,
    complainant_name: str,
    complainant_contact: str = "",
    narrative: str = "",
    against_chief_officer: bool = False,
    against_commissioner: bool = False,
    schedule3: bool = True,
    reg4_criteria: Iterable[str] = (),
    review_body: str | None = None,
    review_body_limb: str = "",
    force_reference: str = "",
) -> Complaint:
    """Receive a complaint and log it; record it under Schedule 3 or handle it outside."""
    criteria = sorted(set(reg4_criteria))
    errors: dict[str, str] = {}
    if not complainant_name.strip():
        errors["complainant_name"] = "Enter the complainant's name"
    if category not in Category.values:
        errors["category"] = "Choose a category"
    if any(code not in Reg4Criterion.values for code in criteria):
        errors["reg4_criteria"] = "Unknown reg 4 criterion"
    if criteria and not schedule3:
        errors["schedule3"] = (
            "A complaint meeting a reg 4 criterion must be recorded under Schedule 3"
        )
    if against_commissioner:
        errors.update(_commissioner_complaint_errors(against_chief_officer, criteria, review_body))
    if received_on > today():
        errors["received_on"] = "The date received cannot be in the future"
    elif not against_commissioner and not all(
        rule_in_force(code, received_on) for code in RULES_FROM_RECEIPT
    ):
        errors["received_on"] = (
            f"No version of the statutory complaint rules was in force on {received_on:%-d %B %Y}"
        )
    if errors:
        raise ValidationError(errors)
    body, limb = (
        (ReviewBody.NONE, "")
        if against_commissioner
        else _review_body(against_chief_officer, criteria, review_body, review_body_limb)
    )
    complaint = Complaint(
        reference=_next_reference(Complaint, "CMP", received_on.year),
        force_reference=force_reference.strip(),
        received_on=received_on,
        category=category,
        against_chief_officer=against_chief_officer,
        against_commissioner=against_commissioner,
        appropriate_authority=_appropriate_authority(against_chief_officer, against_commissioner),
        reg4_criteria=criteria,
        review_body=body,
        review_body_limb=limb,
        complainant_name=complainant_name.strip(),
        complainant_contact=complainant_contact.strip(),
        narrative=narrative.strip(),
        created_by=user,
    )
    complaint.save()
    ComplaintEvent.objects.create(
        complaint=complaint, actor=user, to_status=ComplaintStatus.RECEIVED
    )
    _move(complaint, ComplaintStatus.LOGGED, user)
    if not against_commissioner:  # whether to record it is a step of its own (reg 9, reg 10)
        _move(
            complaint, ComplaintStatus.RECORDED if schedule3 else ComplaintStatus.OUTSIDE_SCH3, user
        )
    complaint.save()
    ledger.record(
        actor=user,
        action=Action.COLLECTION,
        object_type=COMPLAINT,
        object_id=complaint.pk,
        fields=(*PERSONAL_FIELDS, "received_on", "category", "status"),
        details={"reference": complaint.reference},
    )
    return complaint


@service
def act_on_complaint(
    user: User | None, complaint_id: UUID | str, action: str, note: str = "", on: date | None = None
) -> Complaint:
    """A transition without data of its own (workflow.SIMPLE_COMPLAINT_ACTIONS)."""
    if action not in workflow.SIMPLE_COMPLAINT_ACTIONS:
        raise _refuse("action", "Choose an action")
    complaint = _locked_complaint(complaint_id)
    _refuse_commissioner_complaint(complaint)
    target = workflow.SIMPLE_COMPLAINT_ACTIONS[action][0]
    _table(complaint).check(complaint.status, target, permissions.roles_of(user))
    if (
        target == ComplaintStatus.HANDLED
        and complaint.reg4_criteria
        and (complaint.status == ComplaintStatus.RECORDED)
    ):
        raise _refuse(
            "action", "This complaint meets a reg 4 criterion: refer it to the IOPC first"
        )
    on = on or today()
    _not_future("on", on, "The date")
    _not_before(
        "on", on, complaint.received_on, "The date cannot be before the complaint was received"
    )
    if target == ComplaintStatus.IOPC_REFERRED:
        complaint.iopc_referred_on = on
    if target == ComplaintStatus.HANDLED:
        complaint.handled_on = on
    if target == ComplaintStatus.CLOSED:
        _check_may_close(complaint)
        complaint.closed_on = today()
    _move(complaint, target, user, note)
    complaint.save()
    _alteration(user, COMPLAINT, complaint.pk, ("status",), to=target)
    return complaint


def review_deadline(
    complaint: Complaint, paused: int = 0, extension: int = 0, reason: str | None = None
) -> Any:
    if complaint.outcome_notice_on is None:
        return None
    return compute_deadline(
        REVIEW_RULE,
        complaint.outcome_notice_on,
        paused_days=paused,
        extension_days=extension,
        extension_reason=reason,
    )


def _check_may_close(complaint: Complaint) -> None:
    if complaint.status == ComplaintStatus.OUTCOME_NOTIFIED:
        deadline = review_deadline(complaint)
        if deadline is not None and today() <= deadline.due:
            raise _refuse(
                "action",
                f"The review window is open until {deadline.due:%d %B %Y}: close it after then",
            )
    if complaint.status == ComplaintStatus.REVIEW_WINDOW:
        if complaint.reviews.filter(status=ReviewStatus.RECEIVED).exists():
            raise _refuse("action", "Determine or refuse the review application first")
    if complaint.status == ComplaintStatus.REVIEW_DETERMINED:
        # Recommendations are encrypted (cannot be filtered): check the decrypted values.
        for review in complaint.reviews.filter(status=ReviewStatus.DETERMINED):
            if review.recommendations and not review.force_response_on:
                raise _refuse("action", "Record the force's response to the recommendations first")


@service
def record_outcome(
    user: User | None, complaint_id: UUID | str, *, outcome: str, notice_on: date
) -> Complaint:
    complaint = _locked_complaint(complaint_id)
    _refuse_commissioner_complaint(complaint)
    _table(complaint).check(
        complaint.status, ComplaintStatus.OUTCOME_NOTIFIED, permissions.roles_of(user)
    )
    if outcome not in Outcome.values:
        raise _refuse("outcome", "Choose the outcome")
    _not_future("notice_on", notice_on, "The notice date")
    _not_before(
        "notice_on",
        notice_on,
        complaint.received_on,
        "The outcome notice cannot be before the complaint was received",
    )
    _not_before(
        "notice_on",
        notice_on,
        complaint.handled_on,
        "The outcome notice cannot be before the complaint was handled",
    )
    complaint.outcome = outcome
    complaint.outcome_notice_on = notice_on
    _move(complaint, ComplaintStatus.OUTCOME_NOTIFIED, user)
    complaint.save()
    _alteration(user, COMPLAINT, complaint.pk, ("outcome", "outcome_notice_on", "status"))
    return complaint


@service
def record_update(
    user: User | None, complaint_id: UUID | str, *, sent_on: date, method: str
) -> ComplainantUpdate:
    complaint = _locked_complaint(complaint_id)
    if complaint.status == ComplaintStatus.CLOSED:
        raise _refuse(None, "The complaint is closed")
    if method not in UpdateMethod.values:
        raise _refuse("method", "Choose how the update was given")
    _not_future("sent_on", sent_on, "The update date")
    _not_before(
        "sent_on",
        sent_on,
        complaint.received_on,
        "An update cannot be before the complaint was received",
    )
    update = ComplainantUpdate.objects.create(
        complaint=complaint, sent_on=sent_on, method=method, recorded_by=user
    )
    _alteration(user, COMPLAINT, complaint.pk, ("updates",), sent_on=sent_on.isoformat())
    return update


INVESTIGABLE_STATES = (ComplaintStatus.RECORDED, ComplaintStatus.IOPC_REFERRED)


@service
def record_investigation(
    user: User | None, complaint_id: UUID | str, *, started_on: date
) -> Complaint:
    """The complaint is to be investigated (Sch 3 para 6): from now PCMR 2020 reg 13's
    overdue-investigation reports apply to it. Not for complaints handled outside Sch 3."""
    complaint = _locked_complaint(complaint_id)
    _refuse_commissioner_complaint(complaint)
    if complaint.status not in INVESTIGABLE_STATES:
        raise _refuse(None, "Only a complaint recorded under Schedule 3 and not yet handled")
    if complaint.investigation_started_on is not None:
        raise _refuse(None, "The investigation is already recorded")
    _not_future("started_on", started_on, "The date")
    _not_before(
        "started_on",
        started_on,
        complaint.received_on,
        "The investigation cannot start before the complaint was received",
    )
    complaint.investigation_started_on = started_on
    complaint.save(update_fields=["investigation_started_on"])
    _alteration(user, COMPLAINT, complaint.pk, ("investigation_started_on",))
    return complaint


# Dates a step on a complaint about the Commissioner cannot precede: (field, its label).
_COMMISSIONER_EARLIER = {
    "panel_outcome": ("panel_forwarded_on", "the complaint went to the panel"),
    "notify": ("panel_outcome_on", "the panel decided"),
}


@service
def take_commissioner_step(
    user: User | None,
    complaint_id: UUID | str,
    step: str,
    *,
    on: date,
    grounds: str = "",
    panel_reference: str = "",
    panel_outcome: str = "",
) -> Complaint:
    """One step of this office on a complaint about the Commissioner (ELPB Regs 2012,
    workflow.COMMISSIONER_COMPLAINT_TRANSITIONS): record or not, refer to the IOPC, forward to
    the police and crime panel, record the outcome the panel reports (the panel's decision:
    this office records it), tell the complainant, close."""
    complaint = _locked_complaint(complaint_id)
    if not complaint.against_commissioner:
        raise _refuse(None, "Only a complaint about the Commissioner takes these steps")
    target = workflow.commissioner_step_target(complaint.status, step)
    if target is None:
        raise _refuse(None, "That step cannot be taken on this complaint now")
    data = {
        "grounds": grounds.strip(),
        "panel_reference": panel_reference.strip(),
        "panel_outcome": panel_outcome,
    }
    _table(complaint).check(complaint.status, target, permissions.roles_of(user), data)
    if panel_outcome and panel_outcome not in PanelOutcome.values:
        raise _refuse("panel_outcome", "Choose the outcome the panel reported")
    _not_future("on", on, "The date")
    _not_before("on", on, complaint.received_on, "The date cannot be before it was received")
    if step in _COMMISSIONER_EARLIER:
        field, what = _COMMISSIONER_EARLIER[step]
        _not_before("on", on, getattr(complaint, field), f"The date cannot be before {what}")
    changed = _apply_commissioner_step(complaint, step, on, data)
    _move(complaint, target, user, data["grounds"][:300])
    complaint.save()
    details: dict[str, Any] = {"to": target, "step": step}
    if step == "panel_outcome":
        details["decided_by"] = AppropriateAuthority.POLICE_AND_CRIME_PANEL.value
    _alteration(user, COMPLAINT, complaint.pk, ("status", *changed), **details)
    return complaint


def _apply_commissioner_step(
    complaint: Complaint, step: str, on: date, data: Mapping[str, str]
) -> tuple[str, ...]:
    """Set the dates and facts `step` records; the fields changed."""
    if step == "refer":
        complaint.iopc_referred_on = on
        return ("iopc_referred_on",)
    if step in ("forward", "referred_back"):
        complaint.panel_forwarded_on = on
        complaint.panel_reference = data["panel_reference"]
        return ("panel_forwarded_on", "panel_reference")
    if step == "panel_outcome":
        complaint.panel_outcome = data["panel_outcome"]
        complaint.panel_outcome_on = on
        return ("panel_outcome", "panel_outcome_on")
    if step in ("notify", "tell_not_recorded"):
        complaint.outcome_notice_on = on
        return ("outcome_notice_on",)
    if step == "close":
        complaint.closed_on = on
        return ("closed_on",)
    return ()


def _deadline_or_refuse(complaint: Complaint, paused: int, extension: int, reason: str) -> Any:
    try:
        return review_deadline(complaint, paused, extension, reason or None)
    except ValueError as error:
        raise _refuse(
            "extension_reason", "An extension needs a reason (special circumstances)"
        ) from error


@service
def record_review_application(
    user: User | None,
    complaint_id: UUID | str,
    *,
    received_on: date,
    forwarded_days: int = 0,
    extension_days: int = 0,
    extension_reason: str = "",
) -> ReviewApplication:
    complaint = _locked_complaint(complaint_id)
    if complaint.review_body == ReviewBody.IOPC:
        raise _refuse(
            None,
            "The IOPC is the relevant review body for this complaint: forward the application "
            "to the IOPC and tell the applicant (Sch 3 para 32)",
        )
    _table(complaint).check(complaint.status, ComplaintStatus.REVIEW_WINDOW)
    assert complaint.outcome_notice_on is not None
    _not_future("received_on", received_on, "The date received")
    _not_before(
        "received_on",
        received_on,
        complaint.outcome_notice_on,
        "A review application cannot be received before the outcome notice",
    )
    if forwarded_days < 0 or extension_days < 0:
        raise _refuse("forwarded_days", "Days cannot be negative")
    deadline = _deadline_or_refuse(complaint, forwarded_days, extension_days, extension_reason)
    review = ReviewApplication.objects.create(
        complaint=complaint,
        received_on=received_on,
        forwarded_days=forwarded_days,
        extension_days=extension_days,
        extension_reason=extension_reason.strip(),
        due_on=deadline.due,
        in_time=is_in_time(deadline, received_on),
    )
    _move(complaint, ComplaintStatus.REVIEW_WINDOW, user, review.timeliness)
    complaint.save()
    ledger.record(
        actor=user,
        action=Action.COLLECTION,
        object_type=REVIEW,
        object_id=review.pk,
        fields=("received_on", "due_on", "in_time", "extension_reason"),
        details={"complaint": complaint.reference, "in_time": review.in_time},
    )
    return review


def _locked_review(review_id: UUID | str) -> ReviewApplication:
    return (
        ReviewApplication.objects.select_for_update().select_related("complaint").get(pk=review_id)
    )


@service
def extend_review(
    user: User | None, review_id: UUID | str, *, extension_days: int, reason: str
) -> ReviewApplication:
    """Special-circumstances extension (reg 29): recomputes the deadline and the timeliness."""
    review = _locked_review(review_id)
    if review.status != ReviewStatus.RECEIVED:
        raise _refuse(None, "Only an undetermined application can be extended")
    if extension_days < 1:
        raise _refuse("extension_days", "Enter the number of days of the extension")
    if not reason.strip():
        raise _refuse("reason", "An extension needs a reason (special circumstances)")
    deadline = _deadline_or_refuse(review.complaint, review.forwarded_days, extension_days, reason)
    review.extension_days = extension_days
    review.extension_reason = reason.strip()
    review.due_on = deadline.due
    review.in_time = is_in_time(deadline, review.received_on)
    review.save()
    _alteration(
        user, REVIEW, review.pk, ("extension_days", "extension_reason", "due_on", "in_time")
    )
    return review


@service
def refuse_review_out_of_time(user: User | None, review_id: UUID | str) -> ReviewApplication:
    review = _locked_review(review_id)
    workflow.REVIEW_TRANSITIONS.check(review.status, ReviewStatus.REFUSED_OUT_OF_TIME)
    if review.in_time:
        raise _refuse(None, "This application is in time: determine it")
    review.status = ReviewStatus.REFUSED_OUT_OF_TIME
    review.save()
    complaint = _locked_complaint(review.complaint_id)
    _move(complaint, ComplaintStatus.CLOSED, user, "Review application refused: out of time")
    complaint.closed_on = today()
    complaint.save()
    _alteration(user, REVIEW, review.pk, ("status",), to=review.status)
    return review


@service
def determine_review(
    user: User | None,
    review_id: UUID | str,
    *,
    determined_on: date,
    reasonable_and_proportionate: bool,
    recommendations: str = "",
) -> ReviewApplication:
    review = _locked_review(review_id)
    workflow.REVIEW_TRANSITIONS.check(review.status, ReviewStatus.DETERMINED)
    if not review.in_time:
        raise _refuse(
            None,
            "The application is out of time: record an extension for special circumstances, "
            "or refuse it, before determining it",
        )
    _not_future("determined_on", determined_on, "The determination date")
    _not_before(
        "determined_on",
        determined_on,
        review.received_on,
        "The review cannot be determined before the application was received",
    )
    if not reasonable_and_proportionate and not recommendations.strip():
        raise _refuse(
            "recommendations",
            "Give the recommendations: the outcome was found not reasonable and proportionate",
        )
    review.status = ReviewStatus.DETERMINED
    review.determined_on = determined_on
    review.reasonable_and_proportionate = reasonable_and_proportionate
    review.recommendations = recommendations.strip()
    review.save()
    complaint = _locked_complaint(review.complaint_id)
    _move(
        complaint,
        ComplaintStatus.REVIEW_DETERMINED,
        user,
        "Reasonable and proportionate"
        if reasonable_and_proportionate
        else "Not reasonable and proportionate",
    )
    complaint.save()
    _alteration(
        user,
        REVIEW,
        review.pk,
        ("determined_on", "reasonable_and_proportionate", "recommendations"),
    )
    return review


@service
def record_force_response(
    user: User | None, review_id: UUID | str, *, response: str, response_on: date
) -> ReviewApplication:
    review = _locked_review(review_id)
    if review.status != ReviewStatus.DETERMINED or not review.recommendations:
        raise _refuse(None, "Only a determined review with recommendations has a force response")
    if review.force_response_on:
        raise _refuse(None, "The force's response is already recorded")
    if not response.strip():
        raise _refuse("response", "Enter the force's response")
    _not_future("response_on", response_on, "The response date")
    _not_before(
        "response_on",
        response_on,
        review.determined_on,
        "The response cannot be before the review was determined",
    )
    review.force_response = response.strip()
    review.force_response_on = response_on
    review.save()
    complaint = _locked_complaint(review.complaint_id)
    _move(complaint, ComplaintStatus.RECOMMENDATION_RESPONSE, user)
    complaint.save()
    _alteration(user, REVIEW, review.pk, ("force_response", "force_response_on"))
    return review


# ---------------------------------------------------------------------------------------------
# Panel registers and misconduct hearings


@service
def add_panel_member(
    user: User | None,
    *,
    name: str,
    kind: str,
    term_start: date,
    term_end: date,
    eligible: bool = True,
    qualifications: str = "",
    relevant_qualifications: bool = False,
) -> PanelMember:
    if not name.strip():
        raise _refuse("name", "Enter the name")
    if kind not in MemberKind.values:
        raise _refuse("kind", "Choose the register")
    if term_end <= term_start:
        raise _refuse("term_end", "The term must end after it starts")
    position = PanelMember.objects.filter(kind=kind).aggregate(top=Max("rota_position"))["top"] or 0
    member = PanelMember.objects.create(
        name=name.strip(),
        kind=kind,
        term_start=term_start,
        term_end=term_end,
        eligible=eligible,
        qualifications=qualifications.strip(),
        relevant_qualifications=relevant_qualifications and kind == MemberKind.INDEPENDENT,
        rota_position=position + 1,
    )
    ledger.record(
        actor=user,
        action=Action.COLLECTION,
        object_type=PANEL_MEMBER,
        object_id=member.pk,
        fields=("name", "kind", "term_start", "term_end", "eligible"),
    )
    return member


@service
def declare_interest(
    user: User | None,
    member_id: UUID | str,
    *,
    subject: str,
    description: str = "",
    declared_on: date,
) -> DeclaredInterest:
    member = PanelMember.objects.get(pk=member_id)
    if not subject.strip():
        raise _refuse("subject", "Enter the officer reference or force the interest concerns")
    _not_future("declared_on", declared_on, "The declaration date")
    interest = DeclaredInterest.objects.create(
        member=member,
        subject=subject.strip(),
        description=description.strip(),
        declared_on=declared_on,
    )
    _alteration(user, PANEL_MEMBER, member.pk, ("interests",))
    return interest


@service
def record_training(
    user: User | None, member_id: UUID | str, *, completed_on: date, expires_on: date
) -> PanelMember:
    """Record the member's training and when it lapses (the draw skips a lapsed member)."""
    member = PanelMember.objects.select_for_update().get(pk=member_id)
    _not_future("completed_on", completed_on, "The training date")
    if expires_on <= completed_on:
        raise _refuse("expires_on", "Training must expire after it was completed")
    member.training_completed_on = completed_on
    member.training_expires_on = expires_on
    member.save(update_fields=["training_completed_on", "training_expires_on"])
    _alteration(user, PANEL_MEMBER, member.pk, ("training_completed_on", "training_expires_on"))
    return member


@service
def record_unavailability(
    user: User | None, member_id: UUID | str, *, starts_on: date, ends_on: date, reason: str = ""
) -> Unavailability:
    member = PanelMember.objects.get(pk=member_id)
    if ends_on < starts_on:
        raise _refuse("ends_on", "The end date must be on or after the start date")
    absence = Unavailability.objects.create(
        member=member, starts_on=starts_on, ends_on=ends_on, reason=reason.strip()
    )
    _alteration(user, PANEL_MEMBER, member.pk, ("absences",))
    return absence


@service
def create_hearing(
    user: User | None,
    *,
    officer_reference: str,
    force: str,
    referral_date: date,
    senior_officer: bool = False,
    chief_rank: bool = False,
) -> MisconductHearing:
    errors = {}
    if not officer_reference.strip():
        errors["officer_reference"] = "Enter the officer's reference"
    if not force.strip():
        errors["force"] = "Enter the force"
    if referral_date > today():
        errors["referral_date"] = "The referral date cannot be in the future"
    if errors:
        raise ValidationError(errors)
    senior_officer = senior_officer or chief_rank  # chief ranks are senior officers
    try:
        model = config.panel_model_for(
            referral_date, config.officer_rank(senior_officer, chief_rank)
        )
    except LookupError as error:
        raise _refuse("referral_date", str(error)) from error
    hearing = MisconductHearing.objects.create(
        reference=_next_reference(MisconductHearing, "MIS", referral_date.year),
        officer_reference=officer_reference.strip(),
        force=force.strip(),
        referral_date=referral_date,
        senior_officer=senior_officer,
        chief_rank=chief_rank,
        panel_model=model.code,
    )
    ledger.record(
        actor=user,
        action=Action.COLLECTION,
        object_type=HEARING,
        object_id=hearing.pk,
        fields=("officer_reference", "force", "referral_date"),
        details={"panel_model": model.code},
    )
    return hearing


def _rekey_panel_model(hearing: MisconductHearing, notice_on: date) -> None:
    """The model follows the fact the transitional provision keys on (config.PANEL_MODEL_KEY):
    once the reg 30 notice date is known, and before anyone is appointed, re-select by it."""
    if config.PANEL_MODEL_KEY.fact != "reg30_notice" or hearing.appointments.exists():
        return
    rank = config.officer_rank(hearing.senior_officer, hearing.chief_rank)
    hearing.panel_model = config.panel_model_for(notice_on, rank).code


HEARING_FACTS = {
    "response": "Officer's reg 31(2) response given",
    "decision_supplied": "Written decision supplied to the officer",
}


@service
def record_hearing_fact(
    user: User | None, hearing_id: UUID | str, *, fact: str, on: date
) -> MisconductHearing:
    """Record a date a statutory clock runs from: the officer's actual reg 31(2) response
    (witness lists, reg 31(4)) or the written decision supplied (notice of appeal)."""
    hearing = MisconductHearing.objects.select_for_update().get(pk=hearing_id)
    if fact not in HEARING_FACTS:
        raise _refuse("fact", "Choose what happened")
    _not_future("on", on, "The date")
    if fact == "response":
        if hearing.status not in (HearingStatus.NOTICE, HearingStatus.RESPONSE_DUE):
            raise _refuse("fact", "The officer responds after the notice and before the hearing")
        _not_before("on", on, hearing.notice_on, "The response cannot be before the notice")
        hearing.response_on = on
    else:
        if hearing.outcome_on is None:
            raise _refuse("fact", "Record the outcome before the written decision")
        _not_before("on", on, hearing.outcome_on, "The decision cannot be before the outcome")
        hearing.decision_supplied_on = on
    field = "response_on" if fact == "response" else "decision_supplied_on"
    hearing.save(update_fields=[field])
    _alteration(user, HEARING, hearing.pk, (field,), on=on.isoformat())
    return hearing


@service
def advance_hearing(
    user: User | None, hearing_id: UUID | str, *, to: str, on: date, outcome: str = ""
) -> MisconductHearing:
    hearing = MisconductHearing.objects.select_for_update().get(pk=hearing_id)
    if to not in HearingStatus.values:
        raise _refuse("to", "Choose the next stage")
    workflow.HEARING_TRANSITIONS.check(hearing.status, to)
    _not_before("on", on, hearing.referral_date, "The date cannot be before the referral")
    if to == HearingStatus.NOTICE:
        _not_future("on", on, "The notice date")
        hearing.notice_on = on
        _rekey_panel_model(hearing, on)
    elif to == HearingStatus.HEARING:
        if not hearing.appointments.exists():
            raise _refuse("to", "Appoint the panel before the hearing")
        _not_before("on", on, hearing.notice_on, "The hearing cannot be before the notice")
        hearing.hearing_on = on
    elif to == HearingStatus.OUTCOME:
        if not outcome.strip():
            raise _refuse("outcome", "Enter the outcome")
        _not_before("on", on, hearing.hearing_on, "The outcome cannot be before the hearing")
        hearing.outcome = outcome.strip()
        hearing.outcome_on = on
    hearing.status = to
    hearing.save()
    _alteration(user, HEARING, hearing.pk, ("status",), to=to, on=on.isoformat())
    return hearing


@service
def appoint_panel(
    user: User | None,
    hearing_id: UUID | str,
    *,
    method: str,
    nominees: Mapping[str, str],
    seed: int | None = None,
) -> list[PanelAppointment]:
    """Fill every seat of the hearing's panel model; nothing is saved if any seat cannot be."""
    hearing = MisconductHearing.objects.select_for_update().get(pk=hearing_id)
    if hearing.appointments.exists():
        raise _refuse(None, "The panel is already appointed")
    if method not in (SelectionMethod.ROTA, SelectionMethod.RANDOM):
        raise _refuse("method", "Choose rota or random draw")
    model = config.panel_model(hearing.panel_model)
    errors = {
        seat.code: f"Enter the {seat.label.lower()}"
        for seat in model.nominated_seats
        if not (nominees.get(seat.code) or "").strip()
    }
    if errors:
        raise ValidationError(errors)
    if method == SelectionMethod.RANDOM and seed is None:
        seed = secrets.randbelow(2**31)
    on = hearing.hearing_on or today()
    appointments = [
        PanelAppointment(
            hearing=hearing,
            seat=seat.code,
            nominee_name=nominees[seat.code].strip(),
            method=SelectionMethod.NOMINATED,
            explanation=f"Nominated by the force as {seat.label.lower()}.",
            appointed_by=user,
        )
        for seat in model.nominated_seats
    ]
    taken: list[PanelMember] = []
    starts: dict[str, int] = {}
    independent_codes = [seat.code for seat in model.drawn_seats if seat.source == "independent"]
    for seat in model.drawn_seats:
        pool = list(
            PanelMember.objects.filter(kind=seat.source)
            .prefetch_related("interests", "absences")
            .order_by("rota_position")
        )
        if seat.source not in starts:
            starts[seat.source] = panels.rota_start(pool)
        try:
            pick = panels.draw(
                pool,
                hearing,
                on,
                method=method,
                seed=seed,
                start=starts[seat.source],
                taken=taken,
                seat_label=seat.label,
                need_qualified=_needs_qualified(model, seat.code, independent_codes, taken),
            )
        except panels.NoneAvailable as error:
            raise _refuse("method", str(error)) from error
        taken.append(pick.member)
        starts[seat.source] = (pool.index(pick.member) + 1) % len(pool)
        appointments.append(
            PanelAppointment(
                hearing=hearing,
                seat=seat.code,
                member=pick.member,
                method=pick.method,
                rota_position=pick.rota_position,
                seed=pick.seed,
                explanation=f"{seat.label}: {pick.explanation}",
                appointed_by=user,
            )
        )
    for appointment in appointments:
        appointment.save()
    ledger.record(
        actor=user,
        action=Action.ALTERATION,
        object_type=HEARING,
        object_id=hearing.pk,
        fields=("panel",),
        details={"method": method, "seed": seed, "model": model.code},
    )
    return appointments


def _needs_qualified(
    model: config.PanelModel, seat: str, independent_codes: list[str], taken: list[PanelMember]
) -> bool:
    """The last independent seat must go to a qualified member if none drawn so far is one."""
    if not model.qualified_independent_required or not independent_codes:
        return False
    if seat != independent_codes[-1]:
        return False
    return not any(m.relevant_qualifications for m in taken if m.kind == MemberKind.INDEPENDENT)


@service
def appoint_member(
    user: User | None, hearing_id: UUID | str, *, seat: str, member_id: UUID | str, reason: str
) -> PanelAppointment:
    """Put a named register member in a seat (replacing a drawn appointee), with a reason."""
    hearing = MisconductHearing.objects.select_for_update().get(pk=hearing_id)
    model = config.panel_model(hearing.panel_model)
    seats = {s.code: s for s in model.drawn_seats}
    if seat not in seats:
        raise _refuse("seat", "Choose a seat filled from a register")
    if not reason.strip():
        raise _refuse("reason", "Give the reason for choosing by name")
    member = PanelMember.objects.filter(pk=member_id, kind=seats[seat].source).first()
    if member is None:
        raise _refuse("member", f"Choose a member of the {seats[seat].source} register")
    others = [a.member for a in hearing.appointments.exclude(seat=seat) if a.member]
    need_qualified = (
        model.qualified_independent_required
        and seats[seat].source == "independent"
        and not any(m.relevant_qualifications for m in others if m.kind == MemberKind.INDEPENDENT)
    )
    problems = panels.problems_for(
        member, hearing, hearing.hearing_on or today(), others, need_qualified
    )
    if problems:
        raise _refuse("member", f"{member.name} cannot sit: {'; '.join(problems)}")
    hearing.appointments.filter(seat=seat).delete()
    appointment = PanelAppointment.objects.create(
        hearing=hearing,
        seat=seat,
        member=member,
        method=SelectionMethod.MANUAL,
        rota_position=member.rota_position,
        explanation=f"{seats[seat].label}: chosen by name. Reason: {reason.strip()}",
        appointed_by=user,
    )
    _alteration(user, HEARING, hearing.pk, ("panel",), seat=seat, method="manual")
    return appointment


# ---------------------------------------------------------------------------------------------
# Police appeals tribunals


@service
def create_tribunal(
    user: User | None,
    *,
    appellant_reference: str,
    notice_received_on: date,
    hearing_id: UUID | str | None = None,
    senior_officer_appellant: bool = False,
    chair_name: str = "",
    senior_member_name: str = "",
    lay_member_name: str = "",
    lay_member_never_police: bool = False,
    home_office_member_name: str = "",
    hearing_on: date | None = None,
) -> PoliceAppealTribunal:
    errors = {}
    if not appellant_reference.strip():
        errors["appellant_reference"] = "Enter the appellant's reference"
    if notice_received_on > today():
        errors["notice_received_on"] = "The notice date cannot be in the future"
    if senior_officer_appellant and lay_member_name.strip():
        errors["lay_member_name"] = (
            "A senior officer's tribunal has no lay member: its third member is from the Home "
            "Office (Police Act 1996 Sch 6 para 1(1)(c))"
        )
    if not senior_officer_appellant and home_office_member_name.strip():
        errors["home_office_member_name"] = (
            "Only a senior officer's tribunal has a Home Office member (Sch 6 para 1(1)(c))"
        )
    if lay_member_name.strip() and not lay_member_never_police:
        errors["lay_member_never_police"] = (
            "Confirm the lay member has never been police, police staff, a PCC or PCC staff"
        )
    if hearing_on is not None and hearing_on < notice_received_on:
        errors["hearing_on"] = "The tribunal cannot sit before the notice of appeal"
    if errors:
        raise ValidationError(errors)
    hearing = None
    if hearing_id:
        hearing = MisconductHearing.objects.select_for_update().filter(pk=hearing_id).first()
        if hearing is None:
            raise _refuse("hearing", "No such misconduct case")
        _not_before(
            "notice_received_on",
            notice_received_on,
            hearing.outcome_on,
            "The appeal cannot be before the misconduct outcome",
        )
    tribunal = PoliceAppealTribunal.objects.create(
        reference=_next_reference(PoliceAppealTribunal, "PAT", notice_received_on.year),
        hearing=hearing,
        appellant_reference=appellant_reference.strip(),
        senior_officer_appellant=senior_officer_appellant,
        notice_received_on=notice_received_on,
        chair_name=chair_name.strip(),
        senior_member_name=senior_member_name.strip(),
        lay_member_name=lay_member_name.strip(),
        lay_member_never_police=lay_member_never_police,
        home_office_member_name=home_office_member_name.strip(),
        hearing_on=hearing_on,
    )
    if hearing is not None and hearing.status == HearingStatus.APPEAL_WINDOW:
        hearing.status = HearingStatus.PAT
        hearing.save()
    ledger.record(
        actor=user,
        action=Action.COLLECTION,
        object_type=TRIBUNAL,
        object_id=tribunal.pk,
        fields=("appellant_reference", "notice_received_on", "members"),
    )
    return tribunal


def _missing_members(tribunal: PoliceAppealTribunal) -> list[str]:
    """Police Act 1996 Sch 6: three members in every case. Para 1(1) (senior officer): a chair
    from the Lord Chancellor's list, HMCIC or an HMI, and the Home Office permanent secretary
    or a director they nominate; para 2(1): a chair, a senior officer and a lay person."""
    members = {"chair": tribunal.chair_name}
    if tribunal.senior_officer_appellant:
        members["HMCIC or an HMI"] = tribunal.senior_member_name
        members["Home Office member"] = tribunal.home_office_member_name
    else:
        members["senior officer member"] = tribunal.senior_member_name
        members["lay member"] = tribunal.lay_member_name
    return [role for role, name in members.items() if not name.strip()]


@service
def determine_tribunal(
    user: User | None, tribunal_id: UUID | str, *, determination: str, determined_on: date
) -> PoliceAppealTribunal:
    tribunal = PoliceAppealTribunal.objects.select_for_update().get(pk=tribunal_id)
    if tribunal.determination:
        raise _refuse(None, "The tribunal has already determined this appeal")
    if determination not in Determination.values:
        raise _refuse("determination", "Choose the determination")
    if determination != Determination.WITHDRAWN and (missing := _missing_members(tribunal)):
        raise _refuse(
            None,
            "Appoint every tribunal member before recording a determination (missing: "
            + ", ".join(missing)
            + ")",
        )
    _not_future("determined_on", determined_on, "The determination date")
    _not_before(
        "determined_on",
        determined_on,
        tribunal.hearing_on or tribunal.notice_received_on,
        "The determination cannot be before the tribunal sat",
    )
    tribunal.determination = determination
    tribunal.determined_on = determined_on
    tribunal.save()
    _alteration(user, TRIBUNAL, tribunal.pk, ("determination", "determined_on"))
    return tribunal


# ---------------------------------------------------------------------------------------------
# Pension forfeiture


@service
def create_forfeiture(
    user: User | None,
    *,
    officer_reference: str,
    offence: str,
    ground: str,
    conviction_on: date,
    scheme: str = PensionScheme.PPS_1987,
) -> PensionForfeiture:
    errors = {}
    if not officer_reference.strip():
        errors["officer_reference"] = "Enter the officer's reference"
    if not offence.strip():
        errors["offence"] = "Enter the offence"
    if ground not in ForfeitureGround.values:
        errors["ground"] = "Choose the ground"
    if scheme not in PensionScheme.values:
        errors["scheme"] = "Choose the pension scheme"
    if conviction_on > today():
        errors["conviction_on"] = "The conviction date cannot be in the future"
    if errors:
        raise ValidationError(errors)
    forfeiture = PensionForfeiture.objects.create(
        reference=_next_reference(PensionForfeiture, "PEN", conviction_on.year),
        officer_reference=officer_reference.strip(),
        offence=offence.strip(),
        ground=ground,
        scheme=scheme,
        conviction_on=conviction_on,
    )
    ledger.record(
        actor=user,
        action=Action.COLLECTION,
        object_type=FORFEITURE,
        object_id=forfeiture.pk,
        fields=("officer_reference", "offence", "ground", "scheme", "conviction_on"),
    )
    return forfeiture


def check_percentage(value: object, limit: config.ForfeitureLimit) -> Decimal:
    try:
        percentage = Decimal(str(value))
    except (InvalidOperation, ValueError) as error:
        raise _refuse("percentage", "Enter the percentage as a number") from error
    if not percentage.is_finite() or percentage <= 0:
        raise _refuse("percentage", "The percentage must be more than 0")
    if percentage > limit.max_percent:
        raise _refuse(
            "percentage",
            f"The percentage cannot be more than {limit.max_percent}% ({limit.citation})",
        )
    return percentage.quantize(Decimal("0.01"))


def _scheme_limit(case: PensionForfeiture, on: date) -> config.ForfeitureLimit:
    try:
        return config.forfeiture_limit(case.scheme, on)
    except LookupError as error:
        raise _refuse("on", str(error)) from error


def _decide_forfeiture(
    case: PensionForfeiture,
    on: date,
    percentage: object,
    permanent: bool,
    duration_months: int | None,
    gmp_preserved: bool,
) -> None:
    limit = _scheme_limit(case, on)
    case.percentage = check_percentage(percentage, limit)
    if limit.protects_gmp and not gmp_preserved:
        raise _refuse(
            "gmp_preserved",
            "Check that the part forfeited leaves the guaranteed minimum pension in payment",
        )
    if not permanent and not duration_months:
        raise _refuse("duration_months", "Give the duration in months, or make it permanent")
    case.permanent = permanent
    case.duration_months = None if permanent else duration_months
    case.gmp_preserved = gmp_preserved
    case.decision_on = on


def _check_certificate_route(case: PensionForfeiture, to: str) -> None:
    """Only an offence connected with service needs the Secretary of State's certificate."""
    needs = case.ground in config.CERTIFICATE_GROUNDS
    if to == ForfeitureStatus.HO_CERTIFICATE and not needs:
        raise _refuse("to", "No Home Office certificate is needed on this ground")
    if (
        to == ForfeitureStatus.FORFEITURE_DECISION
        and case.status == ForfeitureStatus.PSA_DECISION
        and needs
    ):
        raise _refuse(
            "to", "An offence connected with service needs the Home Office certificate first"
        )


@service
def forfeiture_step(
    user: User | None,
    forfeiture_id: UUID | str,
    *,
    to: str,
    on: date,
    percentage: object = None,
    permanent: bool = True,
    duration_months: int | None = None,
    appeal_outcome: str = "",
    gmp_preserved: bool = False,
) -> PensionForfeiture:
    case = PensionForfeiture.objects.select_for_update().get(pk=forfeiture_id)
    if to not in ForfeitureStatus.values:
        raise _refuse("to", "Choose the next step")
    workflow.FORFEITURE_TRANSITIONS.check(case.status, to)
    _check_certificate_route(case, to)
    _not_future("on", on, "The date")
    previous = {
        ForfeitureStatus.PSA_DECISION: case.conviction_on,
        ForfeitureStatus.HO_CERTIFICATE: case.psa_decision_on,
        ForfeitureStatus.FORFEITURE_DECISION: case.certificate_issued_on or case.psa_decision_on,
        ForfeitureStatus.APPEAL: case.decision_on,
        ForfeitureStatus.IMPLEMENTED: case.appeal_lodged_on or case.decision_on,
    }[ForfeitureStatus(to)]
    _not_before("on", on, previous, "The date cannot be before the previous step")
    if to == ForfeitureStatus.PSA_DECISION:
        case.psa_decision_on = on
    elif to == ForfeitureStatus.HO_CERTIFICATE:
        case.certificate_issued_on = on
    elif to == ForfeitureStatus.FORFEITURE_DECISION:
        _decide_forfeiture(case, on, percentage, permanent, duration_months, gmp_preserved)
    elif to == ForfeitureStatus.APPEAL:
        case.appeal_lodged_on = on
    elif to == ForfeitureStatus.IMPLEMENTED:
        if case.status == ForfeitureStatus.APPEAL:
            if not appeal_outcome.strip():
                raise _refuse("appeal_outcome", "Record the outcome of the appeal")
            case.appeal_outcome = appeal_outcome.strip()
            if percentage not in (None, ""):
                case.percentage = check_percentage(percentage, _scheme_limit(case, on))
        case.implemented_on = on
    case.status = to
    case.save()
    _alteration(user, FORFEITURE, case.pk, ("status",), to=to, on=on.isoformat())
    return case


# ------------------------------------------------------------------------ deadline reminders


def oversight_staff() -> list[User]:
    return [u for u in User.objects.filter(is_active=True) if u.can_use(Module.OVERSIGHT)]


def send_deadline_reminders(on: date | None = None) -> int:
    """Remind each oversight officer of statutory deadlines coming due on records they may see,
    once per threshold (config.reminder_thresholds, in working days) per deadline: a later run,
    or one that finds a tighter threshold already reached, sends nothing twice. Returns how
    many reminders were sent."""
    on = on or today()
    thresholds = config.reminder_thresholds()
    if not thresholds:
        return 0
    sent = 0
    for person in oversight_staff():
        for item in selectors.deadlines_due(person, thresholds[0], on):
            if item.overdue or item.due is None or item.working_days_left is None:
                continue
            sent += _remind(person, item, [t for t in thresholds if item.working_days_left <= t])
    return sent


@service
def _remind(person: User, item: selectors.DueItem, reached: list[int]) -> int:
    """One reminder for the tightest threshold reached, unless already sent; every threshold
    reached is recorded so that a wider one is never sent after a tighter one."""
    due = item.due
    if due is None:  # reviews to determine have no statutory limit to remind of
        return 0
    done = set(
        DeadlineReminder.objects.filter(user=person, deadline_key=item.key, due_on=due).values_list(
            "threshold", flat=True
        )
    )
    if min(reached) in done:
        return 0
    DeadlineReminder.objects.bulk_create(
        [
            DeadlineReminder(user=person, deadline_key=item.key, due_on=due, threshold=t)
            for t in reached
            if t not in done
        ]
    )
    days = item.working_days_left
    when = "today" if days == 0 else f"in {days} working day{'s' if days != 1 else ''}"
    notifications.notify(
        person,
        AlertCategory.DEADLINE,
        item.reference,
        f"{item.title} on {item.reference} is due {when} ({due:%d %b %Y}).",
        item.link,
    )
    return 1


# ---------------------------------------------------------------------------------------------
# Ownership: who a complaint or review application is assigned to


def _caseworker(assignee_id: int | str | None, complaint: Complaint) -> User:
    """The person to assign: an active oversight caseworker cleared to see the complaint."""
    try:
        if assignee_id is None or assignee_id == "":
            raise User.DoesNotExist
        person = User.objects.get(pk=assignee_id)
    except (User.DoesNotExist, ValueError, TypeError) as missing:
        raise _refuse("assignee", "Choose an oversight caseworker") from missing
    if not permissions.is_caseworker(person):
        raise _refuse("assignee", "Only an oversight caseworker can be assigned")
    if not selectors.complaints_for(person).filter(pk=complaint.pk).exists():
        raise _refuse("assignee", "This caseworker is not cleared to see the complaint")
    return person


def _assign(
    user: User,
    complaint: Complaint,
    current: User | None,
    assignee_id: int | str | None,
    reason: str,
    *,
    review: ReviewApplication | None = None,
) -> User:
    if not permissions.may_assign(user):
        raise _refuse(None, "Only an oversight manager can assign work")
    person = _caseworker(assignee_id, complaint)
    reason = (reason or "").strip()
    if current is not None and current.pk == person.pk:
        raise _refuse("assignee", f"It is already assigned to {person.get_username()}")
    if current is not None and not reason:
        raise _refuse("reason", "Give the reason for reassigning it")
    Assignment.objects.create(
        complaint=complaint,
        review=review,
        assignee=person,
        previous=current,
        reason=reason,
        by=user,
    )
    what = "review application" if review else "complaint"
    ledger.record(
        actor=user,
        action=Action.ALTERATION,
        object_type=REVIEW if review else COMPLAINT,
        object_id=review.pk if review else complaint.pk,
        fields=("assignee",),
        justification=reason,
        details={
            "assignee": person.pk,
            "previous": current.pk if current else None,
            "state": "reassigned" if current else "assigned",
        },
    )
    notifications.notify(
        person,
        AlertCategory.DECISION,
        complaint.reference,
        f"The {what} on {complaint.reference} is now assigned to you.",
        f"/oversight/complaints/{complaint.pk}/",
    )
    return person


@service
def assign_complaint(
    user: User, complaint_id: UUID | str, *, assignee_id: int | str | None, reason: str = ""
) -> Complaint:
    """Give the complaint to a caseworker; reassigning needs a reason. The new owner is told."""
    complaint = _locked_complaint(complaint_id)
    if complaint.status == ComplaintStatus.CLOSED:
        raise _refuse(None, "The complaint is closed")
    complaint.assignee = _assign(user, complaint, complaint.assignee, assignee_id, reason)
    complaint.save(update_fields=["assignee"])
    return complaint


@service
def assign_review(
    user: User, review_id: UUID | str, *, assignee_id: int | str | None, reason: str = ""
) -> ReviewApplication:
    review = ReviewApplication.objects.select_for_update().get(pk=review_id)
    complaint = review.complaint
    if review.status != ReviewStatus.RECEIVED:
        raise _refuse(None, "This application has already been dealt with")
    review.assignee = _assign(user, complaint, review.assignee, assignee_id, reason, review=review)
    review.save(update_fields=["assignee"])
    return review


# ---------------------------------------------------------------------------------------------
# Notes and correspondence (encrypted, ledgered like casework)


def _note_review(complaint: Complaint, review_id: UUID | str | None) -> ReviewApplication | None:
    if not review_id:
        return None
    review = complaint.reviews.filter(pk=review_id).first()
    if review is None:
        raise _refuse("review", "That review application is not on this complaint")
    return review


def _save_note(user: User | None, note: ComplaintNote) -> ComplaintNote:
    note.save(force_insert=True)
    ledger.record(
        actor=user,
        action=Action.COLLECTION,
        object_type=COMPLAINT,
        object_id=note.complaint_id,
        fields=("notes.text", "notes.party") if note.party else ("notes.text",),
        details={"note": str(note.pk), "kind": note.kind},
    )
    return note


@service
def add_note(
    user: User | None,
    complaint_id: UUID | str,
    *,
    text: str,
    review_id: UUID | str | None = None,
) -> ComplaintNote:
    complaint = _locked_complaint(complaint_id)
    if not (text or "").strip():
        raise _refuse("text", "Enter the note")
    return _save_note(
        user,
        ComplaintNote(
            complaint=complaint,
            review=_note_review(complaint, review_id),
            kind=NoteKind.NOTE,
            text=text.strip(),
            on=today(),
            author=user,
        ),
    )


@service
def record_correspondence(
    user: User | None,
    complaint_id: UUID | str,
    *,
    direction: str,
    on: date,
    party: str,
    method: str,
    text: str,
    review_id: UUID | str | None = None,
) -> ComplaintNote:
    """A letter, e-mail, call or meeting with a party, sent or received on a date. No letter
    due date is set: no regulation found gives one for correspondence generally."""
    complaint = _locked_complaint(complaint_id)
    errors: dict[str, str] = {}
    if direction not in Direction.values:
        errors["direction"] = "Choose whether it was sent or received"
    if method not in CorrespondenceMethod.values:
        errors["method"] = "Choose how it was sent or received"
    if not (party or "").strip():
        errors["party"] = "Enter who it was with"
    if not (text or "").strip():
        errors["text"] = "Summarise the correspondence"
    if on > today():
        errors["on"] = "The date cannot be in the future"
    elif on < complaint.received_on:
        errors["on"] = "The date cannot be before the complaint was received"
    if errors:
        raise ValidationError(errors)
    return _save_note(
        user,
        ComplaintNote(
            complaint=complaint,
            review=_note_review(complaint, review_id),
            kind=NoteKind.CORRESPONDENCE,
            direction=direction,
            party=party.strip(),
            method=method,
            on=on,
            text=text.strip(),
            author=user,
        ),
    )


# ---------------------------------------------------------------------------------------------
# Documents (the core checks type and size and seals the bytes; bound to the complaint)


@service
def upload_document(
    user: User,
    complaint_id: UUID | str,
    *,
    title: str,
    filename: str,
    data: bytes,
    review_id: UUID | str | None = None,
) -> ComplaintDocument:
    """A document on a complaint the user may see (or one of its review applications): the
    content is checked (size, type by content), encrypted by the vault and the upload ledgered
    as an alteration of the complaint's file. A refusal stores nothing."""
    complaint = _locked_complaint(selectors.find_complaint(user, complaint_id).pk)
    errors: dict[str, str] = {}
    if not (title or "").strip():
        errors["title"] = "Give the document a title"
    elif len(title.strip()) > 300:
        errors["title"] = "The title must be 300 characters or fewer"
    if file_error := documents.size_error(data):
        errors["file"] = file_error
    if errors:
        raise ValidationError(errors)
    review = _note_review(complaint, review_id)
    checked = documents.check_upload(data, filename)
    document = ComplaintDocument(
        complaint=complaint,
        review=review,
        title=title.strip(),
        uploaded_by=user,
        **checked.model_fields(),
    )
    # A new document is data collected, as a casework upload or a complaint note is.
    documents.store_sealed(
        document,
        data,
        lambda: ledger.record(
            actor=user,
            action=Action.COLLECTION,
            object_type=COMPLAINT,
            object_id=complaint.pk,
            fields=("documents.title", "documents.filename", "documents.content"),
            details={
                "document": str(document.pk),
                "review": str(review.pk) if review else None,
                "sha256": document.sha256,
                "size": document.size,
            },
        ),
    )
    return document


# ---------------------------------------------------------------------------------------------
# Holding the chief officer to account: meetings, decisions, actions


@service
def create_meeting(user: User | None, *, kind: str, title: str, held_on: date) -> GovernanceMeeting:
    errors: dict[str, str] = {}
    if kind not in MeetingKind.values:
        errors["kind"] = "Choose the kind of meeting"
    if not (title or "").strip():
        errors["title"] = "Enter the meeting's title"
    if errors:
        raise ValidationError(errors)
    meeting = GovernanceMeeting.objects.create(
        reference=_next_reference(GovernanceMeeting, "GOV", held_on.year),
        kind=kind,
        title=title.strip()[:200],
        held_on=held_on,
        created_by=user,
    )
    ledger.record(
        actor=user,
        action=Action.COLLECTION,
        object_type=GOVERNANCE,
        object_id=meeting.pk,
        fields=("kind", "title", "held_on"),
        details={"reference": meeting.reference},
    )
    return meeting


@service
def record_decision(
    user: User | None, meeting_id: UUID | str, *, summary: str, decided_on: date
) -> GovernanceDecision:
    meeting = GovernanceMeeting.objects.select_for_update().get(pk=meeting_id)
    if not (summary or "").strip():
        raise _refuse("summary", "Enter the decision")
    _not_before("decided_on", decided_on, meeting.held_on, "A decision cannot precede its meeting")
    decision = GovernanceDecision.objects.create(
        meeting=meeting, summary=summary.strip()[:500], decided_on=decided_on, recorded_by=user
    )
    _alteration(user, GOVERNANCE, meeting.pk, ("decisions",), decision=decision.pk)
    return decision


@service
def add_action(
    user: User | None,
    meeting_id: UUID | str,
    *,
    description: str,
    owner_id: int | str | None,
    due_on: date,
    decision_id: int | str | None = None,
) -> GovernanceAction:
    meeting = GovernanceMeeting.objects.select_for_update().get(pk=meeting_id)
    errors: dict[str, str] = {}
    if not (description or "").strip():
        errors["description"] = "Enter the action"
    owner = User.objects.filter(pk=owner_id).first() if owner_id else None
    if owner is None or not permissions.may_own_actions(owner):
        errors["owner"] = "Choose a member of oversight staff to own the action"
    if due_on < meeting.held_on:
        errors["due_on"] = "The due date cannot be before the meeting"
    decision = None
    if decision_id:
        decision = meeting.decisions.filter(pk=decision_id).first()
        if decision is None:
            errors["decision"] = "That decision is not from this meeting"
    if errors:
        raise ValidationError(errors)
    assert owner is not None
    action = GovernanceAction.objects.create(
        meeting=meeting,
        decision=decision,
        description=description.strip()[:500],
        owner=owner,
        due_on=due_on,
    )
    _alteration(user, GOVERNANCE, meeting.pk, ("actions",), action=action.pk, owner=owner.pk)
    if user is None or owner.pk != user.pk:
        notifications.notify(
            owner,
            AlertCategory.DECISION,
            meeting.reference,
            f"Action from {meeting.reference} assigned to you, due {due_on:%d %b %Y}.",
            f"/oversight/governance/{meeting.pk}/",
        )
    return action


@service
def complete_action(user: User, action_id: int | str, *, completed_on: date) -> GovernanceAction:
    action = (
        GovernanceAction.objects.select_for_update().select_related("meeting").get(pk=action_id)
    )
    if action.status == ActionStatus.DONE:
        raise _refuse(None, "The action is already done")
    if action.owner_id != user.pk and not permissions.may_assign(user):
        raise _refuse(None, "Only the action's owner or an oversight manager can complete it")
    _not_future("completed_on", completed_on, "The date")
    _not_before(
        "completed_on", completed_on, action.meeting.held_on, "It cannot be done before the meeting"
    )
    action.status = ActionStatus.DONE
    action.completed_on = completed_on
    action.save(update_fields=["status", "completed_on"])
    _alteration(user, GOVERNANCE, action.meeting_id, ("actions",), action=action.pk, state="done")
    return action


def notify_overdue_actions(on: date | None = None) -> int:
    """Tell each owner of an open governance action past its due date, once per due date
    (DeadlineReminder, threshold 0). Run by the scheduler (schedule.py)."""
    on = on or today()
    sent = 0
    for action in GovernanceAction.objects.filter(
        status=ActionStatus.OPEN, due_on__lt=on
    ).select_related("meeting", "owner"):
        sent += _remind_overdue_action(action)
    return sent


@service
def _remind_overdue_action(action: GovernanceAction) -> int:
    key = f"governance-action:{action.pk}"
    _, created = DeadlineReminder.objects.get_or_create(
        user=action.owner, deadline_key=key, due_on=action.due_on, threshold=0
    )
    if not created or not action.owner.is_active:
        return 0
    notifications.notify(
        action.owner,
        AlertCategory.DEADLINE,
        action.meeting.reference,
        f"Your action from {action.meeting.reference} was due {action.due_on:%d %b %Y} "
        "and is overdue.",
        f"/oversight/governance/{action.meeting_id}/",
    )
    return 1


# ---------------------------------------------------------------------------------------------
# Appeals tribunal members from the panel-member register

TRIBUNAL_SEATS: Mapping[str, tuple[str, str]] = {
    # seat: (register kind, what the seat is)
    "chair": (MemberKind.LEGAL, "chair"),
    "lay": (MemberKind.INDEPENDENT, "lay member"),
}


@service
def seat_tribunal_member(
    user: User | None,
    tribunal_id: UUID | str,
    *,
    seat: str,
    member_id: UUID | str | None,
    never_police: bool = False,
) -> PoliceAppealTribunal:
    """Seat a tribunal's chair or lay member from the register (not typed in): the member's
    appointment term, training, availability and declared interests on the sitting date are
    checked (panels.register_problems), as for a misconduct panel."""
    tribunal = PoliceAppealTribunal.objects.select_for_update().get(pk=tribunal_id)
    if seat not in TRIBUNAL_SEATS:
        raise _refuse("seat", "Choose the chair or the lay member")
    kind, what = TRIBUNAL_SEATS[seat]
    if tribunal.determination:
        raise _refuse(None, "The tribunal has determined the appeal")
    if seat == "lay" and tribunal.senior_officer_appellant:
        raise _refuse(
            "seat",
            "A senior officer's tribunal has no lay member: its third member is from the Home "
            "Office (Police Act 1996 Sch 6 para 1(1)(c))",
        )
    member = PanelMember.objects.filter(pk=member_id, kind=kind).first() if member_id else None
    if member is None:
        raise _refuse("member", f"Choose the {what} from the register")
    if seat == "lay" and not never_police:
        raise _refuse(
            "never_police",
            "Confirm the lay member has never been police, police staff, a PCC or PCC staff",
        )
    on = tribunal.hearing_on or today()
    subjects = [tribunal.appellant_reference]
    if tribunal.hearing is not None:
        subjects += [tribunal.hearing.officer_reference, tribunal.hearing.force]
    other = tribunal.lay_member if seat == "chair" else tribunal.chair_member
    problems = panels.register_problems(
        member, subjects, on, taken=[other] if other is not None else []
    )
    if problems:
        raise _refuse("member", f"{member.name} cannot sit on {on:%d %B %Y}: {'; '.join(problems)}")
    if seat == "chair":
        tribunal.chair_member, tribunal.chair_name = member, member.name
        fields = ["chair_member", "chair_name"]
    else:
        tribunal.lay_member, tribunal.lay_member_name = member, member.name
        tribunal.lay_member_never_police = True
        fields = ["lay_member", "lay_member_name", "lay_member_never_police"]
    tribunal.save(update_fields=fields)
    _alteration(user, TRIBUNAL, tribunal.pk, fields, member=str(member.pk), seat=seat)
    return tribunal
