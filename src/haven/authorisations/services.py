"""Writes to the register: record, review, renew, cancel, link; expiry reminders; and the
quarantine of reports received outside every authorised period (called by telemetry's ingest,
inside its transaction). One transaction each, each ledgered."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from haven.access import modules
from haven.accounts.models import User
from haven.accounts.roles import Module, Role
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.locking import check_version
from haven.concurrency.transactions import service
from haven.notifications import services as notifications
from haven.notifications.models import AlertCategory

from . import selectors
from .config import remind_before
from .models import (
    AUTHORISATION,
    QUARANTINE,
    Authorisation,
    AuthorisationKind,
    Link,
    QuarantinedPosition,
    Renewal,
    Review,
)


def _fail(field: str | None, message: str) -> ValidationError:
    return ValidationError({field: [message]} if field else message)


def _record(actor: User | None, authorisation: Authorisation, what: str, **details: Any) -> None:
    ledger.record(
        actor=actor,
        action=Action.COLLECTION if what == "recorded" else Action.ALTERATION,
        object_type=AUTHORISATION,
        object_id=authorisation.pk,
        details={"event": what, "reference": authorisation.reference, **details},
    )


def _save_change(
    actor: User, authorisation: Authorisation, changed: list[str], what: str, **details: Any
) -> None:
    """Save the `changed` fields as the authorisation's next version, and ledger the change."""
    authorisation.version += 1
    authorisation.save(update_fields=[*changed, "version"])
    _record(actor, authorisation, what, **details)


def _for_change(actor: User, authorisation_id: UUID | str, version: int | None) -> Authorisation:
    selectors.require_supervisor(actor)
    try:
        authorisation = Authorisation.objects.select_for_update().get(pk=authorisation_id)
    except (Authorisation.DoesNotExist, ValueError, TypeError) as missing:
        raise selectors.NotFound("No such authorisation") from missing
    if version is not None:
        check_version(authorisation.version, version, "authorisation")
    return authorisation


@service
def record_authorisation(
    actor: User,
    *,
    reference: str,
    kind: str,
    authorising_officer: str,
    granted_at: dt.datetime,
    expires_at: dt.datetime,
    summary: str = "",
    next_review_at: dt.datetime | None = None,
) -> Authorisation:
    selectors.require_supervisor(actor)
    reference = (reference or "").strip()
    if not reference:
        raise _fail("reference", "Enter the reference on the authorisation or warrant")
    if Authorisation.objects.filter(reference=reference).exists():
        raise _fail("reference", "An authorisation with that reference is already recorded")
    if kind not in AuthorisationKind.values:
        raise _fail("kind", "Select the kind of authorisation")
    if not (authorising_officer or "").strip():
        raise _fail("authorising_officer", "Enter the authorising officer")
    if expires_at <= granted_at:
        raise _fail("expires_at", "The expiry must be after the grant")
    authorisation = Authorisation.objects.create(
        reference=reference[:60],
        kind=kind,
        authorising_officer=authorising_officer.strip()[:200],
        summary=(summary or "").strip()[:2000],
        granted_at=granted_at,
        expires_at=expires_at,
        next_review_at=next_review_at,
        created_by=actor,
    )
    _record(actor, authorisation, "recorded", kind=kind)
    return authorisation


@service
def record_review(
    actor: User,
    authorisation_id: UUID | str,
    *,
    reviewed_at: dt.datetime,
    note: str = "",
    next_review_at: dt.datetime | None = None,
) -> Review:
    authorisation = _for_change(actor, authorisation_id, None)
    if reviewed_at < authorisation.granted_at:
        raise _fail("reviewed_at", "A review cannot come before the grant")
    review = Review.objects.create(
        authorisation=authorisation,
        reviewed_at=reviewed_at,
        reviewed_by=actor,
        note=(note or "").strip()[:2000],
    )
    authorisation.next_review_at = next_review_at
    _save_change(actor, authorisation, ["next_review_at"], "reviewed", object_id=str(review.pk))
    return review


