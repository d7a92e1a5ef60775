"""Case writes. Each is one transaction that also writes its ledger entry."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from haven import revisions
from haven.access import policy
from haven.access.models import AccessGrant, GrantKind, TeamMembership, TeamRole
from haven.accounts.models import User
from haven.accounts.roles import Clearance, Role
from haven.audit import ledger, state
from haven.audit.models import Action
from haven.concurrency import references
from haven.concurrency.locking import ConflictError as ConflictError  # what callers catch
from haven.concurrency.locking import check_version, ensure_version
from haven.concurrency.transactions import service
from haven.notifications import services as notifications
from haven.notifications.models import AlertCategory
from haven.revisions import RevisionAction, refuse_unknown_fields, require_reason
from haven.timelimits.rules import compute_deadline
from haven.vault import documents
from haven.vault.blind_index import normalise_name
from haven.vault.fields import create_sealed

from . import config, permissions
from .models import (
    OBJECT_TYPE,
    Case,
    CaseLink,
    CaseStatus,
    CaseTask,
    ChecklistItem,
    ChecklistTemplate,
    ChecklistVersion,
    Concern,
    ContactEntry,
    ContactMethod,
    Decision,
    Document,
    IdentityRecord,
    JointProvider,
    Location,
    LocationKind,
    MayBeTold,
    Partner,
    PartnerRevision,
    Person,
    PersonRole,
    RecordRevision,
    Relationship,
    TaskKind,
    TaskStatus,
    Transfer,
    Urgency,
)
from .selectors import (
    CASE_LINK_TYPE,
    CHECKLIST_TYPE,
    PARTNER_TYPE,
    CaseNotFound,
    awaiting_deciders,
    case_for_management,
    checklist_applied,
    find_checklist,
    find_identity_case,
    find_partner,
    find_visible_case,
)


def next_reference() -> str:
    return references.next_reference(Case, "HVN", timezone.localdate().year, width=5)


def validate_dob(dob: date | None) -> None:
    if dob is not None and dob > timezone.localdate():
        raise ValidationError({"subject_dob": "Date of birth must be in the past"})


@service
def create_case(
    actor: User,
    *,
    subject_name: str,
    subject_dob: date | None = None,
    address: str = "",
    classification: int = Clearance.SECRET,
    lead: User | None = None,
    manager: User | None = None,
    authoriser: User | None = None,
    referring_organisation: str = "",
    referring_officer: str = "",
    threat_summary: str = "",
    urgency: str = Urgency.ROUTINE,
    received_at: datetime | None = None,
) -> Case:
    """Open a case at intake (status "referred"), with its principal person and team."""
    if not actor.has_role(Role.PROTECTION_OFFICER, Role.PROTECTION_MANAGER):
        raise ValidationError("Only protection officers and managers open cases")
    errors: dict[str, str] = {}
    if not subject_name.strip():
        errors["subject_name"] = "Enter the subject's name"
    if subject_dob is not None and subject_dob > timezone.localdate():
        errors["subject_dob"] = "Date of birth must be in the past"
    if urgency not in Urgency.values:
        errors["urgency"] = "Choose the urgency"
    if received_at is not None and received_at > timezone.now() + timedelta(minutes=5):
        errors["received_at"] = "The time the referral was received cannot be in the future"
    if classification > actor.effective_clearance:
        errors["classification"] = "You cannot mark a case above your own clearance"
    for label, user, role in (
        ("manager", manager, Role.PROTECTION_MANAGER),
        ("authoriser", authoriser, Role.AUTHORISING_OFFICER),
    ):
        if user is not None and not user.has_role(role):
            errors[label] = f"{user} does not hold the {Role(role).label.lower()} role"
        elif user is not None and user.effective_clearance < classification:
            errors[label] = f"{user} is not cleared to this classification"
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    case = Case(
        reference=next_reference(),
        subject_name=subject_name.strip(),
        subject_dob=subject_dob,
        address=address.strip(),
        classification=classification,
        referring_organisation=referring_organisation.strip(),
        referring_officer=referring_officer.strip(),
        threat_summary=threat_summary.strip() or None,
        urgency=urgency,
        received_at=received_at or now,
        status_changed_at=now,
    )
    case.save(force_insert=True)
    Person(
        case=case,
        role=PersonRole.PRINCIPAL,
        relationship=Relationship.SELF,
        full_name=case.subject_name,
        dob=subject_dob,
    ).save(force_insert=True)
    changes = [
        state.classification_change(OBJECT_TYPE, case),
        add_member(case, lead or actor, TeamRole.LEAD),
    ]
    if manager is not None:
        changes.append(add_member(case, manager, TeamRole.MANAGER))
    if authoriser is not None:
        changes.append(add_member(case, authoriser, TeamRole.AUTHORISING))
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        fields=(
            "subject_name",
            "subject_dob",
            "address",
            "classification",
            "referring_organisation",
            "referring_officer",
            "threat_summary",
            "urgency",
            "received_at",
        ),
        justification="referral received" if referring_organisation else "case opened",
        details={"state": changes},
    )
    return case


def add_member(case: Case, user: User, team_role: str) -> state.Change:
    """Put `user` on the case's team; returns the change for the caller's ledger entry
    (``details["state"]``), without which `haven audit verify --state` reports the row."""
    TeamMembership.objects.get_or_create(
        object_type=OBJECT_TYPE, object_id=case.pk, user=user, team_role=team_role
    )
    return state.team_change(OBJECT_TYPE, case.pk, user.pk, team_role)


# Each blind index of a case and the field it is computed from.
CASE_INDEXES = {"name_index": "subject_name", "dob_index": "subject_dob"}


@service
def update_case(
    actor: User, case_id: UUID | str, *, version: int, reason: str, **changes: object
) -> Case:
    """Change the case's protected fields; a stale `version` is refused, never overwritten."""
    case = find_visible_case(actor, case_id, for_update=True)
    allowed = {
        "subject_name",
        "subject_dob",
        "address",
        "threat_summary",
        "urgency",
        "referring_organisation",
        "referring_officer",
    }
    refuse_unknown_fields(changes, allowed, here=True)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the record is changing"})
    if "subject_dob" in changes:
        validate_dob(changes["subject_dob"])  # type: ignore[arg-type]
    if "subject_name" in changes and not str(changes["subject_name"] or "").strip():
        raise ValidationError({"subject_name": "Enter the subject's name"})
    if "urgency" in changes and changes["urgency"] not in Urgency.values:
        raise ValidationError({"urgency": "Choose the urgency"})
    check_version(case.version, version, "case")
    for name, value in changes.items():
        setattr(case, name, value)
    case.version = version + 1
    case.updated_at = timezone.now()
    # One UPDATE: the row is locked since it was read. A blind index is written only when its
    # source changed (computing one decrypts its source; key rotation re-indexes every row).
    stale_indexes = [index for index, source in CASE_INDEXES.items() if source in changes]
    case.save(update_fields=[*changes, *stale_indexes, "version", "updated_at"])
    if {"subject_name", "subject_dob"} & set(changes):
        principal = Person.objects.filter(case=case, role=PersonRole.PRINCIPAL).first()
        if principal is not None:
            principal.full_name = case.subject_name
            principal.dob = case.subject_dob
            principal.save()
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        fields=changes.keys(),
        justification=reason.strip(),
    )
    return case


