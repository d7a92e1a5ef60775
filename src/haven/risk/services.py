"""Risk writes: one function per business action, each one transaction with its ledger entry.

Bad input raises ValidationError (field -> message) and changes nothing; a role that may not
take the action raises PermissionDenied; a record the user may not see raises a 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from haven import revisions
from haven.access import policy
from haven.access.models import TeamRole
from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.audit import ledger
from haven.audit.models import Action
from haven.cases import selectors as case_selectors
from haven.cases import services as case_services
from haven.cases.selectors import find_visible_case
from haven.concurrency.locking import ConflictError, conflict, ensure_version
from haven.concurrency.transactions import service
from haven.notifications import services as notifications
from haven.notifications.models import AlertCategory
from haven.revisions import (
    RevisionAction,
    apply_changes,
    refuse_unknown_fields,
    require_reason,
)

from . import config, permissions
from .models import (
    ASSESSMENT_TRANSITIONS,
    EDITABLE,
    MEASURE_TRANSITIONS,
    OPEN,
    AssessmentEvent,
    DecisionLogEntry,
    MeasureStatus,
    MeasureStatusChange,
    MeasureType,
    Notice,
    NoticeDecision,
    NoticeKind,
    ProtectiveMeasure,
    RiskAssessment,
    RiskRevision,
    Status,
    Threat,
    Vulnerability,
)
from .selectors import (
    ASSESSMENT_OBJECT,
    AWAITING_ACTION,
    CASE_OBJECT,
    RiskRecordNotFound,
    assessment_team,
    find_assessment,
    find_measure,
    find_risk_item,
)

MAX_TEXT = 10_000
THRIVE_FIELDS = (
    "thrive_threat",
    "thrive_harm",
    "thrive_risk",
    "thrive_investigation",
    "thrive_vulnerability",
    "thrive_engagement",
)
OSMAN_FIELDS = {
    "osman_real_immediate": "Record why the risk to life is real and immediate",
    "osman_identified_individual": "Record the identified individual (or individuals) at risk",
    "osman_third_party": "Record the criminal acts of a third party the risk comes from",
}
SCORE_FIELDS = ("likelihood", "impact", "residual_likelihood", "residual_impact")
ASSESSMENT_FIELDS = (*THRIVE_FIELDS, *SCORE_FIELDS, "threat_to_life", *OSMAN_FIELDS)
ASSESSMENT_FIELDS += ("social_services_informed",)
DRAFTING_ROLES = permissions.DRAFTING_ROLES
REVIEW_PURPOSE = "risk_review"


# --------------------------------------------------------------------------- checks


def require_drafter(actor: User) -> None:
    permissions.require_drafter(actor)


def team_roles(actor: User, case_id: UUID) -> set[str]:
    return policy.team_roles(actor, CASE_OBJECT, case_id)


def check_score(errors: dict[str, str], name: str, value: Any, label: str) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            errors[name] = f"Enter the {label} as a whole number from 1 to 5"
            return None
    if value not in config.SCALE:
        errors[name] = f"The {label} must be from 1 to 5"
        return None
    return int(value)


def check_text(errors: dict[str, str], name: str, value: Any, required: str = "") -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors[name] = required
    elif len(text) > MAX_TEXT:
        errors[name] = f"Keep this under {MAX_TEXT:,} characters"
    return text


def clean_assessment(data: dict[str, Any]) -> dict[str, Any]:
    """Validate the assessment's own fields; raise every problem at once."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name in THRIVE_FIELDS:
        clean[name] = check_text(errors, name, data.get(name))
    labels = {
        "likelihood": "likelihood",
        "impact": "impact",
        "residual_likelihood": "likelihood after controls",
        "residual_impact": "impact after controls",
    }
    for name, label in labels.items():
        clean[name] = check_score(errors, name, data.get(name), label)
    clean["threat_to_life"] = bool(data.get("threat_to_life"))
    clean["social_services_informed"] = bool(data.get("social_services_informed"))
    for name, message in OSMAN_FIELDS.items():
        clean[name] = check_text(
            errors, name, data.get(name), message if clean["threat_to_life"] else ""
        )
    if errors:
        raise ValidationError(errors)
    return clean


def score(assessment: RiskAssessment) -> None:
    """Score and band from the configured scheme (kept with the version that scored it)."""
    if not assessment.scheme_code:
        scheme = config.current_scheme(timezone.localdate())
        assessment.scheme_code, assessment.scheme_version = scheme.code, scheme.version
    scheme = config.scheme(assessment.scheme_code, assessment.scheme_version)
    assessment.score = assessment.likelihood * assessment.impact
    assessment.residual_score = assessment.residual_likelihood * assessment.residual_impact
    assessment.band = scheme.band_for(assessment.score).code
    assessment.residual_band = scheme.band_for(assessment.residual_score).code


