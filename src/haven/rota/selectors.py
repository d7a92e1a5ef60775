"""Reads of rotas, on-call state, allowances and welfare.

Each rota belongs to one staff group (staff.py) and is open to that group's people (who is on
call is everyone's business there): an operations rota to the operations module, a protection
rota to the protection module; each group's pages and API list only its own rotas.
Welfare (hours, flags, psychological assessment dates, welfare notes) is personal data, kept for
each staff group (staff.py): a group's dashboard is for its supervisors, a person may see their
own, nobody sees another group's people, and each view is a ledger consultation.

For telemetry (alerts to whoever is on call): on_call_now(rota, at) and escalation_chain(rota, at)
take no user and read nothing protected.
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from haven.access import modules
from haven.access.visibility import restrict
from haven.accounts.models import User
from haven.accounts.roles import Module
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service
from haven.equipment import selectors as equipment_selectors

from . import oncall, welfare
from .models import (
    AllowanceBasis,
    AllowanceTier,
    CompensatoryRest,
    FeedToken,
    LeavePeriod,
    Override,
    Rota,
    RotaLayer,
    Rotation,
    ShiftSwap,
    SwapStatus,
    WelfareNote,
    WelfareNoteRevision,
    WelfareProfile,
    WorkingTimeTerms,
    WorkPeriod,
)
from .staff import GROUPS, OPERATIONS, StaffGroup, groups_of
from .working_time import ruleset_for

GAP_HORIZON_DAYS = 30
require_operations = modules.require_operations
require_supervisor = modules.require_technical_supervisor
is_supervisor = modules.is_technical_supervisor


class RotaNotFound(Http404):
    pass


def rotas(user: User, group: StaffGroup = OPERATIONS) -> QuerySet[Rota]:
    """The group's rotas, for one of its people (404 for anyone else)."""
    group.require_member(user)
    return restrict(Rota.objects.select_related("allowance_tier"), user).filter(group=group.code)


def get_rota(user: User, rota_id: UUID | str, group: StaffGroup = OPERATIONS) -> Rota:
    """One of the group's rotas; another group's rota is not found, as a missing one."""
    try:
        return rotas(user, group).get(pk=rota_id)
    except (Rota.DoesNotExist, ValueError, TypeError, ValidationError) as missing:
        raise RotaNotFound("No such rota") from missing


def group_of(rota: Rota) -> StaffGroup:
    return GROUPS[rota.group]


def find_rota(name: str) -> Rota | None:
    """System lookup (telemetry): operations rotas only. Device alerts go to the technical
    on-call; a protection rota is never paged by a device."""
    return Rota.objects.filter(name=name, group=OPERATIONS.code).first()


def rota_names() -> list[str]:
    """System lookup (telemetry's escalation policies): every operations rota's name."""
    return list(
        Rota.objects.filter(group=OPERATIONS.code).order_by("name").values_list("name", flat=True)
    )


# ------------------------------------------------------------------------------ resolution


def layer_specs(rota: Rota) -> list[oncall.LayerSpec]:
    specs = []
    for layer in rota.layers.prefetch_related("members"):
        specs.append(
            oncall.LayerSpec(
                id=layer.pk,
                name=layer.name,
                priority=layer.priority,
                period_days=7 if layer.rotation == Rotation.WEEKLY else 1,
                handover=layer.handover_time,
                starts_on=layer.starts_on,
                ends_on=layer.ends_on,
                days_of_week=tuple(layer.days_of_week or ()),
                member_ids=tuple(member.user_id for member in layer.members.all()),
            )
        )
    return specs


def override_specs(rota: Rota, start: dt.datetime, end: dt.datetime) -> list[oncall.OverrideSpec]:
    rows = Override.objects.filter(rota=rota, starts_at__lt=end, ends_at__gt=start).order_by(
        "created_at", "pk"
    )
    return [
        oncall.OverrideSpec(o.user_id, o.starts_at, o.ends_at, created_order=number)
        for number, o in enumerate(rows)
    ]


def rota_bounds(rota: Rota) -> tuple[dt.datetime, dt.datetime | None]:
    zone = rota.zone
    start = oncall.local_instant(rota.starts_on, dt.time(0), zone)
    end = (
        oncall.local_instant(rota.ends_on + dt.timedelta(days=1), dt.time(0), zone)
        if rota.ends_on
        else None
    )
    return start, end