@service
def add_team_member(actor: User, case_id: UUID | str, member: User, team_role: str) -> None:
    case = case_for_management(actor, case_id)
    permissions.require_colleague(member, case, team_role)
    change = add_member(case, member, team_role)
    ledger.record(
        actor=actor,
        action=Action.ACCESS_GRANT,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        recipients=[member.username],
        justification=f"added to team as {team_role}",
        details={"team_role": team_role, "state": [change]},
    )
    if member != actor:
        notifications.notify(
            member,
            AlertCategory.ACCESS,
            case.reference,
            f"{actor} added you to the team of {case.reference} as "
            f"{TeamRole(team_role).label.lower()}.",
            f"/cases/{case.pk}/",
        )


@service
def grant_access(
    actor: User, case_id: UUID | str, grantee: User, *, reason: str, days: int
) -> AccessGrant:
    case = case_for_management(actor, case_id)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason for the grant"})
    if not 1 <= days <= policy.MAX_GRANT_DAYS:
        raise ValidationError({"days": f"A grant lasts from 1 to {policy.MAX_GRANT_DAYS} days"})
    permissions.require_colleague(grantee, case)
    grant = create_sealed(
        AccessGrant,
        {"reason": reason.strip()},
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        user=grantee,
        kind=GrantKind.GRANT,
        granted_by=actor,
        expires_at=timezone.now() + timedelta(days=days),
    )
    ledger.record(
        actor=actor,
        action=Action.ACCESS_GRANT,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        recipients=[grantee.username],
        justification=reason.strip(),
        details={"expires_at": grant.expires_at.isoformat(), "state": [state.grant_change(grant)]},
    )
    notifications.notify(
        grantee,
        AlertCategory.ACCESS,
        case.reference,
        f"{actor} gave you access to {case.reference} until {grant.expires_at:%d %b %Y %H:%M}: "
        f"{reason.strip()}",
        f"/cases/{case.pk}/",
    )
    return grant


@service
def remove_team_member(
    actor: User, case_id: UUID | str, membership_id: int, *, reason: str
) -> TeamMembership:
    """Take one place on the team away (the manager's own last place stays: someone must
    manage the case). The person is told; the ledger records why."""
    case = case_for_management(actor, case_id)
    membership = find_membership(case, membership_id)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why this person is leaving the team"})
    managers = policy.team_of(OBJECT_TYPE, case.pk).filter(team_role=TeamRole.MANAGER)
    if membership.team_role == TeamRole.MANAGER and managers.count() == 1:
        raise ValidationError("The case needs a manager: add another manager first")
    membership.delete()
    member, place = membership.user, TeamRole(membership.team_role)
    ledger.record(
        actor=actor,
        action=Action.SECURITY,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        recipients=[member.username],
        justification=reason,
        details={
            "event": "team_member_removed",
            "team_role": place.value,
            "state": [state.team_removal(OBJECT_TYPE, case.pk, member.pk, place)],
        },
    )
    if member != actor:
        notifications.notify(
            member,
            AlertCategory.ACCESS,
            case.reference,
            f"{actor} took you off the team of {case.reference} ({place.label.lower()}): {reason}",
            "/",
        )
    return membership


@service
def revoke_grant(actor: User, case_id: UUID | str, grant_id: int, *, reason: str) -> AccessGrant:
    """End a live grant (or break-glass opening) now; it stays listed in the ledger."""
    case = case_for_management(actor, case_id)
    grant = policy.live_grants(OBJECT_TYPE, case.pk).filter(pk=grant_id).first()
    if grant is None:
        raise CaseNotFound("No such grant")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the access is being revoked"})
    grant.expires_at = timezone.now()
    grant.save(update_fields=["expires_at"])
    ledger.record(
        actor=actor,
        action=Action.SECURITY,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        recipients=[grant.user.username],
        justification=reason,
        details={
            "event": "access_revoked",
            "grant": grant.pk,
            "state": [state.grant_change(grant)],
        },
    )
    if grant.user != actor:
        notifications.notify(
            grant.user,
            AlertCategory.ACCESS,
            case.reference,
            f"{actor} revoked your access to {case.reference}: {reason}",
            "/",
        )
    return grant


def find_membership(case: Case, membership_id: int) -> TeamMembership:
    membership = policy.team_of(OBJECT_TYPE, case.pk).filter(pk=membership_id).first()
    if membership is None:
        raise CaseNotFound("No such team member")
    return membership


@service
def break_glass(actor: User, reference: str, reason: str) -> Case:
    """A manager opens a case outside their team: short, alerted, and loud in the ledger."""
    if not actor.has_role(Role.PROTECTION_MANAGER):
        raise PermissionDenied("Only protection managers can use break-glass access")
    if not reason.strip():
        raise ValidationError({"reason": "Break-glass access needs a reason"})
    case = Case.objects.filter(
        reference=reference.strip().upper(), classification__lte=actor.effective_clearance
    ).first()
    if case is None:
        raise CaseNotFound("No case can be opened with that reference")
    expires_at = timezone.now() + timedelta(minutes=policy.BREAK_GLASS_MINUTES)
    grant = create_sealed(
        AccessGrant,
        {"reason": reason.strip()},
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        user=actor,
        kind=GrantKind.BREAK_GLASS,
        granted_by=actor,
        expires_at=expires_at,
    )
    managers = list(policy.team_managers(OBJECT_TYPE, case.pk))
    notifications.notify_each(
        managers,
        AlertCategory.BREAK_GLASS,
        case.reference,
        f"{actor} used break-glass access on {case.reference}: {reason.strip()}",
        f"/cases/{case.pk}/",
    )
    ledger.record(
        actor=actor,
        action=Action.BREAK_GLASS,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        recipients=[manager.username for manager in managers],
        justification=reason.strip(),
        details={"expires_at": expires_at.isoformat(), "state": [state.grant_change(grant)]},
    )
    return case


@service
def record_identity(
    actor: User,
    case_id: UUID | str,
    *,
    legacy_name: str,
    new_name: str,
    legacy_dob: date | None = None,
    new_dob: date | None = None,
) -> IdentityRecord:
    case = find_identity_case(actor, case_id)
    record = IdentityRecord.objects.filter(case=case).first() or IdentityRecord(case=case)
    record.legacy_name, record.new_name = legacy_name.strip(), new_name.strip()
    record.legacy_dob, record.new_dob = legacy_dob, new_dob
    record.changed_at = timezone.now()
    record.save()
    ledger.record(
        actor=actor,
        action=Action.COMBINATION,
        object_type="identity",
        object_id=record.pk,
        case_id=case.pk,
        fields=("legacy_name", "legacy_dob", "new_name", "new_dob"),
        justification="identity link recorded",
    )
    return record