def event(assessment: RiskAssessment, action: str, actor: User, comments: str = "") -> None:
    AssessmentEvent(assessment=assessment, action=action, by=actor, comments=comments).save(
        force_insert=True
    )


def tell(users: list[User], actor: User, assessment: RiskAssessment, what: str) -> None:
    """Notify `users` (never the actor) about this version: the link opens it on the case."""
    reference = assessment.case.reference
    notifications.notify_each(
        [user for user in dict.fromkeys(users) if user != actor],
        AlertCategory.ASSESSMENT,
        reference,
        f"Risk assessment v{assessment.number} on {reference} {what}",
        f"/risk/assessments/{assessment.pk}/",
    )


def hand_off(actor: User, assessment: RiskAssessment) -> None:
    """The version now waits for the next approver (selectors.AWAITING_ACTION): tell them."""
    team_role, role, action = AWAITING_ACTION[assessment.status]
    approvers = [
        user
        for user in assessment_team(assessment.case_id, team_role, role)
        if user.pk != assessment.author_id
    ]
    tell(approvers, actor, assessment, f"awaits you: {action.lower()} ({actor} sent it on).")


def log(actor: User, action: str, assessment: RiskAssessment, fields: Any, why: str) -> None:
    ledger.record(
        actor=actor,
        action=action,
        object_type=ASSESSMENT_OBJECT,
        object_id=assessment.pk,
        case_id=assessment.case_id,
        fields=fields,
        justification=why,
        details={"version": assessment.number, "status": assessment.status},
    )


# --------------------------------------------------------------------------- assessments