@dataclass
class Segment:
    starts_at: dt.datetime
    ends_at: dt.datetime
    user: User | None
    source: str

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


def resolve(rota: Rota, start: dt.datetime, end: dt.datetime) -> list[Segment]:
    """Final schedule; time outside the rota's own dates is not reported."""
    rota_start, rota_end = rota_bounds(rota)
    start = max(start, rota_start)
    if rota_end is not None:
        end = min(end, rota_end)
    if end <= start:
        return []
    result = oncall.resolve(
        layer_specs(rota), override_specs(rota, start, end), rota.zone, start, end
    )
    users = User.objects.in_bulk({s.user_id for s in result.segments if s.user_id})
    return [
        Segment(s.starts_at, s.ends_at, users.get(s.user_id) if s.user_id else None, s.source)
        for s in result.segments
    ]


def on_call_now(rota: Rota, at: dt.datetime | None = None) -> User | None:
    """Who is on call for `rota` at `at` (default now), or None in a gap."""
    at = at or timezone.now()
    segments = resolve(rota, at, at + dt.timedelta(seconds=1))
    return segments[0].user if segments else None


def escalation_chain(rota: Rota, at: dt.datetime | None = None) -> list[User]:
    """People to alert in order at `at`: the override holder, then each layer by priority."""
    at = at or timezone.now()
    rota_start, rota_end = rota_bounds(rota)
    if at < rota_start or (rota_end is not None and at >= rota_end):
        return []
    ids = oncall.chain_at(
        layer_specs(rota), override_specs(rota, at, at + dt.timedelta(seconds=1)), rota.zone, at
    )
    users = User.objects.in_bulk(ids)
    return [users[user_id] for user_id in ids if user_id in users]


def on_call_everywhere(
    user: User, at: dt.datetime | None = None, group: StaffGroup = OPERATIONS
) -> list[tuple[Rota, User | None]]:
    at = at or timezone.now()
    return [(rota, on_call_now(rota, at)) for rota in rotas(user, group)]


def gaps(rota: Rota, now: dt.datetime | None = None, days: int = GAP_HORIZON_DAYS) -> list[Segment]:
    """Uncovered time in the next `days` days (30 by default)."""
    now = now or timezone.now()
    return [s for s in resolve(rota, now, now + dt.timedelta(days=days)) if s.user is None]


def shifts_for(
    person: User, start: dt.datetime, end: dt.datetime, group: StaffGroup | None = None
) -> list[tuple[Rota, Segment]]:
    """The person's shifts on the rotas of `group`, or of every group they belong to."""
    codes = [group.code] if group is not None else [g.code for g in groups_of(person)]
    found = []
    for rota in Rota.objects.filter(group__in=codes):
        for segment in resolve(rota, start, end):
            if segment.user is not None and segment.user.pk == person.pk:
                found.append((rota, segment))
    return sorted(found, key=lambda pair: pair[1].starts_at)