def require_text(errors: dict[str, str], field: str, value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        errors[field] = message
    return value


def refuse_future(errors: dict[str, str], field: str, value: date | None, message: str) -> None:
    if value is not None and value > timezone.localdate():
        errors[field] = message


# --------------------------------------------------------------------------- duplicates


class DuplicateReport:
    """What an officer is told about possible duplicates: the cases they can see, by
    reference, and nothing else. A match in a case above their clearance or outside their
    reach goes to that case's managers only (`hidden`); the officer's answer is the answer to
    "no match", so the check is no oracle for who is under protection."""

    def __init__(self, visible: list[Case], hidden: list[Case]) -> None:
        self.visible = visible
        self.hidden = hidden

    @property
    def any(self) -> bool:
        """Whether the officer has anything to check: visible matches only."""
        return bool(self.visible)

    @property
    def message(self) -> str:
        if not self.visible:
            return ""
        refs = ", ".join(case.reference for case in self.visible)
        return f"Possible match in a case you can see: {refs}."

    def as_dict(self) -> dict[str, object]:
        return {"visible": [case.reference for case in self.visible], "message": self.message}


def matching_people(name: str, dob: date | None) -> list[Person]:
    from haven.vault.fields import index_for

    try:
        if dob is not None:
            candidates = Person.objects.filter(name_dob_index=index_for("name_dob", name, dob))
        else:
            candidates = Person.objects.filter(name_index=index_for("name", name))
    except ValueError:
        return []
    wanted = normalise_name(name)
    # Blind indexes are truncated: confirm on the decrypted values (server side only).
    return [
        person
        for person in candidates.select_related("case")
        if normalise_name(person.full_name) == wanted and (dob is None or person.dob == dob)
    ]


@service
def check_duplicates(
    actor: User, name: str, dob: date | None, *, exclude_case: object = None
) -> DuplicateReport:
    matches = {p.case_id: p.case for p in matching_people(name, dob) if p.case_id != exclude_case}
    if not matches:
        return DuplicateReport([], [])
    from .selectors import cases_visible_to

    visible_ids = set(
        cases_visible_to(actor).filter(pk__in=list(matches)).values_list("pk", flat=True)
    )
    visible = [case for pk, case in matches.items() if pk in visible_ids]
    hidden = [case for pk, case in matches.items() if pk not in visible_ids]
    for case in hidden:
        managers = list(policy.team_managers(OBJECT_TYPE, case.pk))
        notifications.notify_each(
            managers,
            AlertCategory.DUPLICATE,
            case.reference,
            f"{actor} is taking a referral that may match someone in {case.reference}. "
            "Contact them if it is relevant.",
            f"/cases/{case.pk}/",
        )
        ledger.record(
            actor=actor,
            action=Action.COMBINATION,
            object_type=OBJECT_TYPE,
            object_id=case.pk,
            case_id=case.pk,
            fields=("name_dob_index",),
            recipients=[manager.username for manager in managers],
            justification="duplicate check at referral intake (match not shown to the officer)",
        )
    return DuplicateReport(visible, hidden)


# --------------------------------------------------------------------------- arrangement


def check_decision(
    actor: User,
    case_id: UUID | str,
    *,
    to_status: str,
    version: int,
    reason: str,
    decided_on: date | None = None,
    factors: dict[str, str] | None = None,
    transfer: dict[str, object] | None = None,
) -> None:
    """Refuse, as change_status would, a decision that cannot be recorded; record nothing (the
    decision form checks before its check-your-answers page, so errors come on first submit)."""
    _checked_decision(
        actor,
        case_id,
        to_status=to_status,
        version=version,
        reason=reason,
        decided_on=decided_on,
        factors=factors,
        transfer=transfer,
    )


def _checked_decision(
    actor: User,
    case_id: UUID | str,
    *,
    to_status: str,
    version: int,
    reason: str,
    decided_on: date | None,
    factors: dict[str, str] | None,
    transfer: dict[str, object] | None,
) -> tuple[Case, Any, str, date, dict[str, str | None], bool]:
    case = find_visible_case(actor, case_id)
    check_version(case.version, version, "case")
    permissions.require_decision(actor, case, to_status)
    rule = config.TRANSITIONS.check(case.status, to_status)
    errors: dict[str, str] = {}
    reason = require_text(errors, "reason", reason, "Give the reason for the decision")
    decided_on = decided_on or timezone.localdate()
    refuse_future(errors, "decided_on", decided_on, "The decision date cannot be in the future")
    factors = factors or {}
    transfer = transfer or {}
    errors.update(config.TRANSITIONS.missing(rule, {**factors, **transfer}))
    clean_factors = {
        field: (factors.get(field) or "").strip() or None for field in config.FACTOR_FIELDS
    }
    transferring = rule.requires("receiving_provider")
    if transferring:
        for field in ("effective_date", "receiving_recorded_on"):
            if not isinstance(transfer.get(field), date):
                errors[field] = config.TRANSITIONS.field_message(field)
        recorded_on = transfer.get("receiving_recorded_on")
        if isinstance(recorded_on, date):
            refuse_future(errors, "receiving_recorded_on", recorded_on, "Cannot be in the future")
        receiving = str(transfer.get("receiving_provider") or "").strip()
        if receiving and receiving.casefold() == case.provider.strip().casefold():
            errors["receiving_provider"] = "The receiving provider must be another provider"
    if errors:
        raise ValidationError(errors)
    return case, rule, reason, decided_on, clean_factors, transferring


@service
def change_status(
    actor: User,
    case_id: UUID | str,
    *,
    to_status: str,
    version: int,
    reason: str,
    decided_on: date | None = None,
    factors: dict[str, str] | None = None,
    transfer: dict[str, object] | None = None,
) -> Decision:
    """Move the arrangement along its state machine, recording the s.82(3)/s.84(4) decision."""
    case, rule, reason, decided_on, clean_factors, transferring = _checked_decision(
        actor,
        case_id,
        to_status=to_status,
        version=version,
        reason=reason,
        decided_on=decided_on,
        factors=factors,
        transfer=transfer,
    )
    transfer = transfer or {}
    ensure_version(Case, case.pk, version, "case")
    from_status = case.status
    now = timezone.now()
    decision = Decision(
        case=case,
        from_status=from_status,
        to_status=to_status,
        decision_maker=actor,
        decided_on=decided_on,
        reason=reason,
        citation=rule.citation,
        rules_version=config.TRANSITIONS_VERSION,
        recorded_at=now,
        **clean_factors,
    )
    decision.save(force_insert=True)
    details: dict[str, object] = {"from": from_status, "to": to_status, "citation": rule.citation}
    if transferring:
        moved = Transfer(
            case=case,
            decision=decision,
            from_provider=case.provider,
            receiving_provider=str(transfer["receiving_provider"]).strip(),
            effective_date=transfer["effective_date"],  # type: ignore[misc]
            cost_terms=str(transfer.get("cost_terms") or "").strip() or None,
            sending_recorded_on=timezone.localdate(),
            receiving_recorded_on=transfer["receiving_recorded_on"],  # type: ignore[misc]
            receiving_recorded_by=str(transfer["receiving_recorded_by"]).strip(),
        )
        moved.save(force_insert=True)
        case.provider = moved.receiving_provider
        details["receiving_provider"] = moved.receiving_provider
        details["effective_date"] = moved.effective_date.isoformat()
    case.status = to_status
    case.status_changed_at = now
    case.updated_at = now
    case.version = version + 1
    case.save(update_fields=["status", "status_changed_at", "updated_at", "provider"])
    if to_status == CaseStatus.CANCELLED:
        details["reviews_closed"] = close_open_reviews(actor, case)
    if to_status == CaseStatus.ACTIVE and from_status == CaseStatus.ACCEPTED:
        review = compute_deadline(
            "arrangement_review", timezone.localdate(), registry=config.CASEWORK_RULES
        )
        create_task_record(
            actor,
            case,
            kind=TaskKind.REVIEW,
            title="Review the protection arrangement",
            details=review.rule.citation,
            owner=actor,
            due_on=review.due,
        )
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        fields=["status", *(k for k, v in clean_factors.items() if v)],
        justification=reason,
        details=details,
    )
    notify_deciders(actor, case)
    return decision


