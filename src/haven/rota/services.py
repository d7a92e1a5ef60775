"""Rota and welfare writes: one transaction each, with its ledger entry.

Working-time breaches are flagged, never blocked (WTR 1998 reg 18/21, see working_time.py).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone

from haven import revisions
from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service
from haven.notifications import services as notifications
from haven.notifications.models import AlertCategory
from haven.vault.fields import create_sealed

from . import permissions, selectors, welfare
from .models import (
    ROTA,
    AllowanceBasis,
    AllowanceTier,
    CompensatoryRest,
    FeedToken,
    LayerMember,
    LeavePeriod,
    Override,
    RestException,
    Rota,
    RotaLayer,
    Rotation,
    ShiftSwap,
    SwapStatus,
    WeeklyRestOption,
    WelfareNote,
    WelfareNoteRevision,
    WelfareProfile,
    WorkingTimeTerms,
    WorkKind,
    WorkPeriod,
    validate_zone,
)
from .selectors import require_supervisor
from .staff import OPERATIONS, StaffGroup
from .workflow import SWAP_TRANSITIONS

FEED_PREFIX = "hvc_"


def _fail(field: str | None, message: str) -> ValidationError:
    return ValidationError({field: message} if field else message)


def _group_person(group: StaffGroup, user: User | None, field: str = "person") -> User:
    """An active person of the staff group (welfare records are kept per group)."""
    if user is None or not user.is_active or not group.includes(user):
        raise _fail(field, f"Choose {group.people_label}")
    return user


@service
def create_rota(
    actor: User,
    *,
    name: str,
    starts_on: dt.date,
    time_zone: str = "Europe/London",
    ends_on: dt.date | None = None,
    allowance_tier: AllowanceTier | None = None,
    description: str = "",
    group: StaffGroup = OPERATIONS,
) -> Rota:
    """A new rota of the group (its supervisors only)."""
    group.require_supervisor(actor)
    if not name.strip():
        raise _fail("name", "Name the rota")
    if Rota.objects.filter(name=name.strip()).exists():
        raise _fail("name", "A rota with this name exists")
    try:
        validate_zone(time_zone)
    except ValidationError as error:
        raise _fail("time_zone", error.messages[0]) from error
    if ends_on is not None and ends_on < starts_on:
        raise _fail("ends_on", "The rota must end after it starts")
    rota = Rota.objects.create(
        name=name.strip(),
        starts_on=starts_on,
        ends_on=ends_on,
        time_zone=time_zone,
        allowance_tier=allowance_tier,
        description=description.strip(),
        created_by=actor,
        group=group.code,
    )
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=ROTA,
        object_id=rota.pk,
        justification="rota created",
        details={"group": group.code},
    )
    return rota


@service
def add_layer(
    actor: User,
    rota_id: UUID | str,
    *,
    name: str,
    members: Sequence[User],
    handover_time: dt.time,
    rotation: str = Rotation.WEEKLY,
    priority: int = 1,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    days_of_week: Sequence[int] = (),
    group: StaffGroup = OPERATIONS,
) -> RotaLayer:
    """A rotation of the group's people (a member from outside the group is refused)."""
    group.require_supervisor(actor)
    rota = selectors.get_rota(actor, rota_id, group)
    if not name.strip():
        raise _fail("name", "Name the layer")
    if rota.layers.filter(name=name.strip()).exists():
        raise _fail("name", "This rota already has a layer with that name")
    if rotation not in Rotation.values:
        raise _fail("rotation", "Choose daily or weekly")
    if not members:
        raise _fail("members", "Choose who is on this layer")
    for member in members:
        _group_person(group, member, "members")
    if any(day not in range(7) for day in days_of_week):
        raise _fail("days_of_week", "Days are 0 (Monday) to 6 (Sunday)")
    starts_on = starts_on or rota.starts_on
    if starts_on < rota.starts_on or (rota.ends_on and starts_on > rota.ends_on):
        raise _fail("starts_on", "The layer must start within the rota's dates")
    if ends_on is not None and ends_on < starts_on:
        raise _fail("ends_on", "The layer must end after it starts")
    if not 1 <= priority <= 99:
        raise _fail("priority", "Priority is 1 to 99 (higher wins)")
    layer = RotaLayer.objects.create(
        rota=rota,
        name=name.strip(),
        priority=priority,
        rotation=rotation,
        handover_time=handover_time,
        starts_on=starts_on,
        ends_on=ends_on,
        days_of_week=sorted(set(days_of_week)),
    )
    LayerMember.objects.bulk_create(
        LayerMember(layer=layer, user=member, position=position)
        for position, member in enumerate(members)
    )
    _tell_rota(
        [member for member in members if member.pk != actor.pk],
        rota,
        f"{actor} put you on the on-call rota {rota.name} ({layer.name}: "
        f"{layer.get_rotation_display().lower()} from {starts_on:%d %b %Y}, handover "
        f"{handover_time:%H:%M}).",
    )
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=ROTA,
        object_id=rota.pk,
        fields=("layers",),
        justification=f"layer {layer.name} added",
        details={"members": [m.username for m in members]},
    )
    return layer