def local_range(zone: ZoneInfo, first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (
        oncall.local_instant(first, dt.time(0), zone),
        oncall.local_instant(last + dt.timedelta(days=1), dt.time(0), zone),
    )


def swaps_for(user: User, group: StaffGroup = OPERATIONS) -> QuerySet[ShiftSwap]:
    group.require_member(user)
    return restrict(
        ShiftSwap.objects.select_related("rota", "requester", "counterpart"), user
    ).filter(rota__group=group.code)


def pending_swaps_for(user: User, group: StaffGroup = OPERATIONS) -> QuerySet[ShiftSwap]:
    return swaps_for(user, group).filter(counterpart=user, status=SwapStatus.REQUESTED)


def get_swap(user: User, swap_id: int | str, group: StaffGroup = OPERATIONS) -> ShiftSwap:
    try:
        swap = swaps_for(user, group).get(pk=swap_id)
    except (ShiftSwap.DoesNotExist, ValueError, TypeError) as missing:
        raise RotaNotFound("No such swap") from missing
    if user.pk not in (swap.requester_id, swap.counterpart_id) and not group.supervises(user):
        raise RotaNotFound("No such swap")
    return swap


def feed_user(secret: str) -> User | None:
    token = (
        FeedToken.objects.filter(key_hash=FeedToken.hash_secret(secret), revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if token is None or not token.user.is_active or not groups_of(token.user):
        return None
    return token.user


def live_feed_token(user: User) -> FeedToken | None:
    return FeedToken.objects.filter(user=user, revoked_at__isnull=True).first()


# ------------------------------------------------------------------------------ allowances


@dataclass
class AllowanceRow:
    rota: Rota
    person: User
    hours: float
    days: int
    tier: AllowanceTier | None
    amount: Decimal | None

    @property
    def percentage(self) -> Decimal | None:
        return (
            self.tier.percentage
            if self.tier and self.tier.basis == AllowanceBasis.PERCENTAGE
            else None
        )


def allowance_tiers() -> QuerySet[AllowanceTier]:
    return AllowanceTier.objects.all()


@service
def allowance_summary(user: User, year: int, month: int) -> list[AllowanceRow]:
    """Per rota and person: hours on call and days with any on-call time in the month (in the
    rota's zone), priced by the rota's tier (daily tiers only; a percentage tier is applied to
    basic pay by payroll). Supervisors see everyone; others only themselves."""
    require_operations(user)
    if not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    rows: list[AllowanceRow] = []
    last_day = month_calendar.monthrange(year, month)[1]
    for rota in rotas(user):
        start, end = local_range(rota.zone, dt.date(year, month, 1), dt.date(year, month, last_day))
        # An allowance is for time on call already spent: the rest of the month is not paid yet.
        end = min(end, timezone.now())
        if end <= start:
            continue
        per_person: dict[int, tuple[User, float, set[dt.date]]] = {}
        for segment in resolve(rota, start, end):
            if segment.user is None:
                continue
            if not is_supervisor(user) and segment.user.pk != user.pk:
                continue
            person, hours, days = per_person.get(segment.user.pk, (segment.user, 0.0, set()))
            local_from = segment.starts_at.astimezone(rota.zone)
            local_to = (segment.ends_at - dt.timedelta(microseconds=1)).astimezone(rota.zone)
            day = local_from.date()
            while day <= local_to.date():
                days.add(day)
                day += dt.timedelta(days=1)
            per_person[segment.user.pk] = (person, hours + segment.hours, days)
        for person, hours, days in per_person.values():
            tier = rota.allowance_tier
            amount = None
            if (
                tier is not None
                and tier.basis == AllowanceBasis.DAILY
                and tier.daily_amount is not None
            ):
                amount = tier.daily_amount * len(days)
            rows.append(AllowanceRow(rota, person, round(hours, 1), len(days), tier, amount))
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="allowance_summary",
        object_id=f"{year:04d}-{month:02d}",
        fields=("hours", "days", "amount"),
        justification="allowance summary",
        details={"people": sorted({row.person.username for row in rows})},
    )
    return rows


# ------------------------------------------------------------------------------ welfare


@dataclass
class PersonWelfare:
    person: User
    assessment: welfare.Assessment
    recent_work: list[WorkPeriod] = field(default_factory=list)
    notes: list[WelfareNote] = field(default_factory=list)


def operations_people() -> list[User]:
    return [u for u in User.objects.filter(is_active=True) if u.can_use(Module.OPERATIONS)]


def _on_call_hours(people: list[User], start: dt.datetime, end: dt.datetime) -> dict[int, float]:
    hours: dict[int, float] = {}
    wanted = {person.pk for person in people}
    for rota in Rota.objects.all():
        for segment in resolve(rota, start, end):
            if segment.user is not None and segment.user.pk in wanted:
                hours[segment.user.pk] = hours.get(segment.user.pk, 0.0) + segment.hours
    return hours


def assess_people(people: list[User], as_of: dt.datetime) -> list[PersonWelfare]:
    rules = ruleset_for(as_of.date())
    zone = ZoneInfo(settings.TIME_ZONE)
    # The reference period may end up to its own length earlier (leave moves it back, reg 4(6)).
    reference = as_of - 2 * dt.timedelta(weeks=rules["weekly_average"].window)
    ids = [person.pk for person in people]
    work: dict[int, list[WorkPeriod]] = {}
    for period in WorkPeriod.objects.filter(
        user_id__in=ids, ends_at__gt=reference, starts_at__lt=as_of
    ).order_by("starts_at"):
        work.setdefault(period.user_id, []).append(period)
    deployments: dict[int, list[welfare.Period]] = {}
    for user_id, starts, ends, reference_code in equipment_selectors.deployment_windows(
        ids, as_of - dt.timedelta(days=90), as_of + dt.timedelta(days=90)
    ):
        deployments.setdefault(user_id, []).append(welfare.Period(starts, ends, 0, reference_code))
    on_call = _on_call_hours(people, as_of - dt.timedelta(days=28), as_of)
    profiles = {p.user_id: p for p in WelfareProfile.objects.filter(user_id__in=ids)}
    facts = worker_facts(ids, as_of)
    results = []
    for person in people:
        periods = work.get(person.pk, [])
        profile = profiles.get(person.pk)
        assessment = welfare.assess(
            work=[welfare.Period(p.starts_at, p.ends_at, p.break_minutes) for p in periods],
            deployments=deployments.get(person.pk, []),
            on_call_hours=on_call.get(person.pk, 0.0),
            last_psych_assessment=profile.last_psych_assessment if profile else None,
            as_of=as_of,
            rules=rules,
            zone=zone,
            facts=facts.get(person.pk),
        )
        results.append(PersonWelfare(person, assessment, periods[-10:]))
    return results


def worker_facts(ids: list[int], as_of: dt.datetime) -> dict[int, welfare.WorkerFacts]:
    """Each person's working-time terms, leave and compensatory rest (reg 4, 5, 11, 24)."""
    since = (as_of - dt.timedelta(weeks=40)).date()
    leave: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for item in LeavePeriod.objects.filter(user_id__in=ids, ends_on__gte=since):
        leave.setdefault(item.user_id, []).append((item.starts_on, item.ends_on))
    rests: dict[int, list[tuple[str, dt.date, float]]] = {}
    for rest in CompensatoryRest.objects.filter(user_id__in=ids, breach_on__gte=since):
        rests.setdefault(rest.user_id, []).append(
            (rest.rule_code, rest.breach_on, float(rest.hours))
        )
    terms = {t.user_id: t for t in WorkingTimeTerms.objects.filter(user_id__in=ids)}
    facts = {}
    for person_id in ids:
        term = terms.get(person_id)
        opted_out = (
            term is not None
            and term.opt_out_signed_on is not None
            and (term.opt_out_ended_on is None or term.opt_out_ended_on > as_of.date())
        )
        facts[person_id] = welfare.WorkerFacts(
            employment_started=term.employment_started_on if term else None,
            leave=tuple(leave.get(person_id, ())),
            opt_out_signed=term.opt_out_signed_on if term and opted_out else None,
            weekly_rest_option=term.weekly_rest_option if term else "weekly",
            compensatory_rest=tuple(rests.get(person_id, ())),
        )
    return facts


def working_time_terms(person: User) -> WorkingTimeTerms | None:
    return WorkingTimeTerms.objects.filter(user=person).first()


@service
def welfare_dashboard(
    user: User, as_of: dt.datetime | None = None, group: StaffGroup = OPERATIONS
) -> list[PersonWelfare]:
    """The group's people and their flags, for the group's supervisors."""
    group.require_supervisor(user)
    as_of = as_of or timezone.now()
    people = operations_people() if group is OPERATIONS else group.people()
    results = assess_people(people, as_of)
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="welfare",
        object_id="dashboard" if group is OPERATIONS else f"dashboard:{group.code}",
        fields=("hours", "flags", "last_psych_assessment"),
        justification="welfare supervision",
        details={"people": [p.username for p in people]},
    )
    return results


@service
def overdue_psych_assessments(
    user: User, group: StaffGroup, as_of: dt.datetime | None = None
) -> list[User]:
    """The group's people whose psychological assessment is overdue (welfare.psych_overdue),
    for a supervisor of the group (Home's "Awaiting you"). The dates are health data, so the
    read is ledgered like the welfare dashboard's. A fixed number of queries, however many."""
    group.require_supervisor(user)
    as_of = as_of or timezone.now()
    today = timezone.localtime(as_of, ZoneInfo(settings.TIME_ZONE)).date()
    rules = ruleset_for(today)
    people = {person.pk: person for person in group.people()}
    overdue = [
        people[profile.user_id]
        for profile in WelfareProfile.objects.filter(user_id__in=people)
        if welfare.psych_overdue(profile.last_psych_assessment, today, rules)
    ]
    overdue.sort(key=lambda person: person.username)
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="welfare",
        object_id=f"psych_overdue:{group.code}",
        fields=("last_psych_assessment",),
        justification="welfare supervision",
        details={"people": [person.username for person in overdue]},
    )
    return overdue