def close_open_reviews(actor: User, case: Case) -> int:
    """A cancelled arrangement has nothing left to review: its open review items are closed
    (recorded as done with the reason), so nobody is reminded of them."""
    closed = 0
    for task in CaseTask.objects.filter(case=case, kind=TaskKind.REVIEW, status=TaskStatus.OPEN):
        task.status = TaskStatus.DONE
        task.completed_at = timezone.now()
        task.response = "Closed: the protection arrangement was cancelled"
        task.version += 1
        task.save()
        closed += 1
    return closed


def notify_deciders(actor: User, case: Case) -> None:
    """Hand-off: tell whoever decides next that the case waits for them (it is then in their
    "awaiting you" list). A case with nobody to decide tells its managers instead."""
    awaited = config.AWAITING_DECISION.get(case.status)
    if awaited is None:
        return
    deciders = [user for user in awaiting_deciders(case) if user != actor]
    if deciders:
        notifications.notify_each(
            deciders,
            AlertCategory.DECISION,
            case.reference,
            f"{case.reference} is {case.get_status_display().lower()} and awaits your decision: "
            f"{awaited.what.lower()}.",
            f"/cases/{case.pk}/decision/",
        )
    elif not awaiting_deciders(case):
        notifications.notify_each(
            [m for m in policy.team_managers(OBJECT_TYPE, case.pk) if m != actor],
            AlertCategory.DECISION,
            case.reference,
            f"{case.reference} awaits a decision ({awaited.what.lower()}) but nobody on its team "
            f"can make it: add its {Role(awaited.role).label.lower()} to the team.",
            f"/cases/{case.pk}/team/",
        )


@service
def add_joint_provider(
    actor: User,
    case_id: UUID | str,
    *,
    provider: str,
    agreed_on: date | None,
    exercises_arrangements: bool = False,
) -> JointProvider:
    case = find_visible_case(actor, case_id)
    permissions.require_joint_provider(actor)
    errors: dict[str, str] = {}
    provider = require_text(errors, "provider", provider, "Name the joint provider")
    if provider and provider.casefold() == case.provider.strip().casefold():
        # s.83: arrangements made jointly by two or more providers; the provider now
        # responsible (the new one after an s.84 transfer) is not its own joint provider.
        errors["provider"] = f"{case.provider} is the provider itself: name another provider"
    if agreed_on is None:
        errors["agreed_on"] = "Enter the date the joint arrangement was agreed"
    refuse_future(errors, "agreed_on", agreed_on, "The agreement date cannot be in the future")
    if errors:
        raise ValidationError(errors)
    joint = JointProvider(
        case=case,
        provider=provider,
        agreed_on=agreed_on,  # type: ignore[misc]
        exercises_arrangements=exercises_arrangements,
        recorded_by=actor,
    )
    joint.save(force_insert=True)
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="joint_provider",
        object_id=joint.pk,
        case_id=case.pk,
        fields=("provider", "agreed_on", "exercises_arrangements"),
        justification="s.83 joint arrangement recorded",
    )
    return joint


# --------------------------------------------------------------------------- people


PERSON_FIELDS = ("full_name", "dob", "phone", "notes", "relationship")


def clean_person(changes: dict[str, object]) -> dict[str, object]:
    errors: dict[str, str] = {}
    if "full_name" in changes:
        changes["full_name"] = require_text(
            errors, "full_name", str(changes["full_name"] or ""), "Enter the person's name"
        )
    if "dob" in changes:
        refuse_future(errors, "dob", changes["dob"], "Date of birth must be in the past")  # type: ignore[arg-type]
    if "relationship" in changes and changes["relationship"] not in Relationship.values:
        errors["relationship"] = "Choose the relationship"
    for field in ("phone", "notes"):
        if field in changes:
            changes[field] = str(changes[field] or "").strip() or None
    if errors:
        raise ValidationError(errors)
    return changes


@service
def add_person(
    actor: User,
    case_id: UUID | str,
    *,
    full_name: str,
    relationship: str,
    dob: date | None = None,
    phone: str = "",
    notes: str = "",
) -> Person:
    case = find_visible_case(actor, case_id)
    data = clean_person(
        {
            "full_name": full_name,
            "relationship": relationship,
            "dob": dob,
            "phone": phone,
            "notes": notes,
        }
    )
    if data["relationship"] == Relationship.SELF:
        raise ValidationError({"relationship": "The case already has its principal"})
    person = Person(case=case, role=PersonRole.ASSOCIATED, **data)
    person.save(force_insert=True)
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="person",
        object_id=person.pk,
        case_id=case.pk,
        fields=PERSON_FIELDS,
        justification="associated person recorded",
    )
    return person


@service
def update_person(
    actor: User, case_id: UUID | str, person_id: UUID | str, *, version: int, **changes: object
) -> Person:
    case = find_visible_case(actor, case_id)
    person = find_case_object(case, Person, person_id)
    refuse_unknown_fields(changes, PERSON_FIELDS)
    changes = clean_person(dict(changes))
    if person.role == PersonRole.PRINCIPAL and changes.get("relationship", "self") != "self":
        raise ValidationError({"relationship": "The principal's relationship is fixed"})
    if person.role == PersonRole.ASSOCIATED and changes.get("relationship") == "self":
        raise ValidationError({"relationship": "Choose how this person is related"})
    ensure_version(Person, person.pk, version, "person")
    for name, value in changes.items():
        setattr(person, name, value)
    person.version = version + 1
    person.save()
    if person.role == PersonRole.PRINCIPAL and {"full_name", "dob"} & set(changes):
        case.subject_name, case.subject_dob = person.full_name, person.dob
        case.save(update_fields=["subject_name", "subject_dob", "name_index", "dob_index"])
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type="person",
        object_id=person.pk,
        case_id=case.pk,
        fields=changes.keys(),
        justification="person details changed",
    )
    return person


def find_case_object(case: Case, model: type, object_id: UUID | str):  # type: ignore[no-untyped-def]
    try:
        return model.objects.get(case=case, pk=object_id)  # type: ignore[attr-defined]
    except (model.DoesNotExist, ValueError, ValidationError) as missing:  # type: ignore[attr-defined]
        raise CaseNotFound("No such record") from missing


# --------------------------------------------------------------------------- locations


def parse_coordinates(latitude: object, longitude: object) -> dict[str, float] | None:
    if latitude in (None, "") and longitude in (None, ""):
        return None
    try:
        lat, lon = float(latitude), float(longitude)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise ValidationError(
            {"latitude": "Enter both latitude and longitude as numbers"}
        ) from error
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError({"latitude": "Latitude is -90 to 90 and longitude -180 to 180"})
    return {"lat": lat, "lon": lon}


@service
def add_location(
    actor: User,
    case_id: UUID | str,
    *,
    kind: str,
    address: str,
    valid_from: date | None,
    valid_to: date | None = None,
    latitude: object = None,
    longitude: object = None,
    person_id: UUID | str | None = None,
) -> Location:
    case = find_visible_case(actor, case_id)
    errors: dict[str, str] = {}
    if kind not in LocationKind.values:
        errors["kind"] = "Choose the kind of location"
    address = require_text(errors, "address", address, "Enter the address")
    if valid_from is None:
        errors["valid_from"] = "Enter the date the location is used from"
    if valid_from and valid_to and valid_to < valid_from:
        errors["valid_to"] = "The end date must be on or after the start date"
    if errors:
        raise ValidationError(errors)
    coordinates = parse_coordinates(latitude, longitude)
    person = find_case_object(case, Person, person_id) if person_id else None
    location = Location(
        case=case,
        person=person,
        kind=kind,
        address=address,
        coordinates=coordinates,
        valid_from=valid_from,  # type: ignore[misc]
        valid_to=valid_to,
    )
    location.save(force_insert=True)
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="location",
        object_id=location.pk,
        case_id=case.pk,
        fields=("kind", "address", "coordinates", "valid_from", "valid_to"),
        justification="location recorded",
    )
    return location