def _within_rota(rota: Rota, starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    rota_start, rota_end = selectors.rota_bounds(rota)
    if starts_at < rota_start or (rota_end is not None and ends_at > rota_end):
        raise _fail("starts_at", "That time is outside the rota's dates")


def _check_span(starts_at: dt.datetime | None, ends_at: dt.datetime | None) -> None:
    if starts_at is None or ends_at is None:
        raise _fail("starts_at", "Enter a start and an end")
    if ends_at <= starts_at:
        raise _fail("ends_at", "The end must be after the start")


@service
def add_override(
    actor: User,
    rota_id: UUID | str,
    *,
    user: User,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str,
    group: StaffGroup = OPERATIONS,
) -> Override:
    group.require_supervisor(actor)
    rota = selectors.get_rota(actor, rota_id, group)
    _group_person(group, user, "user")
    _check_span(starts_at, ends_at)
    _within_rota(rota, starts_at, ends_at)
    if not reason.strip():
        raise _fail("reason", "Give a reason for the override")
    override = create_sealed(
        Override,
        {"reason": reason.strip()},
        rota=rota,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor,
    )
    if user.pk != actor.pk:
        zone = rota.zone
        _tell_rota(
            [user],
            rota,
            f"{actor} put you on call on {rota.name} from "
            f"{starts_at.astimezone(zone):%d %b %H:%M} to {ends_at.astimezone(zone):%d %b %H:%M}.",
        )
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=ROTA,
        object_id=rota.pk,
        fields=("overrides",),
        recipients=[user.username],
        justification=reason.strip(),
        details={"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()},
    )
    return override


@service
def request_swap(
    actor: User,
    rota_id: UUID | str,
    *,
    counterpart: User,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str = "",
    group: StaffGroup = OPERATIONS,
) -> ShiftSwap:
    """Ask a colleague to cover (part of) your own shift. Nothing changes until they accept."""
    group.require_member(actor)
    rota = selectors.get_rota(actor, rota_id, group)
    _group_person(group, counterpart, "counterpart")
    if counterpart.pk == actor.pk:
        raise _fail("counterpart", "Choose a colleague, not yourself")
    _check_span(starts_at, ends_at)
    _within_rota(rota, starts_at, ends_at)
    if starts_at <= timezone.now():
        raise _fail("starts_at", "Only future shifts can be swapped")
    segments = selectors.resolve(rota, starts_at, ends_at)
    if not segments or any(s.user is None or s.user.pk != actor.pk for s in segments):
        raise _fail("starts_at", "You are not on call for all of that time")
    swap = ShiftSwap.objects.create(
        rota=rota,
        requester=actor,
        counterpart=counterpart,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason.strip(),
    )
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="shift_swap",
        object_id=swap.pk,
        recipients=[counterpart.username],
        justification="swap requested",
    )
    _tell(counterpart, swap, f"{actor} asks you to cover {_span(swap)} on {rota.name}.")
    return swap


def _span(swap: ShiftSwap) -> str:
    zone = swap.rota.zone  # the rota's own clock, as its pages show it
    starts, ends = swap.starts_at.astimezone(zone), swap.ends_at.astimezone(zone)
    return f"{starts:%d %b %H:%M} to {ends:%d %b %H:%M}"