def welfare_person(user: User, person_id: int | str, group: StaffGroup = OPERATIONS) -> User:
    """The person whose welfare `user` asks for, in `group`: themselves, or anyone in the group
    for its supervisors. Anyone else is not found (404), as every refused object is: the
    answer does not say whether the person exists or works in the group."""
    group.require_member(user)
    person = User.objects.filter(pk=person_id).first() if str(person_id).isdigit() else None
    if person is None or not group.includes(person):
        raise RotaNotFound("No such person")
    if person.pk != user.pk and not group.supervises(user):
        raise RotaNotFound("No such person")
    return person


@service
def person_welfare(
    user: User,
    person_id: int | str,
    as_of: dt.datetime | None = None,
    group: StaffGroup = OPERATIONS,
) -> PersonWelfare:
    person = welfare_person(user, person_id, group)
    result = assess_people([person], as_of or timezone.now())[0]
    result.notes = list(WelfareNote.objects.filter(user=person).select_related("recorded_by"))
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="welfare",
        object_id=person.pk,
        fields=("hours", "flags", "last_psych_assessment", "notes"),
        justification="own welfare" if person.pk == user.pk else "welfare supervision",
    )
    return result


def welfare_note(user: User, note_id: UUID | str, group: StaffGroup = OPERATIONS) -> WelfareNote:
    """A welfare note about one of the group's people, for someone who may see it: the person
    it is about, its author, or the group's supervisors. Anything else is not found (404)."""
    group.require_member(user)
    try:
        note = WelfareNote.objects.select_related("user", "recorded_by").get(pk=note_id)
    except (WelfareNote.DoesNotExist, ValueError, TypeError, ValidationError) as missing:
        raise RotaNotFound("No such note") from missing
    if not group.includes(note.user):
        raise RotaNotFound("No such note")
    if user.pk not in (note.user_id, note.recorded_by_id) and not group.supervises(user):
        raise RotaNotFound("No such note")
    return note