# --------------------------------------------------------------------------- contact log


@service
def log_contact(
    actor: User,
    case_id: UUID | str,
    *,
    occurred_at: datetime | None,
    method: str,
    summary: str,
    concerns: list[str] | None = None,
    follow_up: str = "",
    follow_up_due: date | None = None,
    person_id: UUID | str | None = None,
    partner_id: UUID | str | None = None,
) -> ContactEntry:
    case = find_visible_case(actor, case_id)
    errors: dict[str, str] = {}
    if occurred_at is None:
        errors["occurred_at"] = "Enter when the contact happened"
    elif occurred_at > timezone.now() + timedelta(minutes=5):
        errors["occurred_at"] = "A contact cannot be logged in the future"
    if method not in ContactMethod.values:
        errors["method"] = "Choose how the contact happened"
    summary = require_text(errors, "summary", summary, "Summarise the contact")
    concerns = list(concerns or [])
    if set(concerns) - set(Concern.values):
        errors["concerns"] = "Choose concerns from the list"
    if follow_up_due and not follow_up.strip():
        errors["follow_up"] = "Say what the follow-up is"
    partner = None
    if partner_id:
        try:
            partner = find_partner(actor, partner_id, active=True)
        except Http404:
            errors["partner"] = "Choose a current entry from the partner directory"
    if errors:
        raise ValidationError(errors)
    person = find_case_object(case, Person, person_id) if person_id else None
    entry = ContactEntry(
        case=case,
        person=person,
        partner=partner,
        occurred_at=occurred_at,  # type: ignore[misc]
        method=method,
        summary=summary,
        concerns=sorted(concerns),
        follow_up=follow_up.strip() or None,
        follow_up_due=follow_up_due,
        recorded_by=actor,
    )
    entry.save(force_insert=True)
    if follow_up_due:
        create_task_record(
            actor,
            case,
            kind=TaskKind.TASK,
            title=f"Follow up: {follow_up.strip()[:120]}",
            details=None,
            owner=actor,
            due_on=follow_up_due,
        )
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="contact",
        object_id=entry.pk,
        case_id=case.pk,
        fields=("occurred_at", "method", "summary", "concerns", "follow_up", "partner"),
        justification="contact logged",
        details={"partner": str(partner.pk)} if partner else None,
    )
    return entry


# --------------------------------------------------------------------------- corrections
#
# A location or a contact is corrected (or a location ended) with a reason and the version the
# corrector read: a stale version is refused (ConflictError), never overwritten. The values a
# change replaces are kept in a RecordRevision, so every earlier version stays readable.

LOCATION_CORRECTABLE = ("kind", "address", "coordinates", "valid_from", "valid_to", "person")
CONTACT_CORRECTABLE = (
    "occurred_at",
    "method",
    "summary",
    "concerns",
    "follow_up",
    "follow_up_due",
    "person",
)


def revise(
    actor: User,
    case: Case,
    kind: str,
    record: Location | ContactEntry,
    *,
    version: int,
    reason: str,
    changes: dict[str, object],
    action: str = RevisionAction.CORRECTED,
) -> None:
    """Apply `changes` to `record` if `version` is still current, keeping the old values."""
    revisions.revise(
        actor,
        record,
        RecordRevision(case=case, kind=kind, record_id=record.pk),
        version=version,
        reason=reason,
        changes=changes,
        object_type=kind,
        case_id=case.pk,
        action=action,
    )
    notify_record_changed(actor, case, kind, action)


# Who hears that a record on a case was corrected or ended: the officer in charge and the
# case's managers, never the person who changed it.
TOLD_OF_RECORD_CHANGES = (TeamRole.LEAD, TeamRole.MANAGER)


def changed_verb(kind: str, action: str) -> str:
    """How a change reads: a contact log entry that ends is withdrawn (entered in error)."""
    if kind == "contact" and action == RevisionAction.ENDED:
        return "withdrew"
    return str(RevisionAction(action).label).lower()


def notify_record_changed(actor: User, case: Case, kind: str, action: str) -> None:
    """Tell the case's lead officer and managers that `actor` corrected or ended a record
    (a location, contact, threat...): the message names the kind of record and the case only."""
    told = User.objects.filter(
        pk__in=TeamMembership.objects.filter(
            object_type=OBJECT_TYPE, object_id=case.pk, team_role__in=TOLD_OF_RECORD_CHANGES
        ).values("user_id"),
        is_active=True,
    ).exclude(pk=actor.pk)
    notifications.notify_each(
        told,
        AlertCategory.GENERAL,
        case.reference,
        f"{actor} {changed_verb(kind, action)} a {kind} on {case.reference}.",
        f"/cases/{case.pk}/",
    )


def correctable_case(actor: User, case_id: UUID | str) -> Case:
    case = find_visible_case(actor, case_id)
    permissions.require_correct_records(actor, case)
    return case


def unknown_fields(changes: dict[str, object], allowed: tuple[str, ...]) -> None:
    # The person and the coordinates come in as the ids and numbers the service turns into them.
    refuse_unknown_fields(changes, (*allowed, "person_id", "latitude", "longitude"))


def person_by_id(case: Case, changes: dict[str, object]) -> None:
    """A correction names the person a record is about by id (or none): the case's own person."""
    if "person_id" in changes:
        person_id = changes.pop("person_id")
        changes["person"] = find_case_object(case, Person, person_id) if person_id else None  # type: ignore[arg-type]


@service
def correct_location(
    actor: User,
    case_id: UUID | str,
    location_id: UUID | str,
    *,
    version: int,
    reason: str,
    **changes: object,
) -> Location:
    """Correct a location's details (kind, address, coordinates, dates, person)."""
    case = correctable_case(actor, case_id)
    location: Location = find_case_object(case, Location, location_id)
    unknown_fields(changes, LOCATION_CORRECTABLE)
    reason = require_reason(reason)
    errors: dict[str, str] = {}
    if "kind" in changes and changes["kind"] not in LocationKind.values:
        errors["kind"] = "Choose the kind of location"
    if "address" in changes:
        changes["address"] = require_text(
            errors, "address", str(changes["address"] or ""), "Enter the address"
        )
    if "valid_from" in changes and changes["valid_from"] is None:
        errors["valid_from"] = "Enter the date the location is used from"
    valid_from = changes.get("valid_from", location.valid_from)
    valid_to = changes.get("valid_to", location.valid_to)
    if valid_from and valid_to and valid_to < valid_from:  # type: ignore[operator]
        errors["valid_to"] = "The end date must be on or after the start date"
    if errors:
        raise ValidationError(errors)
    if "latitude" in changes or "longitude" in changes:
        changes["coordinates"] = parse_coordinates(
            changes.pop("latitude", None), changes.pop("longitude", None)
        )
    person_by_id(case, changes)
    revise(actor, case, "location", location, version=version, reason=reason, changes=changes)
    return location