def rota_page(rota: Rota) -> str:
    """The rota's page on its own group's side: /operations/rota/… or /protection/rota/…."""
    return f"/{rota.group}/rota/{rota.pk}/"


def _tell_rota(people: Sequence[User], rota: Rota, message: str) -> None:
    """Tell people put on a rota by someone else (inbox, then their contact methods)."""
    notifications.notify_each(people, AlertCategory.ROTA, "", message, rota_page(rota))


@service
def remind_upcoming_shifts(now: dt.datetime | None = None) -> int:
    """Remind each person whose on-call shift starts within the notice
    (settings.SHIFT_REMINDER_HOURS) on every group's rotas, once per shift: a reminder already
    in their inbox for that rota and start is not sent again. Run by the scheduler
    (schedule.py). Returns how many were sent."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(hours=settings.SHIFT_REMINDER_HOURS)
    sent = 0
    for rota in Rota.objects.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=now.date())):
        reminded, link = [], rota_page(rota)
        for segment in selectors.resolve(rota, now, horizon):
            person = segment.user
            if person is None or not person.is_active or segment.starts_at <= now:
                continue  # a gap, a closed account, or a shift already under way
            starts = segment.starts_at.astimezone(rota.zone)
            reference = f"on call {starts:%d %b %Y %H:%M}"
            if person.notifications.filter(
                category=AlertCategory.REMINDER, reference=reference, link=link
            ).exists():
                continue
            notifications.notify(
                person,
                AlertCategory.REMINDER,
                reference,
                f"Your on-call shift on {rota.name} starts {starts:%A %d %b at %H:%M}.",
                link,
            )
            reminded.append(person.username)
        if reminded:
            ledger.record(
                actor=None,
                action=Action.DISCLOSURE,
                object_type=ROTA,
                object_id=rota.pk,
                recipients=reminded,
                justification="on-call shift reminders",
            )
            sent += len(reminded)
    return sent


def _tell(user: User, swap: ShiftSwap, message: str) -> None:
    # The rota's own group's pages: /operations/rota/ or /protection/rota/.
    link = f"/{swap.rota.group}/rota/"
    notifications.notify(user, AlertCategory.SWAP, f"swap {swap.pk}", message, link)


@service
def accept_swap(actor: User, swap_id: int | str, group: StaffGroup = OPERATIONS) -> ShiftSwap:
    """Only the colleague asked can accept; the swap then takes effect as an override."""
    swap = _locked_swap(actor, swap_id, group)
    if swap.counterpart_id != actor.pk:
        raise _fail(None, "Only the colleague who was asked can accept this swap")
    SWAP_TRANSITIONS.check(swap.status, SwapStatus.ACCEPTED)
    if swap.starts_at <= timezone.now():
        raise _fail(None, "This shift has started: ask a supervisor for an override instead")
    segments = selectors.resolve(swap.rota, swap.starts_at, swap.ends_at)
    if any(s.user is None or s.user.pk != swap.requester_id for s in segments):
        raise _fail(None, f"{swap.requester} is no longer on call for all of that time")
    swap.override = create_sealed(
        Override,
        {"reason": f"Swap with {swap.requester}"},
        rota=swap.rota,
        user=actor,
        starts_at=swap.starts_at,
        ends_at=swap.ends_at,
        created_by=actor,
    )
    swap.status, swap.decided_at = SwapStatus.ACCEPTED, timezone.now()
    swap.save()
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type="shift_swap",
        object_id=swap.pk,
        recipients=[swap.requester.username],
        justification="swap accepted",
    )
    _tell(swap.requester, swap, f"{actor} accepted your swap for {_span(swap)}.")
    return swap


@service
def decline_swap(actor: User, swap_id: int | str, group: StaffGroup = OPERATIONS) -> ShiftSwap:
    swap = _locked_swap(actor, swap_id, group)
    if actor.pk == swap.counterpart_id:
        new_status = SwapStatus.DECLINED
    elif actor.pk == swap.requester_id:
        new_status = SwapStatus.CANCELLED
    else:
        raise _fail(None, "Only the two people in the swap can decline or cancel it")
    SWAP_TRANSITIONS.check(swap.status, new_status)
    swap.status, swap.decided_at = new_status, timezone.now()
    swap.save()
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type="shift_swap",
        object_id=swap.pk,
        justification=f"swap {new_status}",
    )
    other = swap.requester if actor.pk == swap.counterpart_id else swap.counterpart
    _tell(other, swap, f"{actor} {new_status} the swap for {_span(swap)}.")
    return swap


def _locked_swap(actor: User, swap_id: int | str, group: StaffGroup) -> ShiftSwap:
    selectors.get_swap(actor, swap_id, group)
    return ShiftSwap.objects.select_for_update().select_related("rota", "requester").get(pk=swap_id)


# ------------------------------------------------------------------------------ iCal feed


@service
def issue_feed_token(actor: User, group: StaffGroup = OPERATIONS) -> tuple[FeedToken, str]:
    """A new secret feed URL; any earlier one stops working. One feed per person: it shows
    their shifts on the rotas of every group they belong to."""
    group.require_member(actor)
    now = timezone.now()
    for old in FeedToken.objects.select_for_update().filter(user=actor, revoked_at__isnull=True):
        old.revoked_at = now
        old.save(update_fields=["revoked_at"])
    secret = FEED_PREFIX + secrets.token_urlsafe(32)
    token = FeedToken.objects.create(
        user=actor, key_hash=FeedToken.hash_secret(secret), hint=secret[:10]
    )
    ledger.record(
        actor=actor,
        action=Action.ACCESS_GRANT,
        object_type="rota_feed",
        object_id=token.pk,
        justification="calendar feed issued",
    )
    return token, secret


@service
def revoke_feed_token(actor: User, group: StaffGroup = OPERATIONS) -> int:
    group.require_member(actor)
    count = 0
    for token in FeedToken.objects.select_for_update().filter(user=actor, revoked_at__isnull=True):
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        count += 1
        ledger.record(
            actor=actor,
            action=Action.ALTERATION,
            object_type="rota_feed",
            object_id=token.pk,
            justification="calendar feed revoked",
        )
    return count


# ------------------------------------------------------------------------------ welfare


@service
def record_work(
    actor: User,
    *,
    person: User | None,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    break_minutes: int = 0,
    kind: str = WorkKind.SHIFT,
    note: str = "",
    group: StaffGroup = OPERATIONS,
) -> tuple[WorkPeriod, list[welfare.Flag]]:
    """Record time worked; return the person's working-time flags (flagged, not blocked)."""
    group.require_member(actor)
    person = _group_person(group, person)
    if person.pk != actor.pk and not group.supervises(actor):
        raise _fail("person", "You can record only your own time")
    _check_span(starts_at, ends_at)
    if ends_at - starts_at > dt.timedelta(hours=48):
        raise _fail("ends_at", "Record one period of work at a time (48 hours at most)")
    if break_minutes < 0 or dt.timedelta(minutes=break_minutes) >= ends_at - starts_at:
        raise _fail("break_minutes", "The break must be shorter than the period worked")
    if kind not in WorkKind.values:
        raise _fail("kind", "Choose the kind of work")
    if WorkPeriod.objects.filter(
        user=person, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exists():
        raise _fail("starts_at", "This overlaps time already recorded for this person")
    period = WorkPeriod.objects.create(
        user=person,
        starts_at=starts_at,
        ends_at=ends_at,
        break_minutes=break_minutes,
        kind=kind,
        note=note.strip(),
        recorded_by=actor,
    )
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="work_period",
        object_id=period.pk,
        recipients=[] if person.pk == actor.pk else [person.username],
        justification="working time recorded",
    )
    flags = selectors.assess_people([person], max(ends_at, timezone.now())).pop().assessment.flags
    return period, flags