@service
def start_assessment(actor: User, case_id: UUID | str, **data: Any) -> RiskAssessment:
    """A new draft version. Fields not given are carried over from the latest version, together
    with its threats, vulnerabilities and notices; the older versions are never changed."""
    case = find_visible_case(actor, case_id)
    require_drafter(actor)
    latest = RiskAssessment.objects.filter(case=case).order_by("-number").first()
    if latest is not None and latest.status in OPEN:
        raise ValidationError(
            f"Version {latest.number} is still {latest.get_status_display().lower()}: "
            "finish it before starting another version"
        )
    base: dict[str, Any] = {}
    if latest is not None:
        base = {name: getattr(latest, name) for name in ASSESSMENT_FIELDS}
    base.update({k: v for k, v in data.items() if k in ASSESSMENT_FIELDS})
    unknown = set(data) - set(ASSESSMENT_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    clean = clean_assessment(base)
    assessment = RiskAssessment(
        case=case,
        number=(latest.number + 1) if latest else 1,
        supersedes=latest,
        author=actor,
        classification=case.classification,
        sensitive=case.sensitive,
        descriptors=case.descriptors,
        **clean,
    )
    score(assessment)
    assessment.save(force_insert=True)
    if latest is not None:
        copy_content(latest, assessment)
    event(assessment, "created", actor)
    log(
        actor,
        Action.COLLECTION,
        assessment,
        ASSESSMENT_FIELDS,
        f"risk assessment v{assessment.number} drafted",
    )
    return assessment


# A threat's fields a person may set or correct (its reference is given by next_ref).
THREAT_FIELDS = (
    "source",
    "capability",
    "intent",
    "linked_people",
    "likelihood",
    "impact",
    "residual_likelihood",
    "residual_impact",
)
# What a new version of an assessment copies from the one before it.
THREAT_COPIED = ("ref", *THREAT_FIELDS)
NOTICE_COPIED = ("kind", "decision", "recipient", "served_by", "served_at", "withheld_reason")


def copy_content(source: RiskAssessment, target: RiskAssessment) -> None:
    copies: tuple[tuple[Any, Iterable[Any], tuple[str, ...]], ...] = (
        (Threat, source.current_threats, THREAT_COPIED),
        (Vulnerability, source.current_vulnerabilities, ("description",)),
        (Notice, source.notices.all(), NOTICE_COPIED),
    )
    for model, rows, fields in copies:
        model.objects.bulk_create(
            model(assessment=target, **{name: getattr(row, name) for name in fields})
            for row in rows
        )


def editable_assessment(actor: User, assessment_id: UUID | str) -> RiskAssessment:
    assessment = find_assessment(actor, assessment_id)
    require_drafter(actor)
    if not permissions.may_edit_assessment(actor, assessment):
        if assessment.status in (Status.APPROVED, Status.ENDORSED, Status.SUPERSEDED):
            raise ValidationError(
                f"Version {assessment.number} is {assessment.get_status_display().lower()} and "
                "cannot be changed: start a new version instead"
            )
        raise ValidationError(
            f"Version {assessment.number} is {assessment.get_status_display().lower()}: "
            "it can be changed only after it is returned"
        )
    return assessment


@service
def update_assessment(
    actor: User, assessment_id: UUID | str, *, version: int, **data: Any
) -> RiskAssessment:
    assessment = editable_assessment(actor, assessment_id)
    refuse_unknown_fields(data, ASSESSMENT_FIELDS, here=True)
    merged = {name: getattr(assessment, name) for name in ASSESSMENT_FIELDS}
    merged.update(data)
    clean = clean_assessment(merged)
    ensure_version(RiskAssessment, assessment.pk, version, "risk assessment")
    for name, value in clean.items():
        setattr(assessment, name, value)
    score(assessment)
    assessment.version = version + 1
    assessment.save()
    changed = [name for name in data if name in ASSESSMENT_FIELDS]
    log(actor, Action.ALTERATION, assessment, changed, "draft risk assessment changed")
    return assessment


def next_ref(case_id: UUID) -> str:
    refs = Threat.objects.filter(assessment__case_id=case_id).values_list("ref", flat=True)
    numbers = [int(ref[1:]) for ref in refs if ref[1:].isdigit()]
    return f"R{max(numbers, default=0) + 1}"


def clean_threat(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a threat's fields (a residual score left out is the score before controls);
    raise every problem at once."""
    errors: dict[str, str] = {}
    source = check_text(
        errors, "source", data.get("source"), "Say who or where the threat comes from"
    )
    capability = check_text(errors, "capability", data.get("capability"))
    intent = check_text(errors, "intent", data.get("intent"))
    linked_people = data.get("linked_people")
    if isinstance(linked_people, str):
        linked_people = [p.strip() for p in linked_people.replace("\n", ",").split(",")]
    people = [str(p).strip()[:200] for p in (linked_people or []) if str(p).strip()]
    scores = {
        "likelihood": check_score(errors, "likelihood", data.get("likelihood"), "likelihood"),
        "impact": check_score(errors, "impact", data.get("impact"), "impact"),
    }
    for name, before in (("residual_likelihood", "likelihood"), ("residual_impact", "impact")):
        value = data.get(name)
        if value in (None, ""):
            scores[name] = scores[before]
        else:
            scores[name] = check_score(
                errors, name, value, name.replace("_", " ") + " after controls"
            )
    if errors:
        raise ValidationError(errors)
    return {
        "source": source,
        "capability": capability,
        "intent": intent,
        "linked_people": people,
        **scores,
    }


@service
def add_threat(
    actor: User,
    assessment_id: UUID | str,
    *,
    source: str,
    capability: str = "",
    intent: str = "",
    linked_people: list[str] | str | None = None,
    likelihood: Any = None,
    impact: Any = None,
    residual_likelihood: Any = None,
    residual_impact: Any = None,
) -> Threat:
    assessment = editable_assessment(actor, assessment_id)
    clean = clean_threat(
        {
            "source": source,
            "capability": capability,
            "intent": intent,
            "linked_people": linked_people,
            "likelihood": likelihood,
            "impact": impact,
            "residual_likelihood": residual_likelihood,
            "residual_impact": residual_impact,
        }
    )
    threat = Threat(assessment=assessment, ref=next_ref(assessment.case_id), **clean)
    threat.save(force_insert=True)
    log(actor, Action.COLLECTION, assessment, ("threats",), f"threat {threat.ref} recorded")
    return threat


def clean_vulnerability(description: Any) -> str:
    errors: dict[str, str] = {}
    description = check_text(errors, "description", description, "Describe the vulnerability")
    if errors:
        raise ValidationError(errors)
    return description


@service
def add_vulnerability(actor: User, assessment_id: UUID | str, *, description: str) -> Vulnerability:
    assessment = editable_assessment(actor, assessment_id)
    vulnerability = Vulnerability(
        assessment=assessment, description=clean_vulnerability(description)
    )
    vulnerability.save(force_insert=True)
    log(actor, Action.COLLECTION, assessment, ("vulnerabilities",), "vulnerability recorded")
    return vulnerability


# --------------------------------------------------------------------------- corrections
#
# A threat or vulnerability is corrected, or ended (withdrawn, no longer applies), only while
# its assessment may be edited (permissions.may_edit_assessment: an approved or endorsed
# version is read-only), with the version read and a reason (haven.revisions). An ended one is
# kept on its version, shown apart, and not carried into the next version.


def changeable_item(
    actor: User, assessment_id: UUID | str, kind: str, item_id: UUID | str
) -> tuple[RiskAssessment, Any]:
    assessment = editable_assessment(actor, assessment_id)
    item = find_risk_item(assessment, kind, item_id)
    if item.ended_at is not None:
        raise ValidationError(f"This {kind} has been ended and can no longer be changed")
    return assessment, item


def revise_item(
    actor: User,
    assessment: RiskAssessment,
    kind: str,
    item: Any,
    *,
    version: int,
    reason: str,
    changes: dict[str, Any],
    action: str = RevisionAction.CORRECTED,
) -> None:
    revisions.revise(
        actor,
        item,
        RiskRevision(case_id=assessment.case_id, kind=kind, record_id=item.pk),
        version=version,
        reason=reason,
        changes=changes,
        object_type=kind,
        case_id=assessment.case_id,
        action=action,
    )
    case_services.notify_record_changed(actor, assessment.case, kind, action)


@service
def correct_threat(
    actor: User,
    assessment_id: UUID | str,
    threat_id: UUID | str,
    *,
    version: int,
    reason: str,
    **changes: Any,
) -> Threat:
    """Correct a threat's source, capability, intent, linked people or scores."""
    assessment, threat = changeable_item(actor, assessment_id, "threat", threat_id)
    refuse_unknown_fields(changes, THREAT_FIELDS)
    reason = require_reason(reason)
    clean = clean_threat({**{name: getattr(threat, name) for name in THREAT_FIELDS}, **changes})
    revise_item(
        actor,
        assessment,
        "threat",
        threat,
        version=version,
        reason=reason,
        changes={name: clean[name] for name in changes},
    )
    return threat


@service
def correct_vulnerability(
    actor: User,
    assessment_id: UUID | str,
    vulnerability_id: UUID | str,
    *,
    version: int,
    reason: str,
    description: str,
) -> Vulnerability:
    assessment, vulnerability = changeable_item(
        actor, assessment_id, "vulnerability", vulnerability_id
    )
    reason = require_reason(reason)
    revise_item(
        actor,
        assessment,
        "vulnerability",
        vulnerability,
        version=version,
        reason=reason,
        changes={"description": clean_vulnerability(description)},
    )
    return vulnerability


@service
def end_risk_item(
    actor: User,
    assessment_id: UUID | str,
    kind: str,
    item_id: UUID | str,
    *,
    version: int,
    reason: str,
) -> Any:
    """A threat withdrawn, or a vulnerability that no longer applies: kept, shown apart."""
    assessment, item = changeable_item(actor, assessment_id, kind, item_id)
    reason = require_reason(reason)
    revise_item(
        actor,
        assessment,
        kind,
        item,
        version=version,
        reason=reason,
        changes={"ended_at": timezone.now()},
        action=RevisionAction.ENDED,
    )
    return item


@service
def record_notice(
    actor: User,
    assessment_id: UUID | str,
    *,
    kind: str,
    decision: str,
    recipient: str,
    served_by: str = "",
    served_at: datetime | None = None,
    withheld_reason: str = "",
) -> Notice:
    """A Warning or Disruption notice: served (by whom and when) or withheld (and why)."""
    assessment = editable_assessment(actor, assessment_id)
    errors: dict[str, str] = {}
    if not assessment.threat_to_life:
        errors["kind"] = "Notices are recorded on a threat-to-life assessment: set the flag first"
    if kind not in NoticeKind.values:
        errors["kind"] = "Choose Warning or Disruption notice"
    recipient = check_text(errors, "recipient", recipient, "Say who the notice is for")
    served_by = check_text(errors, "served_by", served_by)
    withheld_reason = check_text(errors, "withheld_reason", withheld_reason)
    if decision == NoticeDecision.SERVED:
        if not served_by:
            errors["served_by"] = "Say who served the notice"
        if served_at is None:
            errors["served_at"] = "Say when the notice was served"
        elif served_at > timezone.now() + timedelta(minutes=5):
            errors["served_at"] = "The time served cannot be in the future"
        withheld_reason = ""
    elif decision == NoticeDecision.WITHHELD:
        if not withheld_reason:
            errors["withheld_reason"] = "Record why the notice was not served"
        served_by, served_at = "", None
    else:
        errors["decision"] = "Say whether the notice was served or not"
    if errors:
        raise ValidationError(errors)
    notice = Notice(
        assessment=assessment,
        kind=kind,
        decision=decision,
        recipient=recipient,
        served_by=served_by,
        served_at=served_at,
        withheld_reason=withheld_reason,
    )
    notice.save(force_insert=True)
    log(actor, Action.COLLECTION, assessment, ("notices",), f"{kind} notice {decision}")
    return notice


@service
def submit_assessment(actor: User, assessment_id: UUID | str) -> RiskAssessment:
    assessment = editable_assessment(actor, assessment_id)
    clean_assessment({name: getattr(assessment, name) for name in ASSESSMENT_FIELDS})
    moved = RiskAssessment.objects.filter(pk=assessment.pk, status__in=EDITABLE).update(
        status=Status.SUBMITTED, submitted_at=timezone.now(), version=F("version") + 1
    )
    if not moved:
        raise conflict("assessment")
    assessment.refresh_from_db()
    event(assessment, "submitted", actor)
    log(actor, Action.ALTERATION, assessment, ("status",), "submitted for approval")
    hand_off(actor, assessment)
    return assessment


def workflow_assessment(
    actor: User, assessment_id: UUID | str, role: str, team_role: str
) -> RiskAssessment:
    assessment = find_assessment(actor, assessment_id)
    if not actor.has_role(role) or team_role not in team_roles(actor, assessment.case_id):
        raise PermissionDenied(f"Only the case's {TeamRole(team_role).label.lower()} can do this")
    return assessment


@service
def approve_assessment(
    actor: User, assessment_id: UUID | str, comments: str = ""
) -> RiskAssessment:
    """A manager (never the author) approves: the version becomes current and its band sets
    the next review date; a review task is set on the case for that date."""
    assessment = workflow_assessment(
        actor, assessment_id, Role.PROTECTION_MANAGER, TeamRole.MANAGER
    )
    ASSESSMENT_TRANSITIONS.check(
        assessment.status,
        Status.APPROVED,
        message=f"Only a submitted assessment can be approved; version {assessment.number} is "
        f"{assessment.get_status_display().lower()}",
    )
    if assessment.author_id == actor.pk:
        raise ValidationError("You wrote this assessment: another manager must approve it")
    today = timezone.localdate()
    scheme = config.scheme(assessment.scheme_code, assessment.scheme_version)
    previous = RiskAssessment.objects.filter(case_id=assessment.case_id, is_current=True).first()
    now = timezone.now()
    if previous is not None:
        RiskAssessment.objects.filter(pk=previous.pk).update(
            is_current=False, status=Status.SUPERSEDED, superseded_at=now
        )
        event(previous, "superseded", actor, f"by version {assessment.number}")
        close_review_task(actor, previous, f"Superseded by version {assessment.number}")
    assessment.status = Status.APPROVED
    assessment.is_current = True
    assessment.replaced = previous
    assessment.approved_by, assessment.approved_at = actor, now
    days = scheme.review_days(assessment.band, assessment.threat_to_life)
    assessment.next_review_on = today + timedelta(days=days)
    assessment.version += 1
    assessment.save()
    open_review_task(actor, assessment)
    event(assessment, "approved", actor, check_text({}, "comments", comments))
    log(actor, Action.ALTERATION, assessment, ("status", "next_review_on"), "approved by manager")
    tell([assessment.author], actor, assessment, f"was approved by {actor}.")
    hand_off(actor, assessment)
    return assessment


def open_review_task(actor: User, assessment: RiskAssessment) -> None:
    """The review comes due as a casework task (cases.services.create_task, kind "review")."""
    if assessment.next_review_on is None:
        return
    band = assessment.band.replace("_", " ")
    owner = assessment.author
    if not team_roles(owner, assessment.case_id):
        owner = actor
    task = case_services.create_task(
        actor,
        assessment.case_id,
        title=f"Review risk assessment v{assessment.number} ({band} risk)",
        due_on=assessment.next_review_on,
        owner=owner,
        kind="review",
        details=f"Review date set by band ({assessment.scheme_code} v{assessment.scheme_version})",
    )
    RiskAssessment.objects.filter(pk=assessment.pk).update(review_task_id=task.pk)
    assessment.review_task_id = task.pk


def close_review_task(actor: User, assessment: RiskAssessment, response: str) -> None:
    if assessment.review_task_id is None:
        return
    try:
        task = case_selectors.get_record(
            actor, assessment.case_id, "task", assessment.review_task_id, REVIEW_PURPOSE
        )
        if task.status == "open":
            case_services.complete_task(
                actor, assessment.case_id, task.pk, version=task.version, response=response
            )
    except (case_selectors.CaseNotFound, ValidationError, ConflictError):
        pass  # the task was closed or removed by casework; the review date still stands here


@service
def endorse_assessment(
    actor: User, assessment_id: UUID | str, comments: str = ""
) -> RiskAssessment:
    assessment = workflow_assessment(
        actor, assessment_id, Role.AUTHORISING_OFFICER, TeamRole.AUTHORISING
    )
    ASSESSMENT_TRANSITIONS.check(
        assessment.status,
        Status.ENDORSED,
        message="A manager must approve this assessment before it is endorsed"
        if assessment.status in OPEN
        else f"Version {assessment.number} is {assessment.get_status_display().lower()}: "
        "only an approved version can be endorsed",
    )
    if assessment.author_id == actor.pk:
        raise ValidationError(
            "You wrote this assessment: another authorising officer must endorse it"
        )
    RiskAssessment.objects.filter(pk=assessment.pk).update(
        status=Status.ENDORSED,
        endorsed_by=actor,
        endorsed_at=timezone.now(),
        version=F("version") + 1,
    )
    assessment.refresh_from_db()
    event(assessment, "endorsed", actor, check_text({}, "comments", comments))
    log(actor, Action.ALTERATION, assessment, ("status",), "endorsed by authorising officer")
    tell([assessment.author], actor, assessment, f"was endorsed by {actor}.")
    return assessment


@service
def return_assessment(actor: User, assessment_id: UUID | str, comments: str) -> RiskAssessment:
    """Send a version back to its author with comments: a manager from "submitted", an
    authorising officer from "approved" (the previously current version is restored)."""
    assessment = find_assessment(actor, assessment_id)
    roles = team_roles(actor, assessment.case_id)
    as_manager = actor.has_role(Role.PROTECTION_MANAGER) and TeamRole.MANAGER in roles
    as_authoriser = actor.has_role(Role.AUTHORISING_OFFICER) and TeamRole.AUTHORISING in roles
    if not (as_manager or as_authoriser):
        raise PermissionDenied("Only the case's manager or authorising officer can return it")
    acting_as = {Role.PROTECTION_MANAGER} if as_manager else set()
    acting_as |= {Role.AUTHORISING_OFFICER} if as_authoriser else set()
    errors: dict[str, str] = {}
    comments = check_text(errors, "comments", comments, "Say what needs to change")
    rule = ASSESSMENT_TRANSITIONS.rule(assessment.status, Status.RETURNED)
    if rule is not None and rule.permits(acting_as):
        if assessment.status == Status.APPROVED:
            restore_previous(actor, assessment)
    else:
        errors.setdefault(
            "comments",
            f"Version {assessment.number} is {assessment.get_status_display().lower()}: a manager "
            "returns a submitted version, an authorising officer an approved one",
        )
    if errors:
        raise ValidationError(errors)
    RiskAssessment.objects.filter(pk=assessment.pk).update(
        status=Status.RETURNED, version=F("version") + 1
    )
    assessment.refresh_from_db()
    event(assessment, "returned", actor, comments)
    log(actor, Action.ALTERATION, assessment, ("status",), "returned with comments")
    tell([assessment.author], actor, assessment, f"was returned by {actor}: {comments}")
    return assessment


def restore_previous(actor: User, assessment: RiskAssessment) -> None:
    close_review_task(actor, assessment, "Returned by the authorising officer")
    RiskAssessment.objects.filter(pk=assessment.pk).update(
        is_current=False, next_review_on=None, review_task_id=None
    )
    previous = assessment.replaced
    if previous is not None:
        status = Status.ENDORSED if previous.endorsed_at else Status.APPROVED
        RiskAssessment.objects.filter(pk=previous.pk).update(
            is_current=True, status=status, superseded_at=None
        )
        previous.refresh_from_db()
        event(previous, "restored", actor, f"version {assessment.number} returned")
        open_review_task(actor, previous)


# --------------------------------------------------------------------------- measures


@service
def add_catalogue_measure(
    actor: User, *, code: str, name: str, description: str = ""
) -> MeasureType:
    permissions.require_manage_catalogue(actor)
    from django.utils.text import slugify

    errors: dict[str, str] = {}
    name = check_text(errors, "name", name, "Name the measure")[:100]
    code = slugify(code or name)[:40]
    if not code:
        errors.setdefault("code", "Give the measure a code")
    elif MeasureType.objects.filter(code=code).exists():
        errors["code"] = f"The catalogue already has a measure with the code {code}"
    if errors:
        raise ValidationError(errors)
    measure_type = MeasureType.objects.create(
        code=code, name=name, description=description.strip()[:300]
    )
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="measure_type",
        object_id=measure_type.code,
        fields=("code", "name", "description"),
        justification="catalogue of protective measures changed",
    )
    return measure_type


# Catalogue entries are corrected (name, description) or retired, never deleted: a retired
# measure is no longer offered for new measures, and the measures of that kind keep showing it.
CATALOGUE_CORRECTABLE = ("name", "description")


def locked_measure_type(code: str) -> MeasureType:
    try:
        return MeasureType.objects.select_for_update().get(code=code)
    except MeasureType.DoesNotExist as missing:
        raise RiskRecordNotFound("No such measure in the catalogue") from missing


@service
def correct_catalogue_measure(
    actor: User, code: str, *, version: int, reason: str, **changes: Any
) -> MeasureType:
    """Correct a catalogue entry's name or description with the version read and a reason."""
    permissions.require_manage_catalogue(actor)
    measure_type = locked_measure_type(code)
    refuse_unknown_fields(changes, CATALOGUE_CORRECTABLE)
    reason = require_reason(reason, "Say why the measure is being changed")
    errors: dict[str, str] = {}
    if "name" in changes:
        changes["name"] = check_text(errors, "name", changes["name"], "Name the measure")[:100]
    if "description" in changes:
        changes["description"] = str(changes["description"] or "").strip()[:300]
    if errors:
        raise ValidationError(errors)
    previous = apply_changes(measure_type, changes, version=version, what="catalogue measure")
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type="measure_type",
        object_id=measure_type.code,
        fields=sorted(previous),
        justification=reason,
        details={"version": version + 1, "change": "corrected", "was": previous},
    )
    return measure_type