@service
def end_location(
    actor: User,
    case_id: UUID | str,
    location_id: UUID | str,
    *,
    version: int,
    reason: str,
    ended_on: date | None,
) -> Location:
    """A location no longer used: it ends on `ended_on` (it is kept, never deleted)."""
    case = correctable_case(actor, case_id)
    location: Location = find_case_object(case, Location, location_id)
    reason = require_reason(reason)
    if ended_on is None:
        raise ValidationError({"ended_on": "Enter the date the location stopped being used"})
    if ended_on < location.valid_from:
        raise ValidationError(
            {"ended_on": "The end date must be on or after the date the location was first used"}
        )
    if location.valid_to is not None and location.valid_to <= ended_on:
        raise ValidationError({"ended_on": "This location has already ended by that date"})
    revise(
        actor,
        case,
        "location",
        location,
        version=version,
        reason=reason,
        changes={"valid_to": ended_on},
        action=RevisionAction.ENDED,
    )
    return location


@service
def correct_contact(
    actor: User,
    case_id: UUID | str,
    contact_id: UUID | str,
    *,
    version: int,
    reason: str,
    **changes: object,
) -> ContactEntry:
    """Correct a contact log entry (when, how, summary, concerns, follow-up, person)."""
    case = correctable_case(actor, case_id)
    entry: ContactEntry = find_case_object(case, ContactEntry, contact_id)
    if entry.withdrawn:
        raise ValidationError("This contact was withdrawn and can no longer be corrected")
    unknown_fields(changes, CONTACT_CORRECTABLE)
    reason = require_reason(reason)
    errors: dict[str, str] = {}
    if "occurred_at" in changes:
        occurred_at = changes["occurred_at"]
        if occurred_at is None:
            errors["occurred_at"] = "Enter when the contact happened"
        elif occurred_at > timezone.now() + timedelta(minutes=5):  # type: ignore[operator]
            errors["occurred_at"] = "A contact cannot be logged in the future"
    if "method" in changes and changes["method"] not in ContactMethod.values:
        errors["method"] = "Choose how the contact happened"
    if "summary" in changes:
        changes["summary"] = require_text(
            errors, "summary", str(changes["summary"] or ""), "Summarise the contact"
        )
    if "concerns" in changes:
        concerns = list(changes["concerns"] or [])  # type: ignore[call-overload]
        if set(concerns) - set(Concern.values):
            errors["concerns"] = "Choose concerns from the list"
        changes["concerns"] = sorted(concerns)
    if "follow_up" in changes:
        changes["follow_up"] = str(changes["follow_up"] or "").strip() or None
    follow_up = changes.get("follow_up", entry.follow_up)
    if changes.get("follow_up_due", entry.follow_up_due) and not follow_up:
        errors["follow_up"] = "Say what the follow-up is"
    if errors:
        raise ValidationError(errors)
    person_by_id(case, changes)
    revise(actor, case, "contact", entry, version=version, reason=reason, changes=changes)
    return entry


@service
def withdraw_contact(
    actor: User,
    case_id: UUID | str,
    contact_id: UUID | str,
    *,
    version: int,
    reason: str,
) -> ContactEntry:
    """Withdraw a contact log entry entered in error (the wrong case, a duplicate): it is kept
    and shown as withdrawn, never deleted; the reason and who withdrew it are in its history
    and the ledger. Only the case team may (permissions.may_correct_records), with the version
    read: a stale version is refused (ConflictError)."""
    case = correctable_case(actor, case_id)
    entry: ContactEntry = find_case_object(case, ContactEntry, contact_id)
    reason = require_reason(reason, "Say why the entry is being withdrawn")
    if entry.withdrawn:
        raise ValidationError("This contact has already been withdrawn")
    revise(
        actor,
        case,
        "contact",
        entry,
        version=version,
        reason=reason,
        changes={"withdrawn_at": timezone.now()},
        action=RevisionAction.ENDED,
    )
    return entry


# --------------------------------------------------------------------------- tasks


def case_team_users(case: Case) -> list[User]:
    return list(
        User.objects.filter(
            pk__in=TeamMembership.objects.filter(object_type=OBJECT_TYPE, object_id=case.pk).values(
                "user_id"
            ),
            is_active=True,
        )
    )


def create_task_record(
    actor: User,
    case: Case,
    *,
    kind: str,
    title: str,
    details: str | None,
    owner: User,
    due_on: date,
    checklist: ChecklistVersion | None = None,
) -> CaseTask:
    task = CaseTask(
        case=case,
        kind=kind,
        title=title,
        details=details,
        owner=owner,
        due_on=due_on,
        created_by=actor,
        checklist=checklist,
    )
    task.save(force_insert=True)
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="task",
        object_id=task.pk,
        case_id=case.pk,
        fields=("kind", "title", "details", "owner", "due_on"),
        recipients=[owner.username] if owner != actor else [],
        justification=f"{kind} created",
        details={"checklist": str(checklist.template_id)} if checklist else None,
    )
    return task


@service
def create_task(
    actor: User,
    case_id: UUID | str,
    *,
    title: str,
    due_on: date | None,
    owner: User | None = None,
    kind: str = TaskKind.TASK,
    details: str = "",
) -> CaseTask:
    case = find_visible_case(actor, case_id)
    errors: dict[str, str] = {}
    title = require_text(errors, "title", title, "Say what needs doing")
    if kind not in (TaskKind.TASK, TaskKind.REVIEW):
        errors["kind"] = "Choose task or review (escalate a query with 'Escalate')"
    if due_on is None:
        errors["due_on"] = "Enter the due date"
    owner = owner or actor
    if owner not in case_team_users(case):
        errors["owner"] = "The owner must be on the case team"
    if errors:
        raise ValidationError(errors)
    return create_task_record(
        actor,
        case,
        kind=kind,
        title=title,
        details=details.strip() or None,
        owner=owner,
        due_on=due_on,  # type: ignore[arg-type]
    )


@service
def escalate(
    actor: User, case_id: UUID | str, *, question: str, manager: User | None = None
) -> CaseTask:
    """Refer a complex query to a manager, due within the configured response time."""
    case = find_visible_case(actor, case_id)
    errors: dict[str, str] = {}
    question = require_text(errors, "question", question, "Write the query for the manager")
    managers = list(policy.team_managers(OBJECT_TYPE, case.pk))
    if manager is None and managers:
        manager = managers[0]
    if manager is None or manager not in managers:
        errors["manager"] = "The case has no manager on its team to escalate to"
    if errors or manager is None:
        raise ValidationError(errors)
    due = compute_deadline(
        "escalation_response", timezone.localdate(), registry=config.CASEWORK_RULES
    )
    task = create_task_record(
        actor,
        case,
        kind=TaskKind.ESCALATION,
        title=f"Escalated query on {case.reference}",
        details=question,
        owner=manager,
        due_on=due.due,  # type: ignore[arg-type]
    )
    notifications.notify(
        manager,
        AlertCategory.ESCALATION,
        case.reference,
        f"{actor} escalated a query on {case.reference}; a response is expected by "
        f"{due.due:%d %b %Y}.",
        f"/cases/{case.pk}/",
    )
    return task


@service
def complete_task(
    actor: User, case_id: UUID | str, task_id: UUID | str, *, version: int, response: str = ""
) -> CaseTask:
    case = find_visible_case(actor, case_id)
    task = find_case_object(case, CaseTask, task_id)
    if task.status != TaskStatus.OPEN:
        raise ValidationError({"response": "This item is already done"})
    if task.kind == TaskKind.ESCALATION and not response.strip():
        raise ValidationError({"response": "Give the response to the escalated query"})
    ensure_version(CaseTask, task.pk, version, "task")
    task.status = TaskStatus.DONE
    task.completed_at = timezone.now()
    task.response = response.strip() or None
    task.version = version + 1
    task.save()
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type="task",
        object_id=task.pk,
        case_id=case.pk,
        fields=("status", "response"),
        justification=f"{task.kind} completed",
    )
    return task