@service
def set_working_time_terms(
    actor: User,
    *,
    person: User | None,
    employment_started_on: dt.date | None,
    opt_out_signed_on: dt.date | None,
    opt_out_ended_on: dt.date | None,
    weekly_rest_option: str,
    group: StaffGroup = OPERATIONS,
) -> WorkingTimeTerms:
    """Record the facts the limits depend on: start of employment (reg 4(4)), the written
    opt-out and its end (reg 5: the worker may end it on notice), the weekly-rest option."""
    group.require_supervisor(actor)
    person = _group_person(group, person)
    today = timezone.localdate()
    for field, value in (
        ("employment_started_on", employment_started_on),
        ("opt_out_signed_on", opt_out_signed_on),
    ):
        if value is not None and value > today:
            raise _fail(field, "The date must not be in the future")
    if opt_out_ended_on is not None and (
        opt_out_signed_on is None or opt_out_ended_on < opt_out_signed_on
    ):
        raise _fail("opt_out_ended_on", "An opt-out can only end after it was signed")
    if weekly_rest_option not in WeeklyRestOption.values:
        raise _fail("weekly_rest_option", "Choose the weekly-rest option")
    terms = WorkingTimeTerms.objects.filter(user=person).first() or WorkingTimeTerms(user=person)
    terms.employment_started_on = employment_started_on
    terms.opt_out_signed_on = opt_out_signed_on
    terms.opt_out_ended_on = opt_out_ended_on
    terms.weekly_rest_option = weekly_rest_option
    terms.updated_at = timezone.now()
    terms.save()
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type="working_time_terms",
        object_id=person.pk,
        fields=("employment_started_on", "opt_out", "weekly_rest_option"),
        justification="working-time terms recorded",
    )
    return terms