@service
def welfare_note_history(
    user: User, note_id: UUID | str, group: StaffGroup = OPERATIONS
) -> tuple[WelfareNote, list[WelfareNoteRevision]]:
    """A welfare note and the versions it replaced, newest first; the read is ledgered."""
    note = welfare_note(user, note_id, group)
    revisions = list(note.revisions.select_related("changed_by"))
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type="welfare_note",
        object_id=note.pk,
        fields=("text", "history"),
        justification="own welfare" if note.user_id == user.pk else "welfare supervision",
    )
    return note, revisions


def rota_layers(rota: Rota) -> QuerySet[RotaLayer]:
    return rota.layers.prefetch_related("members__user")


def describe(rota: Rota) -> dict[str, Any]:
    return {"rota": rota, "layers": rota_layers(rota)}


@service
def feed_for(secret: str, now: dt.datetime) -> tuple[User, list[tuple[Rota, Segment]]] | None:
    """The person and shifts behind a feed secret (None if unknown or revoked); each fetch is
    a disclosure entry (the calendar client is the recipient)."""
    person = feed_user(secret)
    if person is None:
        return None
    shifts = shifts_for(person, now - dt.timedelta(days=30), now + dt.timedelta(days=90))
    ledger.record(
        actor=person,
        action=Action.DISCLOSURE,
        object_type="rota_feed",
        object_id=person.pk,
        recipients=["calendar feed"],
        justification="on-call calendar feed fetched",
        details={"shifts": len(shifts)},
    )
    return person, shifts