def send_due_reminders(today: date | None = None) -> int:
    """Notify each owner of open items due today or overdue, once a day. Returns how many."""
    today = today or timezone.localdate()
    sent = 0
    due = (
        CaseTask.objects.filter(status=TaskStatus.OPEN, due_on__lte=today)
        .exclude(reminded_on=today)
        .select_related("case", "owner")
    )
    for task in due.iterator():
        with transaction.atomic():
            word = "overdue since" if task.due_on < today else "due on"
            notifications.notify(
                task.owner,
                AlertCategory.REMINDER,
                task.case.reference,
                f"A {task.get_kind_display().lower()} on {task.case.reference} is "
                f"{word} {task.due_on:%d %b %Y}.",
                f"/cases/{task.case_id}/",
            )
            CaseTask.objects.filter(pk=task.pk).update(reminded_on=today)
            sent += 1
    return sent


# --------------------------------------------------------------------------- documents


def detect_type(data: bytes, filename: str) -> str:
    return documents.detect_type(data, filename)


@service
def upload_document(
    actor: User, case_id: UUID | str, *, title: str, filename: str, data: bytes
) -> Document:
    case = find_visible_case(actor, case_id)
    errors: dict[str, str] = {}
    title = require_text(errors, "title", title, "Give the document a title")
    if file_error := documents.size_error(data, config.DOCUMENT_MAX_BYTES):
        errors["file"] = file_error
    if errors:
        raise ValidationError(errors)
    checked = documents.check_upload(data, filename)
    document = Document(case=case, title=title, uploaded_by=actor, **checked.model_fields())
    documents.store_sealed(
        document,
        data,
        lambda: ledger.record(
            actor=actor,
            action=Action.COLLECTION,
            object_type="document",
            object_id=document.pk,
            case_id=case.pk,
            fields=("title", "filename", "content"),
            justification="document uploaded",
            details={"sha256": document.sha256, "size": document.size},
        ),
    )
    return document


# --------------------------------------------------------------------------- partner directory
#
# Kept by protection managers (permissions.may_manage_directory): added, edited with the version
# read and a reason, retired with a reason (never deleted, so contact log entries keep their
# party). Every change is ledgered in its transaction.

PARTNER_TEXT = {
    "organisation": ("Enter the organisation", 200),
    "contact_name": ("Enter the contact's name", 200),
    "contact_details": ("Enter how to reach the contact", 2000),
}


def _partner_errors(values: dict[str, object]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for field, (message, limit) in PARTNER_TEXT.items():
        if field in values:
            text = str(values[field] or "").strip()
            values[field] = text
            if not text:
                errors[field] = message
            elif len(text) > limit:
                errors[field] = f"Use {limit} characters or fewer"
    if "role" in values:
        values["role"] = str(values["role"] or "").strip()
        if len(str(values["role"])) > 200:
            errors["role"] = "Use 200 characters or fewer"
    if "may_be_told_notes" in values:
        values["may_be_told_notes"] = str(values["may_be_told_notes"] or "").strip()
        if len(str(values["may_be_told_notes"])) > 2000:
            errors["may_be_told_notes"] = "Use 2000 characters or fewer"
    if "may_be_told" in values and values["may_be_told"] not in MayBeTold.values:
        errors["may_be_told"] = "Choose what this partner may be told"
    return errors


@service
def add_partner(
    actor: User,
    *,
    organisation: str,
    contact_name: str,
    contact_details: str,
    may_be_told: str,
    role: str = "",
    may_be_told_notes: str = "",
) -> Partner:
    permissions.require_manage_directory(actor)
    values: dict[str, object] = {
        "organisation": organisation,
        "contact_name": contact_name,
        "contact_details": contact_details,
        "may_be_told": may_be_told,
        "role": role,
        "may_be_told_notes": may_be_told_notes,
    }
    errors = _partner_errors(values)
    if errors:
        raise ValidationError(errors)
    partner = Partner(**values)
    partner.save(force_insert=True)
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=PARTNER_TYPE,
        object_id=partner.pk,
        fields=tuple(values),
        justification="partner added to the directory",
    )
    return partner


PARTNER_EDITABLE = (
    "organisation",
    "contact_name",
    "role",
    "contact_details",
    "may_be_told",
    "may_be_told_notes",
)


def _locked_partner(actor: User, partner_id: UUID | str, version: int) -> Partner:
    permissions.require_manage_directory(actor)
    return locked_entry(find_partner(actor, partner_id), version, "partner directory entry")


def locked_entry(entry: Any, version: int, what: str) -> Any:
    """A directory or checklist entry locked for a change: still at `version`, not retired."""
    entry = type(entry).objects.select_for_update().get(pk=entry.pk)
    check_version(entry.version, version, what)
    if entry.retired:
        raise ValidationError(f"This {what} has been retired and can no longer be changed")
    return entry


@service
def edit_partner(
    actor: User, partner_id: UUID | str, *, version: int, reason: str, **changes: object
) -> Partner:
    unknown = set(changes) - set(PARTNER_EDITABLE)
    if unknown:
        raise ValidationError(f"These cannot be changed: {', '.join(sorted(unknown))}")
    partner = _locked_partner(actor, partner_id, version)
    errors = _partner_errors(changes)
    if not (reason or "").strip():
        errors["reason"] = "Say why you are changing this entry"
    if errors:
        raise ValidationError(errors)
    partner.updated_at = timezone.now()
    revisions.revise(
        actor,
        partner,
        PartnerRevision(partner=partner),
        version=version,
        reason=reason.strip(),
        changes={f: changes[f] for f in PARTNER_EDITABLE if f in changes},
        object_type=PARTNER_TYPE,
    )
    return partner


@service
def retire_partner(actor: User, partner_id: UUID | str, *, version: int, reason: str) -> Partner:
    partner = _locked_partner(actor, partner_id, version)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why you are retiring this entry"})
    partner.retired_at = timezone.now()
    partner.retired_by = actor
    partner.retirement_reason = reason.strip()
    partner.version += 1
    partner.updated_at = partner.retired_at
    partner.save()
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=PARTNER_TYPE,
        object_id=partner.pk,
        fields=("retired_at", "retirement_reason"),
        justification=reason.strip(),
    )
    return partner


# --------------------------------------------------------------------------- checklists
#
# Templates are kept by protection managers (permissions.may_manage_checklists): added, changed
# with the version read and a reason (each change a new ChecklistVersion, so earlier ones stay
# readable), retired with a reason. A case team applies the current version to its case: one
# task per item, all in one transaction, each ledgered like any task and marked with its origin.