@service
def record_leave(
    actor: User,
    *,
    person: User | None,
    starts_on: dt.date,
    ends_on: dt.date,
    group: StaffGroup = OPERATIONS,
) -> LeavePeriod:
    """Leave excluded from the 48-hour reference period (reg 4(7))."""
    group.require_supervisor(actor)
    person = _group_person(group, person)
    if ends_on < starts_on:
        raise _fail("ends_on", "Leave must end on or after the day it starts")
    if (ends_on - starts_on).days > 366:
        raise _fail("ends_on", "Record leave a year at most at a time")
    if LeavePeriod.objects.filter(
        user=person, starts_on__lte=ends_on, ends_on__gte=starts_on
    ).exists():
        raise _fail("starts_on", "This overlaps leave already recorded")
    leave = LeavePeriod.objects.create(
        user=person, starts_on=starts_on, ends_on=ends_on, recorded_by=actor
    )
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="leave_period",
        object_id=leave.pk,
        recipients=[person.username],
        justification="leave recorded for working time",
    )
    return leave


COMPENSABLE_RULES = ("daily_rest", "weekly_rest", "rest_break")


@service
def record_compensatory_rest(
    actor: User,
    *,
    person: User | None,
    rule_code: str,
    breach_on: dt.date,
    hours: Decimal,
    exception: str,
    group: StaffGroup = OPERATIONS,
) -> CompensatoryRest:
    """Compensatory rest given for a rest or break displaced under an exception (reg 24)."""
    group.require_supervisor(actor)
    person = _group_person(group, person)
    if rule_code not in COMPENSABLE_RULES:
        raise _fail("rule_code", "Choose the rest or break that was displaced")
    if exception not in RestException.values:
        raise _fail("exception", "Choose the exception relied on")
    if breach_on > timezone.localdate():
        raise _fail("breach_on", "The date must not be in the future")
    if not Decimal("0") < hours <= Decimal("96"):
        raise _fail("hours", "Give the hours of rest given (up to 96)")
    rest = CompensatoryRest.objects.create(
        user=person,
        rule_code=rule_code,
        breach_on=breach_on,
        hours=hours,
        exception=exception,
        recorded_by=actor,
    )
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="compensatory_rest",
        object_id=rest.pk,
        recipients=[person.username],
        justification="compensatory rest recorded",
    )
    return rest


@service
def record_psych_assessment(
    actor: User, *, person: User | None, assessed_on: dt.date, group: StaffGroup = OPERATIONS
) -> WelfareProfile:
    group.require_supervisor(actor)
    person = _group_person(group, person)
    if assessed_on > timezone.localdate():
        raise _fail("assessed_on", "The assessment date must not be in the future")
    profile = WelfareProfile.objects.filter(user=person).first() or WelfareProfile(user=person)
    profile.last_psych_assessment = assessed_on
    profile.updated_at = timezone.now()
    profile.save()
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="welfare",
        object_id=person.pk,
        fields=("last_psych_assessment",),
        justification="psychological assessment recorded",
    )
    return profile


MAX_NOTE = 2000