@service
def renew(
    actor: User,
    authorisation_id: UUID | str,
    *,
    renewed_at: dt.datetime,
    expires_at: dt.datetime,
    note: str = "",
    version: int | None = None,
) -> Renewal:
    authorisation = _for_change(actor, authorisation_id, version)
    if authorisation.cancelled_at is not None:
        raise _fail(None, "A cancelled authorisation cannot be renewed")
    if expires_at <= authorisation.expires_at:
        raise _fail("expires_at", "A renewal must move the expiry later")
    renewal = Renewal.objects.create(
        authorisation=authorisation,
        renewed_at=renewed_at,
        previous_expires_at=authorisation.expires_at,
        expires_at=expires_at,
        renewed_by=actor,
        note=(note or "").strip()[:2000],
    )
    authorisation.expires_at = expires_at
    _save_change(actor, authorisation, ["expires_at"], "renewed", expires_at=expires_at.isoformat())
    return renewal


@service
def cancel(
    actor: User,
    authorisation_id: UUID | str,
    *,
    cancelled_at: dt.datetime,
    reason: str,
    version: int | None = None,
) -> Authorisation:
    authorisation = _for_change(actor, authorisation_id, version)
    if authorisation.cancelled_at is not None:
        raise _fail(None, "This authorisation is already cancelled")
    if not (reason or "").strip():
        raise _fail("reason", "Enter why the authorisation was cancelled")
    if cancelled_at < authorisation.granted_at:
        raise _fail("cancelled_at", "A cancellation cannot come before the grant")
    authorisation.cancelled_at = cancelled_at
    authorisation.cancelled_by = actor
    authorisation.cancellation_reason = reason.strip()[:2000]
    changed = ["cancelled_at", "cancelled_by", "cancellation_reason"]
    _save_change(actor, authorisation, changed, "cancelled", ends_at=cancelled_at.isoformat())
    return authorisation


@service
def link(
    actor: User,
    authorisation_id: UUID | str,
    *,
    label: str,
    deployment_id: UUID | None = None,
    device_pk: UUID | None = None,
) -> Link:
    """Put a deployment or a tracker (resolved by the caller, who checked it may see it) under
    the authorisation."""
    authorisation = _for_change(actor, authorisation_id, None)
    if (deployment_id is None) == (device_pk is None):
        raise _fail(None, "Link one deployment or one tracker")
    existing = authorisation.links.filter(deployment_id=deployment_id, device_pk=device_pk)
    if existing.exists():
        raise _fail(None, f"{label} is already linked to this authorisation")
    row = Link.objects.create(
        authorisation=authorisation,
        deployment_id=deployment_id,
        device_pk=device_pk,
        label=label[:120],
        linked_by=actor,
    )
    _record(
        actor,
        authorisation,
        "linked",
        target="deployment" if deployment_id else "device",
        object_id=str(deployment_id or device_pk),
    )
    return row


# ------------------------------------------------------------------------------ reminders


def _supervisors() -> list[User]:
    return [
        u for u in modules.module_people(Module.OPERATIONS) if u.has_role(Role.TECHNICAL_SUPERVISOR)
    ]


@service
def remind_expiring(now: dt.datetime | None = None) -> list[Authorisation]:
    """Remind the technical supervisors (and whoever recorded it) of each authorisation in force
    that expires within the configured notice, once per expiry (a renewal moves the expiry and
    so earns a new reminder). Run by the scheduler (schedule.py)."""
    now = now or timezone.now()
    due = list(selectors.due_reminders(now, remind_before()).select_for_update())
    people = _supervisors()
    for authorisation in due:
        recipients = {user.pk: user for user in people}
        recipients[authorisation.created_by_id] = authorisation.created_by
        link = reverse("authorisations:detail", args=[authorisation.pk])
        notifications.notify_each(
            recipients.values(),
            AlertCategory.DEADLINE,
            authorisation.reference,
            f"Authorisation {authorisation.reference} expires "
            f"{timezone.localtime(authorisation.expires_at):%d %b %Y %H:%M}: renew or cancel it.",
            link,
        )
        authorisation.reminded_for = authorisation.expires_at
        authorisation.save(update_fields=["reminded_for"])
        _record(None, authorisation, "expiry_reminder", count=len(recipients))
    return due