def _checklist_items(items: list[dict[str, Any]], errors: dict[str, str]) -> list[ChecklistItem]:
    """The items as rows to save, numbered in the order given; blank titles are dropped."""
    rows: list[ChecklistItem] = []
    for number, item in enumerate(items, start=1):
        title = str(item.get("title") or "").strip()
        if not title:
            continue
        kind = item.get("kind") or TaskKind.TASK
        days = item.get("due_in_days")
        if len(title) > 300:
            errors[f"item_{number}"] = f"Item {number}: use 300 characters or fewer"
        elif kind not in (TaskKind.TASK, TaskKind.REVIEW):
            errors[f"item_{number}"] = f"Item {number}: choose task or review"
        elif days is not None and not (isinstance(days, int) and 0 <= days <= 3650):
            errors[f"item_{number}"] = f"Item {number}: due in 0 to 3650 days, or leave it blank"
        rows.append(ChecklistItem(position=len(rows) + 1, title=title, kind=kind, due_in_days=days))
    if not rows:
        errors["items"] = "Add at least one item"
    elif len(rows) > config.CHECKLIST_MAX_ITEMS:
        errors["items"] = f"A checklist holds {config.CHECKLIST_MAX_ITEMS} items or fewer"
    return rows


def _checklist_name(name: str, errors: dict[str, str]) -> str:
    name = (name or "").strip()
    if not name:
        errors["name"] = "Enter the checklist's name"
    elif len(name) > 200:
        errors["name"] = "Use 200 characters or fewer"
    return name


def _save_checklist_version(
    actor: User, template: ChecklistTemplate, name: str, reason: str, items: list[ChecklistItem]
) -> ChecklistVersion:
    made = ChecklistVersion.objects.create(
        template=template, number=template.version, name=name, reason=reason, made_by=actor
    )
    for item in items:
        item.checklist = made
    ChecklistItem.objects.bulk_create(items)
    return made


@service
def add_checklist(actor: User, *, name: str, items: list[dict[str, Any]]) -> ChecklistTemplate:
    permissions.require_manage_checklists(actor)
    errors: dict[str, str] = {}
    name = _checklist_name(name, errors)
    rows = _checklist_items(items, errors)
    if errors:
        raise ValidationError(errors)
    template = ChecklistTemplate.objects.create(name=name)
    _save_checklist_version(actor, template, name, "", rows)
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=CHECKLIST_TYPE,
        object_id=template.pk,
        fields=("name", "items"),
        justification="checklist template added",
        details={"version": 1, "items": len(rows)},
    )
    return template


def _locked_checklist(actor: User, template_id: UUID | str, version: int) -> ChecklistTemplate:
    permissions.require_manage_checklists(actor)
    template: ChecklistTemplate = locked_entry(
        find_checklist(actor, template_id), version, "checklist"
    )
    return template


@service
def edit_checklist(
    actor: User,
    template_id: UUID | str,
    *,
    version: int,
    reason: str,
    name: str | None = None,
    items: list[dict[str, Any]] | None = None,
) -> ChecklistTemplate:
    """A new version of the checklist (name and items as given, the rest as they were)."""
    template = _locked_checklist(actor, template_id, version)
    current = template.versions.get(number=template.version)
    errors: dict[str, str] = {}
    name = _checklist_name(current.name if name is None else name, errors)
    if items is None:
        items = [
            {"title": i.title, "kind": i.kind, "due_in_days": i.due_in_days}
            for i in current.items.all()
        ]
    rows = _checklist_items(items, errors)
    if not (reason or "").strip():
        errors["reason"] = "Say why you are changing this checklist"
    if errors:
        raise ValidationError(errors)
    as_was = [(i.title, i.kind, i.due_in_days) for i in current.items.all()]
    if name == current.name and as_was == [(r.title, r.kind, r.due_in_days) for r in rows]:
        raise ValidationError("Nothing has changed")
    template.version += 1
    template.name = name
    template.updated_at = timezone.now()
    template.save()
    _save_checklist_version(actor, template, name, reason.strip(), rows)
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=CHECKLIST_TYPE,
        object_id=template.pk,
        fields=("name", "items"),
        justification=reason.strip(),
        details={"version": template.version, "items": len(rows)},
    )
    return template


@service
def retire_checklist(
    actor: User, template_id: UUID | str, *, version: int, reason: str
) -> ChecklistTemplate:
    template = _locked_checklist(actor, template_id, version)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why you are retiring this checklist"})
    template.retired_at = timezone.now()
    template.retired_by = actor
    template.retirement_reason = reason.strip()
    template.updated_at = template.retired_at
    template.save()
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=CHECKLIST_TYPE,
        object_id=template.pk,
        fields=("retired_at", "retirement_reason"),
        justification=reason.strip(),
    )
    return template


ALREADY_APPLIED = "already_applied"


@service
def apply_checklist(
    actor: User,
    case_id: UUID | str,
    template_id: UUID | str,
    *,
    owner: User | None = None,
    start_on: date | None = None,
    confirm_repeat: bool = False,
) -> list[CaseTask]:
    """One task per item of the checklist's current version, due `due_in_days` after
    `start_on` (today unless given). Applying a checklist the case already has is refused
    unless `confirm_repeat` (the page asks first)."""
    case = find_visible_case(actor, case_id)
    permissions.require_add_tasks(actor, case)
    try:
        template = find_checklist(actor, template_id, active=True)
    except Http404 as missing:
        raise ValidationError({"checklist": "Choose a current checklist"}) from missing
    owner = owner or actor
    if owner not in case_team_users(case):
        raise ValidationError({"owner": "The owner must be on the case team"})
    if checklist_applied(case, template) and not confirm_repeat:
        raise ValidationError(
            {"confirm_repeat": f"{template.name} has already been applied to this case"},
            code=ALREADY_APPLIED,
        )
    start_on = start_on or timezone.localdate()
    current = template.versions.get(number=template.version)
    return [
        create_task_record(
            actor,
            case,
            kind=item.kind,
            title=item.title,
            details=f"From the {current.name}",
            owner=owner,
            due_on=start_on
            + timedelta(
                days=config.CHECKLIST_DEFAULT_DUE_DAYS
                if item.due_in_days is None
                else item.due_in_days
            ),
            checklist=current,
        )
        for item in current.items.all()
    ]


# --------------------------------------------------------------------------- linked cases


@service
def link_cases(
    actor: User, case_id: UUID | str, linked_case_id: UUID | str, *, reason: str
) -> CaseLink:
    """Link the case to another the actor may also see, with why (e.g. "her brother, protected
    in his own case"). A case the actor cannot see is refused exactly like one that is missing."""
    case = find_visible_case(actor, case_id)
    permissions.require_link_cases(actor, case)
    errors: dict[str, str] = {}
    try:
        other = find_visible_case(actor, references.object_id_for(linked_case_id, OBJECT_TYPE))
    except (CaseNotFound, references.UnknownReference):
        errors["linked_case"] = "Enter the reference of a case you can see"
        other = None
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Say how the cases are linked"
    elif len(reason) > 2000:
        errors["reason"] = "Use 2000 characters or fewer"
    if other is not None and other.pk == case.pk:
        errors["linked_case"] = "A case cannot be linked to itself"
    elif (
        other is not None
        and CaseLink.objects.filter(
            Q(case=case, linked_case=other) | Q(case=other, linked_case=case)
        ).exists()
    ):
        errors["linked_case"] = f"This case is already linked to {other.reference}"
    if errors:
        raise ValidationError(errors)
    assert other is not None
    link = CaseLink(case=case, linked_case=other, reason=reason, created_by=actor)
    link.save(force_insert=True)
    for end in (case, other):
        ledger.record(
            actor=actor,
            action=Action.COLLECTION,
            object_type=CASE_LINK_TYPE,
            object_id=link.pk,
            case_id=end.pk,
            fields=("case", "linked_case", "reason"),
            justification="cases linked",
            details={"case": str(case.pk), "linked_case": str(other.pk)},
        )
    return link