def _note_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise _fail("text", "Enter the welfare note")
    if len(text) > MAX_NOTE:
        raise _fail("text", f"Welfare note must be {MAX_NOTE} characters or fewer")
    return text


@service
def record_welfare_note(
    actor: User, *, person: User | None, text: str, group: StaffGroup = OPERATIONS
) -> WelfareNote:
    """A supervisor's welfare note about one of the group's people (append-only, encrypted)."""
    group.require_supervisor(actor)
    person = _group_person(group, person)
    text = _note_text(text)
    note = WelfareNote.objects.create(user=person, text=text, recorded_by=actor)
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="welfare_note",
        object_id=note.pk,
        fields=("text",),
        recipients=[person.username],
        justification="welfare note recorded",
    )
    return note


def _changeable_note(actor: User, note_id: UUID | str, group: StaffGroup) -> WelfareNote:
    note = selectors.welfare_note(actor, note_id, group)
    if note.withdrawn:
        raise _fail(None, "This note was withdrawn and can no longer be changed")
    if not permissions.may_change_welfare_note(actor, note, group):
        raise PermissionDenied(f"Only the note's author or {group.supervisor_label} can change it")
    return note


@service
def correct_welfare_note(
    actor: User,
    note_id: UUID | str,
    *,
    version: int,
    text: str,
    reason: str,
    group: StaffGroup = OPERATIONS,
) -> WelfareNote:
    """Correct a welfare note's text (its author or the group's supervisors), with the version
    read and a reason: the text it replaces is kept in its history (haven.revisions)."""
    note = _changeable_note(actor, note_id, group)
    text = _note_text(text)
    reason = revisions.require_reason(reason, "Say why the note is being corrected")
    revisions.revise(
        actor,
        note,
        WelfareNoteRevision(note=note),
        version=version,
        reason=reason,
        changes={"text": text},
        object_type="welfare_note",
    )
    return note


@service
def withdraw_welfare_note(
    actor: User,
    note_id: UUID | str,
    *,
    version: int,
    reason: str,
    group: StaffGroup = OPERATIONS,
) -> WelfareNote:
    """Withdraw a welfare note entered in error (the wrong person, a duplicate): it is kept and
    shown as withdrawn, never deleted; who withdrew it and why are in its history."""
    note = _changeable_note(actor, note_id, group)
    reason = revisions.require_reason(reason, "Say why the note is being withdrawn")
    revisions.revise(
        actor,
        note,
        WelfareNoteRevision(note=note),
        version=version,
        reason=reason,
        changes={"withdrawn_at": timezone.now()},
        object_type="welfare_note",
        action=revisions.RevisionAction.ENDED,
    )
    return note


@service
def create_allowance_tier(
    actor: User,
    *,
    code: str,
    name: str,
    basis: str,
    citation: str,
    daily_amount: Decimal | None = None,
    percentage: Decimal | None = None,
    valid_from: dt.date | None = None,
    confirmed: bool = False,
    notes: str = "",
) -> AllowanceTier:
    require_supervisor(actor)
    if basis not in AllowanceBasis.values:
        raise _fail("basis", "Choose a daily amount or a percentage")
    if basis == AllowanceBasis.DAILY and (daily_amount is None or daily_amount <= 0):
        raise _fail("daily_amount", "Enter the amount per day")
    if basis == AllowanceBasis.PERCENTAGE and (percentage is None or not 0 < percentage <= 100):
        raise _fail("percentage", "Enter a percentage between 0 and 100")
    if not citation.strip():
        raise _fail("citation", "Cite the source of this allowance")
    if not code.strip() or AllowanceTier.objects.filter(code=code.strip()).exists():
        raise _fail("code", "Choose a new, unique code")
    tier = AllowanceTier.objects.create(
        code=code.strip(),
        name=name.strip() or code.strip(),
        basis=basis,
        daily_amount=daily_amount if basis == AllowanceBasis.DAILY else None,
        percentage=percentage if basis == AllowanceBasis.PERCENTAGE else None,
        citation=citation.strip(),
        valid_from=valid_from or timezone.localdate(),
        confirmed=confirmed,
        notes=notes.strip(),
    )
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="allowance_tier",
        object_id=tier.pk,
        justification="allowance tier configured",
    )
    return tier