@service
def retire_catalogue_measure(actor: User, code: str, *, version: int, reason: str) -> MeasureType:
    """Retire a catalogue entry: no longer offered for new measures; old ones keep it."""
    permissions.require_manage_catalogue(actor)
    measure_type = locked_measure_type(code)
    reason = require_reason(reason, "Say why the measure is being retired")
    if not measure_type.active:
        raise ValidationError("This measure is already retired")
    ensure_version(MeasureType, measure_type.pk, version, "catalogue measure", active=False)
    measure_type.active, measure_type.version = False, version + 1
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type="measure_type",
        object_id=measure_type.code,
        fields=("active",),
        justification=reason,
        details={"version": version + 1, "change": "retired"},
    )
    return measure_type


def parse_controls(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.replace(" ", ",").split(",")
    return sorted({str(v).strip().upper() for v in (value or []) if str(v).strip()})


@service
def add_measure(
    actor: User,
    case_id: UUID | str,
    *,
    measure_type: str,
    owner: User | None = None,
    details: str = "",
    controls: Any = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    cost_pence: int = 0,
    status: str = MeasureStatus.PROPOSED,
    reason: str = "",
) -> ProtectiveMeasure:
    case = find_visible_case(actor, case_id)
    require_drafter(actor)
    errors: dict[str, str] = {}
    kind = MeasureType.objects.filter(code=measure_type, active=True).first()
    if kind is None:
        errors["measure_type"] = "Choose a measure from the catalogue"
    details = check_text(errors, "details", details)
    refs = parse_controls(controls)
    known = set(Threat.objects.filter(assessment__case=case).values_list("ref", flat=True))
    unknown = [ref for ref in refs if ref not in known]
    if unknown:
        errors["controls"] = f"No risk {', '.join(unknown)} on this case's assessments"
    owner = owner or actor
    if not team_roles(owner, case.pk):
        errors["owner"] = "The owner must be on the case team"
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = "The end date must be on or after the start date"
    if not isinstance(cost_pence, int) or cost_pence < 0:
        errors["cost_pence"] = "Enter the cost as a positive amount"
    if status not in permissions.NEW_MEASURE_STATUSES:
        errors["status"] = "A new measure is proposed, agreed or in place"
    elif not permissions.may_add_measure_as(actor, status):
        errors["status"] = permissions.MANAGER_ONLY
    if errors:
        raise ValidationError(errors)
    measure = ProtectiveMeasure(
        case=case,
        measure_type=kind,
        details=details,
        controls=refs,
        owner=owner,
        status=status,
        starts_on=starts_on,
        ends_on=ends_on,
        cost_pence=cost_pence,
        created_by=actor,
    )
    measure.save(force_insert=True)
    MeasureStatusChange(
        measure=measure,
        from_status="",
        to_status=status,
        reason=reason.strip() or "Measure added to the package",
        changed_by=actor,
    ).save(force_insert=True)
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="protective_measure",
        object_id=measure.pk,
        case_id=case.pk,
        fields=("measure_type", "details", "controls", "owner", "status", "dates", "cost"),
        justification="protective measure added",
    )
    return measure