# ------------------------------------------------------------------------------ quarantine


@dataclass(frozen=True)
class OutsideReport:
    """A tracker's report for a time outside every authorised period (from telemetry)."""

    device_pk: UUID
    device_label: str
    fix_time: dt.datetime
    received_at: dt.datetime
    report: dict[str, Any]
    # The unauthorised period the fix falls in (selectors.gap_around): from the end of the
    # last authorised period before it to the start of the next (None: open on that side).
    gap: tuple[dt.datetime | None, dt.datetime | None] = (None, None)


def _already_flagged(device_pk: UUID, gap: tuple[dt.datetime | None, dt.datetime | None]) -> bool:
    """Whether the tracker has reports in quarantine from this unauthorised period already."""
    starts, ends = gap
    kept = QuarantinedPosition.objects.filter(device_pk=device_pk)
    if starts is not None:
        kept = kept.filter(fix_time__gte=starts)
    if ends is not None:
        kept = kept.filter(fix_time__lt=ends)
    return kept.exists()


def _tell_supervisors(label: str, rows: list[OutsideReport]) -> None:
    """One notice to the technical supervisors for a tracker's first reports in a period no
    authorisation covers (later reports in the same period are kept without a new notice)."""
    first = min(r.fix_time for r in rows)
    notifications.notify_each(
        _supervisors(),
        AlertCategory.TELEMETRY,
        "",  # the reference leaves Haven: a covert tracker's identifier stays in the inbox text
        f"Tracker {label} reported a position for {timezone.localtime(first):%d %b %Y %H:%M}, "
        "outside every authorised period. It is kept apart in quarantine: check the "
        "authorisation and the deployment.",
        reverse("authorisations:quarantine"),
    )


@service
def quarantine(reports: Sequence[OutsideReport]) -> int:
    """Keep reports received outside the authorised period apart from the positions, flagged,
    with one ledger entry per tracker (a collection without authority), and tell the technical
    supervisors once per tracker and unauthorised period (not per fix). Idempotent on
    (tracker, fix time): a resend is not kept twice. Returns how many were new."""
    stored = 0
    by_device: dict[UUID, list[OutsideReport]] = defaultdict(list)
    for report in reports:
        by_device[report.device_pk].append(report)
    for device_pk, rows in by_device.items():
        known = set(
            QuarantinedPosition.objects.filter(
                device_pk=device_pk, fix_time__in=[r.fix_time for r in rows]
            ).values_list("fix_time", flat=True)
        )
        # Once per fix time: the database's, then this batch's own resends.
        new = list({r.fix_time: r for r in rows if r.fix_time not in known}.values())
        by_gap: dict[tuple[dt.datetime | None, dt.datetime | None], list[OutsideReport]] = (
            defaultdict(list)
        )
        for report in new:
            by_gap[report.gap].append(report)
        unannounced = [
            gap_rows for gap, gap_rows in by_gap.items() if not _already_flagged(device_pk, gap)
        ]
        for report in new:
            QuarantinedPosition.objects.create(
                device_pk=device_pk,
                device_label=report.device_label[:80],
                fix_time=report.fix_time,
                received_at=report.received_at,
                reason="received for a time outside every authorised period",
                report=report.report,
            )
            stored += 1
        if new:
            ledger.record(
                actor=None,
                action=Action.COLLECTION,
                object_type=QUARANTINE,
                object_id=device_pk,
                fields=["report"],
                details={
                    "event": "outside_authority",  # the flag: collected without authority
                    "count": len(new),
                    "starts_at": min(r.fix_time for r in new).isoformat(),
                    "ends_at": max(r.fix_time for r in new).isoformat(),
                    "supervisors_told": len(unannounced),
                },
            )
        for gap_rows in unannounced:
            _tell_supervisors(gap_rows[0].device_label[:80], gap_rows)
    return stored
