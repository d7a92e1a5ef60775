"""Case writes. Each is one transaction that also writes its ledger entry."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from haven.access import policy
from haven.access.models import AccessGrant, GrantKind, Notification, TeamMembership, TeamRole
from haven.accounts.models import User
from haven.accounts.roles import Clearance, Role
from haven.audit import ledger
from haven.audit.models import Action

from .models import OBJECT_TYPE, Case, IdentityRecord
from .selectors import CaseNotFound, case_for_management, find_identity_case, find_visible_case


class ConflictError(Exception):
    """Someone else saved the record after it was read (optimistic locking)."""


def next_reference() -> str:
    year = timezone.localdate().year
    count = Case.objects.filter(reference__startswith=f"HVN-{year}-").count()
    return f"HVN-{year}-{count + 1:05d}"


def validate_dob(dob: date | None) -> None:
    if dob is not None and dob > timezone.localdate():
        raise ValidationError({"subject_dob": "Date of birth must be in the past"})


@transaction.atomic
def create_case(
    actor: User,
    *,
    subject_name: str,
    subject_dob: date | None = None,
    address: str = "",
    classification: int = Clearance.SECRET,
    lead: User | None = None,
    manager: User | None = None,
) -> Case:
    if not actor.has_role(Role.PROTECTION_OFFICER, Role.PROTECTION_MANAGER):
        raise ValidationError("Only protection officers and managers open cases")
    if not subject_name.strip():
        raise ValidationError({"subject_name": "Enter the subject's name"})
    validate_dob(subject_dob)
    case = Case(
        reference=next_reference(),
        subject_name=subject_name.strip(),
        subject_dob=subject_dob,
        address=address.strip(),
        classification=classification,
    )
    case.save(force_insert=True)
    add_member(case, lead or actor, TeamRole.LEAD)
    if manager is not None:
        add_member(case, manager, TeamRole.MANAGER)
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        fields=("subject_name", "subject_dob", "address", "classification"),
        justification="case opened",
    )
    return case


def add_member(case: Case, user: User, team_role: str) -> None:
    TeamMembership.objects.get_or_create(
        object_type=OBJECT_TYPE, object_id=case.pk, user=user, team_role=team_role
    )


@transaction.atomic
def update_case(
    actor: User, case_id: UUID | str, *, version: int, reason: str, **changes: object
) -> Case:
    """Change the case's protected fields; a stale `version` is refused, never overwritten."""
    case = find_visible_case(actor, case_id)
    allowed = {"subject_name", "subject_dob", "address"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be changed here: {', '.join(sorted(unknown))}")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the record is changing"})
    if "subject_dob" in changes:
        validate_dob(changes["subject_dob"])  # type: ignore[arg-type]
    updated = Case.objects.filter(pk=case.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone.now()
    )
    if updated == 0:
        raise ConflictError("This case was changed by someone else. Reload it and try again.")
    for name, value in changes.items():
        setattr(case, name, value)
    case.version = version + 1
    case.save(update_fields=[*changes, "name_index", "dob_index"])
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


@transaction.atomic
def add_team_member(actor: User, case_id: UUID | str, member: User, team_role: str) -> None:
    case = case_for_management(actor, case_id)
    if team_role not in TeamRole.values:
        raise ValidationError({"team_role": "Choose a team role"})
    if member.clearance < case.classification:
        raise ValidationError({"user": f"{member} is not cleared to {case.marking}"})
    add_member(case, member, team_role)
    ledger.record(
        actor=actor,
        action=Action.ACCESS_GRANT,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        recipients=[member.username],
        justification=f"added to team as {team_role}",
    )


@transaction.atomic
def grant_access(
    actor: User, case_id: UUID | str, grantee: User, *, reason: str, days: int
) -> AccessGrant:
    case = case_for_management(actor, case_id)
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason for the grant"})
    if not 1 <= days <= policy.MAX_GRANT_DAYS:
        raise ValidationError({"days": f"A grant lasts from 1 to {policy.MAX_GRANT_DAYS} days"})
    if grantee.clearance < case.classification:
        raise ValidationError({"user": f"{grantee} is not cleared to {case.marking}"})
    grant = AccessGrant.objects.create(
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        user=grantee,
        kind=GrantKind.GRANT,
        reason=reason.strip(),
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
        details={"expires_at": grant.expires_at.isoformat()},
    )
    return grant


@transaction.atomic
def break_glass(actor: User, reference: str, reason: str) -> Case:
    """A manager opens a case outside their team: short, alerted, and loud in the ledger."""
    if not actor.has_role(Role.PROTECTION_MANAGER):
        raise PermissionDenied("Only protection managers can use break-glass access")
    if not reason.strip():
        raise ValidationError({"reason": "Break-glass access needs a reason"})
    case = Case.objects.filter(
        reference=reference.strip().upper(), classification__lte=actor.clearance
    ).first()
    if case is None:
        raise CaseNotFound("No case can be opened with that reference")
    expires_at = timezone.now() + timedelta(minutes=policy.BREAK_GLASS_MINUTES)
    AccessGrant.objects.create(
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        user=actor,
        kind=GrantKind.BREAK_GLASS,
        reason=reason.strip(),
        granted_by=actor,
        expires_at=expires_at,
    )
    managers = list(policy.team_managers(OBJECT_TYPE, case.pk))
    Notification.objects.bulk_create(
        Notification(
            user=manager,
            message=f"{actor} used break-glass access on {case.reference}: {reason.strip()}",
            link=f"/cases/{case.pk}/",
        )
        for manager in managers
    )
    ledger.record(
        actor=actor,
        action=Action.BREAK_GLASS,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
        case_id=case.pk,
        recipients=[manager.username for manager in managers],
        justification=reason.strip(),
        details={"expires_at": expires_at.isoformat()},
    )
    return case


@transaction.atomic
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