@service
def change_measure_status(
    actor: User, measure_id: UUID | str, *, status: str, reason: str, version: int
) -> ProtectiveMeasure:
    measure = find_measure(actor, measure_id)
    require_drafter(actor)
    errors: dict[str, str] = {}
    reason = check_text(errors, "reason", reason, "Give the reason for the change")
    rule = MEASURE_TRANSITIONS.rule(measure.status, status)
    if status not in MeasureStatus.values:
        errors["status"] = "Choose the new status"
    elif status == measure.status:
        errors["status"] = f"The measure is already {measure.get_status_display().lower()}"
    elif rule is None:  # ended or declined: nothing follows
        errors["status"] = f"The measure is {measure.get_status_display().lower()}: add a new one"
    elif not permissions.may_move_measure(actor, measure, status):
        errors["status"] = permissions.MANAGER_ONLY
    if errors:
        raise ValidationError(errors)
    ensure_version(ProtectiveMeasure, measure.pk, version, "measure")
    previous = measure.status
    ProtectiveMeasure.objects.filter(pk=measure.pk).update(status=status)
    today = timezone.localdate()
    if status == MeasureStatus.IN_PLACE and measure.starts_on is None:
        ProtectiveMeasure.objects.filter(pk=measure.pk).update(starts_on=today)
    if status == MeasureStatus.ENDED and measure.ends_on is None:
        ProtectiveMeasure.objects.filter(pk=measure.pk).update(ends_on=today)
    MeasureStatusChange(
        measure=measure, from_status=previous, to_status=status, reason=reason, changed_by=actor
    ).save(force_insert=True)
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type="protective_measure",
        object_id=measure.pk,
        case_id=measure.case_id,
        fields=("status",),
        justification=reason,
        details={"from": previous, "to": status},
    )
    measure.refresh_from_db()
    return measure


# --------------------------------------------------------------------------- decision log


@service
def record_decision(
    actor: User,
    case_id: UUID | str,
    *,
    decided_at: datetime | None,
    decision_maker: User | None,
    ndm_stage: str,
    decision: str,
    rationale: str,
    options_rejected: str = "",
    corrects: UUID | str | None = None,
) -> DecisionLogEntry:
    """Append one entry; a correction is a new entry that references the one it corrects."""
    case = find_visible_case(actor, case_id)
    if not actor.has_role(*DRAFTING_ROLES, Role.AUTHORISING_OFFICER):
        raise PermissionDenied("Your role does not write the decision log")
    errors: dict[str, str] = {}
    decision = check_text(errors, "decision", decision, "Record the decision")
    rationale = check_text(errors, "rationale", rationale, "Record the rationale")
    options_rejected = check_text(errors, "options_rejected", options_rejected)
    if ndm_stage not in dict(config.NDM_STAGES):
        errors["ndm_stage"] = "Choose the National Decision Model stage"
    now = timezone.now()
    if decided_at is None:
        errors["decided_at"] = "Enter when the decision was made"
    elif decided_at > now + timedelta(minutes=5):
        errors["decided_at"] = "The decision time cannot be in the future"
    decision_maker = decision_maker or actor
    if not team_roles(decision_maker, case.pk):
        errors["decision_maker"] = "The decision-maker must be on the case team"
    corrected = None
    if corrects:
        try:
            corrected = DecisionLogEntry.objects.get(case=case, pk=corrects)
        except (DecisionLogEntry.DoesNotExist, ValueError, ValidationError):
            errors["corrects"] = "The entry to correct is not in this case's log"
    if errors or decided_at is None:
        raise ValidationError(errors)
    for _attempt in range(5):
        sequence = (
            DecisionLogEntry.objects.filter(case=case).aggregate(n=Max("sequence"))["n"] or 0
        ) + 1
        entry = DecisionLogEntry(
            case=case,
            sequence=sequence,
            decided_at=decided_at,
            entered_at=now,
            decision_maker=decision_maker,
            author=actor,
            ndm_stage=ndm_stage,
            decision=decision,
            rationale=rationale,
            options_rejected=options_rejected,
            corrects=corrected,
        )
        try:
            with transaction.atomic():
                entry.save(force_insert=True)
            break
        except IntegrityError:
            continue  # someone else took the number: take the next one
    else:
        raise ConflictError("The decision log is busy: try again")
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="decision_log",
        object_id=entry.pk,
        case_id=case.pk,
        fields=("decision", "rationale", "options_rejected", "ndm_stage", "decided_at"),
        justification=f"decision log entry {entry.sequence}"
        + (f" correcting entry {corrected.sequence}" if corrected else ""),
    )
    return entry


def refuse_decision_edit(actor: User, entry_id: UUID | str) -> None:
    """Entries are never changed: say how to correct one instead."""
    from .selectors import find_entry

    entry = find_entry(actor, entry_id)
    raise ValidationError(
        f"Decision-log entry {entry.sequence} cannot be changed: record a new entry that "
        "corrects it"
    )
