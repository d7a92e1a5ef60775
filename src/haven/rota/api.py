"""Rota, on-call, allowance and welfare endpoints, and the per-person iCal feed.

The feed is authenticated by the secret in its URL (calendar clients cannot send a bearer
token): an unknown or revoked secret answers 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import field_validator

from haven.accounts.models import User
from haven.accounts.types import AuthenticatedRequest
from haven.revisions import CorrectionReason, HistoryOut, correction
from haven.ui.apihelpers import QueryFilters, attempt, named_user
from haven.ui.bounds import check_within_calendar

from . import ical, selectors, services
from .models import (
    AllowanceTier,
    RestException,
    Rota,
    Rotation,
    SwapStatus,
    WeeklyRestOption,
    WorkKind,
)
from .staff import OPERATIONS, PROTECTION, StaffGroup

router = Router(tags=["rota"])


class RotaIn(Schema):
    name: str = Field(..., max_length=120)
    starts_on: dt.date
    ends_on: dt.date | None = None
    time_zone: str = "Europe/London"
    allowance_tier: str | None = None
    description: str = Field("", max_length=500)


class RotaOut(Schema):
    id: UUID
    name: str
    time_zone: str
    starts_on: dt.date
    ends_on: dt.date | None
    allowance_tier: str | None

    @staticmethod
    def resolve_allowance_tier(obj: Any) -> str | None:
        return obj.allowance_tier.code if obj.allowance_tier_id else None


class LayerIn(Schema):
    name: str = Field(..., max_length=80)
    usernames: list[str]
    handover_time: dt.time
    rotation: Rotation = Rotation.WEEKLY
    priority: int = Field(1, ge=1, le=99)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    days_of_week: list[int] = []


class SpanIn(Schema):
    starts_at: dt.datetime = Field(..., description="ISO 8601 with offset, or local to the rota")
    ends_at: dt.datetime


class OverrideIn(SpanIn):
    username: str
    reason: str = Field(..., max_length=300)


class SwapIn(SpanIn):
    counterpart: str
    reason: str = Field("", max_length=300)


class SwapOut(Schema):
    id: int
    rota: str = Field(alias="rota.name")
    requester: str = Field(alias="requester.username")
    counterpart: str = Field(alias="counterpart.username")
    starts_at: dt.datetime
    ends_at: dt.datetime
    status: SwapStatus


class SegmentOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    local_start: str
    local_end: str
    username: str | None
    source: str
    hours: float


class ScheduleFilters(QueryFilters):
    start: dt.date | None = None
    days: int = Field(14, ge=1, le=62)


class OnCallOut(Schema):
    rota_id: UUID
    rota: str
    at: dt.datetime
    username: str | None
    escalation: list[str]


class AtFilter(QueryFilters):
    at: dt.datetime | None = None


class AllowanceOut(Schema):
    rota: str
    username: str
    hours: float
    days: int
    tier: str | None
    percentage: float | None
    amount: float | None
    citation: str | None


class WorkIn(Schema):
    username: str | None = None
    starts_at: dt.datetime
    ends_at: dt.datetime
    break_minutes: int = Field(0, ge=0, le=1440)
    kind: WorkKind = WorkKind.SHIFT
    note: str = Field("", max_length=300)


class FlagOut(Schema):
    code: str
    title: str
    detail: str
    citation: str
    resolution: str = ""


class TermsIn(Schema):
    username: str
    employment_started_on: dt.date | None = None
    opt_out_signed_on: dt.date | None = None
    opt_out_ended_on: dt.date | None = None
    weekly_rest_option: WeeklyRestOption = WeeklyRestOption.WEEKLY


class LeaveIn(Schema):
    username: str
    starts_on: dt.date
    ends_on: dt.date


class CompensatoryRestIn(Schema):
    username: str
    rule_code: Literal["daily_rest", "weekly_rest", "rest_break"]
    breach_on: dt.date
    hours: Decimal = Field(..., gt=0, le=96)
    exception: RestException


class PsychIn(Schema):
    username: str
    assessed_on: dt.date


class NoteIn(Schema):
    username: str
    text: str = Field(..., min_length=1, max_length=services.MAX_NOTE)


class NoteOut(Schema):
    id: UUID
    username: str
    text: str
    recorded_by: str
    created_at: dt.datetime
    version: int = 1
    withdrawn_at: dt.datetime | None = None  # withdrawn as entered in error: kept, shown apart


class NoteCorrectionIn(CorrectionReason):
    text: str = Field(..., min_length=1, max_length=services.MAX_NOTE)


class NoteHistoryOut(HistoryOut):
    note: NoteOut


class WelfareOut(Schema):
    username: str
    hours_last_7_days: float
    weekly_average: float
    on_call_hours: float
    longest_run_days: int
    psych_due: dt.date | None
    reference_weeks: float
    excluded_days: int
    night_worker: bool
    night_average: float
    flags: list[FlagOut]
    notes: list[NoteOut] = []


def aware_in(zone: Any, value: dt.datetime) -> dt.datetime:
    return value if timezone.is_aware(value) else value.replace(tzinfo=zone)


def segment_out(rota: Any, segment: selectors.Segment) -> dict[str, Any]:
    zone = rota.zone
    return {
        "starts_at": segment.starts_at,
        "ends_at": segment.ends_at,
        "local_start": segment.starts_at.astimezone(zone).isoformat(),
        "local_end": segment.ends_at.astimezone(zone).isoformat(),
        "username": segment.user.username if segment.user else None,
        "source": segment.source,
        "hours": round(segment.hours, 2),
    }


def note_out(note: Any) -> dict[str, Any]:
    return {
        "id": note.pk,
        "username": note.user.username,
        "text": note.text,
        "recorded_by": note.recorded_by.username,
        "created_at": note.created_at,
        "version": note.version,
        "withdrawn_at": note.withdrawn_at,
    }


def welfare_out(result: selectors.PersonWelfare) -> dict[str, Any]:
    a = result.assessment
    return {
        "username": result.person.username,
        "hours_last_7_days": a.hours_last_7_days,
        "weekly_average": a.weekly_average,
        "on_call_hours": a.on_call_hours,
        "longest_run_days": a.longest_run_days,
        "psych_due": a.psych_due,
        "reference_weeks": a.reference_weeks,
        "excluded_days": a.excluded_days,
        "night_worker": a.night_worker,
        "night_average": a.night_average,
        "flags": [vars(flag) for flag in a.flags],
        "notes": [note_out(note) for note in result.notes],
    }


def on_call_row(rota: Any, at: dt.datetime) -> dict[str, Any]:
    who = selectors.on_call_now(rota, at)
    return {
        "rota_id": rota.pk,
        "rota": rota.name,
        "at": at,
        "username": who.username if who else None,
        "escalation": [u.username for u in selectors.escalation_chain(rota, at)],
    }


def _who_covers(username: str | None, field: str) -> User:
    person = named_user(username, field)
    if person is None:
        raise HttpError(422, f"{field}: say who covers")
    return person


def _cover_span(rota: Rota, payload: OverrideIn | SwapIn) -> dict[str, Any]:
    """An override's or a swap's times, read in the rota's own zone, and its reason."""
    return {
        "starts_at": aware_in(rota.zone, payload.starts_at),
        "ends_at": aware_in(rota.zone, payload.ends_at),
        "reason": payload.reason,
    }


def _answer_swap(
    user: User, swap_id: int, answer: Callable[[User, int, StaffGroup], Any], group: StaffGroup
) -> Any:
    """Accept or decline a swap the user can see; a refusal (the swap is no longer open to
    that answer) is a 409."""
    selectors.get_swap(user, swap_id, group)
    try:
        return answer(user, swap_id, group)
    except ValidationError as error:
        raise HttpError(409, "; ".join(error.messages)) from error


def _named(group: StaffGroup, name: str) -> dict[str, Any]:
    """Operation ids and URL names: operations keeps its original ones, other groups' are
    prefixed with the group's code."""
    if group is OPERATIONS:
        return {}
    return {"operation_id": f"{group.code}_{name}", "url_name": f"{group.code}_{name}"}


def add_rota_operations(target: Router, group: StaffGroup) -> None:
    """The rota operations of one staff group on `target` (staff.py): its rotas, layers,
    overrides, schedule, gaps, who is on call, swaps and the calendar feed address. Operations
    mounts them at /api/, protection at /api/protection/ (haven/api.py)."""

    @target.get(
        "/rotas",
        response=list[RotaOut],
        summary="Rotas",
        **_named(group, "list_rotas"),
    )
    def list_rotas(request: AuthenticatedRequest) -> Any:
        return list(selectors.rotas(request.user, group))

    @target.post(
        "/rotas",
        response={201: RotaOut},
        summary="New rota",
        **_named(group, "create_rota"),
    )
    def create_rota(request: AuthenticatedRequest, payload: RotaIn) -> Status[Any]:
        user = request.user
        group.require_supervisor(user)
        tier = None
        if payload.allowance_tier:
            tier = AllowanceTier.objects.filter(code=payload.allowance_tier).first()
            if tier is None:
                raise HttpError(422, "allowance_tier: no such tier")
        rota = attempt(
            lambda: services.create_rota(
                user,
                **payload.dict(exclude={"allowance_tier"}),
                allowance_tier=tier,
                group=group,
            )
        )
        return Status(201, rota)

    @target.post(
        "/rotas/{rota_id}/layers",
        response={201: dict},
        summary="Add a layer",
        **_named(group, "add_layer"),
    )
    def add_layer(request: AuthenticatedRequest, rota_id: UUID, payload: LayerIn) -> Status[dict]:
        user = request.user
        group.require_supervisor(user)
        selectors.get_rota(user, rota_id, group)
        members = [named_user(name, "usernames") for name in payload.usernames]
        layer = attempt(
            lambda: services.add_layer(
                user,
                rota_id,
                members=[m for m in members if m is not None],
                **payload.dict(exclude={"usernames"}),
                group=group,
            )
        )
        return Status(201, {"id": layer.pk, "name": layer.name})

    @target.get(
        "/rotas/{rota_id}/schedule",
        response=list[SegmentOut],
        summary="Final schedule",
        **_named(group, "schedule"),
    )
    def schedule(
        request: AuthenticatedRequest, rota_id: UUID, filters: Query[ScheduleFilters]
    ) -> Any:
        rota = selectors.get_rota(request.user, rota_id, group)
        first = filters.start or timezone.localtime(timezone.now(), rota.zone).date()
        start, end = selectors.local_range(
            rota.zone, first, first + dt.timedelta(days=filters.days - 1)
        )
        return [segment_out(rota, s) for s in selectors.resolve(rota, start, end)]

    @target.get(
        "/rotas/{rota_id}/gaps",
        response=list[SegmentOut],
        summary="Gaps, next 30 days",
        **_named(group, "gaps"),
    )
    def gaps(request: AuthenticatedRequest, rota_id: UUID) -> Any:
        rota = selectors.get_rota(request.user, rota_id, group)
        return [segment_out(rota, s) for s in selectors.gaps(rota)]

    @target.get(
        "/rotas/{rota_id}/on-call",
        response=OnCallOut,
        summary="Who is on call",
        **_named(group, "rota_on_call"),
    )
    def rota_on_call(request: AuthenticatedRequest, rota_id: UUID, filters: Query[AtFilter]) -> Any:
        rota = selectors.get_rota(request.user, rota_id, group)
        return on_call_row(rota, filters.at or timezone.now())

    @target.get(
        "/on-call",
        response=list[OnCallOut],
        summary="Who is on call now, every rota",
        **_named(group, "on_call"),
    )
    def on_call(request: AuthenticatedRequest, filters: Query[AtFilter]) -> Any:
        user = request.user
        at = filters.at or timezone.now()
        return [on_call_row(rota, at) for rota in selectors.rotas(user, group)]

    @target.post(
        "/rotas/{rota_id}/overrides",
        response={201: dict},
        summary="Add an override",
        **_named(group, "add_override"),
    )
    def add_override(
        request: AuthenticatedRequest, rota_id: UUID, payload: OverrideIn
    ) -> Status[dict]:
        user = request.user
        group.require_supervisor(user)
        rota = selectors.get_rota(user, rota_id, group)
        person = _who_covers(payload.username, "username")
        span = _cover_span(rota, payload)
        override = attempt(
            lambda: services.add_override(user, rota.pk, user=person, group=group, **span)
        )
        return Status(201, {"id": override.pk})

    @target.post(
        "/rotas/{rota_id}/swaps",
        response={201: SwapOut},
        summary="Request a swap",
        **_named(group, "request_swap"),
    )
    def request_swap(request: AuthenticatedRequest, rota_id: UUID, payload: SwapIn) -> Status[Any]:
        user = request.user
        rota = selectors.get_rota(user, rota_id, group)
        counterpart = _who_covers(payload.counterpart, "counterpart")
        span = _cover_span(rota, payload)
        swap = attempt(
            lambda: services.request_swap(
                user, rota.pk, counterpart=counterpart, group=group, **span
            )
        )
        return Status(201, swap)

    @target.get(
        "/swaps",
        response=list[SwapOut],
        summary="Swaps you are part of",
        **_named(group, "list_swaps"),
    )
    def list_swaps(request: AuthenticatedRequest) -> Any:
        user = request.user
        from django.db.models import Q

        return list(
            selectors.swaps_for(user, group).filter(Q(requester=user) | Q(counterpart=user))
        )

    @target.post(
        "/swaps/{swap_id}/accept",
        response=SwapOut,
        summary="Accept a swap",
        **_named(group, "accept_swap"),
    )
    def accept_swap(request: AuthenticatedRequest, swap_id: int) -> Any:
        return _answer_swap(request.user, swap_id, services.accept_swap, group)

    @target.post(
        "/swaps/{swap_id}/decline",
        response=SwapOut,
        summary="Decline or cancel a swap",
        **_named(group, "decline_swap"),
    )
    def decline_swap(request: AuthenticatedRequest, swap_id: int) -> Any:
        return _answer_swap(request.user, swap_id, services.decline_swap, group)

    @target.post(
        "/rota/feed",
        response={201: dict},
        summary="New iCal feed address (revokes the old)",
        **_named(group, "issue_feed"),
    )
    def issue_feed(request: AuthenticatedRequest) -> Status[dict]:
        _, secret = services.issue_feed_token(request.user, group)
        return Status(201, {"url": request.build_absolute_uri(f"/api/rota/feeds/{secret}.ics")})

    @target.delete(
        "/rota/feed",
        response={204: None},
        summary="Revoke your iCal feed address",
        **_named(group, "revoke_feed"),
    )
    def revoke_feed(request: AuthenticatedRequest) -> Status[None]:
        services.revoke_feed_token(request.user, group)
        return Status(204, None)


class AllowanceFilters(QueryFilters):
    month: str = Field("", description="YYYY-MM; this month when left out", max_length=7)

    @field_validator("month")
    @classmethod
    def _year_and_month(cls, value: str) -> str:
        if value:
            try:
                check_within_calendar(dt.datetime.strptime(value, "%Y-%m").date())
            except ValueError as bad:
                raise ValueError(f"use YYYY-MM: {bad}") from bad
        return value


@router.get("/rota/allowances", response=list[AllowanceOut], summary="Allowance summary")
def allowances(request: AuthenticatedRequest, filters: Query[AllowanceFilters]) -> Any:
    user = request.user
    month = filters.month
    chosen = dt.datetime.strptime(month, "%Y-%m").date() if month else timezone.localdate()
    return [
        {
            "rota": row.rota.name,
            "username": row.person.username,
            "hours": row.hours,
            "days": row.days,
            "tier": row.tier.code if row.tier else None,
            "percentage": float(row.percentage) if row.percentage is not None else None,
            "amount": float(row.amount) if row.amount is not None else None,
            "citation": row.tier.citation if row.tier else None,
        }
        for row in selectors.allowance_summary(user, chosen.year, chosen.month)
    ]


def add_working_time(target: Router, group: StaffGroup) -> None:
    """One staff group's welfare dashboard, your own welfare and the working-time records on
    `target`. Operation ids and URL names as `_named` gives them: operations keeps its original
    ones (from the function names), other groups' are prefixed with the group's code."""

    @target.get(
        "/welfare",
        response=list[WelfareOut],
        summary="Welfare dashboard (supervisors)",
        **_named(group, "welfare_dashboard"),
    )
    def welfare(request: AuthenticatedRequest) -> Any:
        return [welfare_out(r) for r in selectors.welfare_dashboard(request.user, group=group)]

    @target.get(
        "/welfare/me",
        response=WelfareOut,
        summary="Your own welfare flags",
        **_named(group, "my_welfare"),
    )
    def my_welfare(request: AuthenticatedRequest) -> Any:
        user = request.user
        return welfare_out(selectors.person_welfare(user, user.pk, group=group))

    @target.post(
        "/welfare/work",
        response={201: dict},
        summary="Record time worked",
        **_named(group, "record_work"),
    )
    def record_work(request: AuthenticatedRequest, payload: WorkIn) -> Status[dict]:
        user = request.user
        person = named_user(payload.username, "username") or user
        period, flags = attempt(
            lambda: services.record_work(
                user,
                person=person,
                starts_at=aware_in(timezone.get_current_timezone(), payload.starts_at),
                ends_at=aware_in(timezone.get_current_timezone(), payload.ends_at),
                break_minutes=payload.break_minutes,
                kind=payload.kind,
                note=payload.note,
                group=group,
            )
        )
        flags_out = [vars(flag) | {"when": str(flag.when)} for flag in flags]
        return Status(201, {"id": period.pk, "flags": flags_out})

    @target.put(
        "/welfare/terms",
        response=dict,
        summary="Working-time terms (supervisors)",
        **_named(group, "set_terms"),
    )
    def set_terms(request: AuthenticatedRequest, payload: TermsIn) -> dict:
        data = payload.dict()
        person = named_user(data.pop("username"), "username")
        saved = attempt(
            lambda: services.set_working_time_terms(
                request.user, person=person, group=group, **data
            )
        )
        return {"username": saved.user.username}

    @target.post(
        "/welfare/leave",
        response={201: dict},
        summary="Record leave (supervisors)",
        **_named(group, "record_leave"),
    )
    def record_leave(request: AuthenticatedRequest, payload: LeaveIn) -> Status[dict]:
        data = payload.dict()
        person = named_user(data.pop("username"), "username")
        saved = attempt(
            lambda: services.record_leave(request.user, person=person, group=group, **data)
        )
        return Status(201, {"id": saved.pk})

    @target.post(
        "/welfare/compensatory-rest",
        response={201: dict},
        summary="Record compensatory rest (supervisors)",
        **_named(group, "record_compensatory_rest"),
    )
    def record_compensatory_rest(
        request: AuthenticatedRequest, payload: CompensatoryRestIn
    ) -> Status[dict]:
        data = payload.dict()
        person = named_user(data.pop("username"), "username")
        saved = attempt(
            lambda: services.record_compensatory_rest(
                request.user, person=person, group=group, **data
            )
        )
        return Status(201, {"id": saved.pk})


# Operations' working-time endpoints stand here, before the feed and the rota operations, so
# that the OpenAPI document keeps its order.
add_working_time(router, OPERATIONS)


@router.get(
    "/rota/feeds/{feed_token}.ics",
    auth=None,
    summary="A person's on-call shifts (iCalendar); the secret in the URL authenticates",
)
def feed(request: HttpRequest, feed_token: str) -> HttpResponse:
    now = timezone.now()
    found = selectors.feed_for(feed_token, now)
    if found is None:
        raise HttpError(404, "Not found")
    body = ical.feed(found[0], found[1], now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


# ------------------------------------------------------------------- welfare, per staff group


def _person_in(group: StaffGroup, user: User, username: str) -> User:
    """The named person, as welfare_person finds them for `user` (404 outside the group or
    when not the asker's to see)."""
    person = User.objects.filter(username=username).first()
    return selectors.welfare_person(user, person.pk if person else "", group)


def add_welfare_records(target: Router, group: StaffGroup, *, everything: bool) -> None:
    """Welfare operations for one staff group on `target`: a person's psychological assessment
    date and welfare notes; with `everything`, also one officer's welfare, and the
    dashboard, your own welfare and the working-time records (add_working_time; operations
    has its own above)."""
    name = group.code

    @target.post(
        "/welfare/psych-assessments",
        response={201: dict},
        summary="Record a psychological assessment date (supervisors)",
        operation_id=f"{name}_record_psych_assessment",
        url_name=f"{name}_record_psych_assessment",
    )
    def record_psych(request: AuthenticatedRequest, payload: PsychIn) -> Status[dict]:
        person = named_user(payload.username, "username")
        attempt(
            lambda: services.record_psych_assessment(
                request.user, person=person, assessed_on=payload.assessed_on, group=group
            )
        )
        return Status(201, {"username": payload.username, "assessed_on": payload.assessed_on})

    @target.post(
        "/welfare/notes",
        response={201: NoteOut},
        summary="Record a welfare note (supervisors)",
        operation_id=f"{name}_record_welfare_note",
        url_name=f"{name}_record_welfare_note",
    )
    def record_note(request: AuthenticatedRequest, payload: NoteIn) -> Status[Any]:
        person = named_user(payload.username, "username")
        note = attempt(
            lambda: services.record_welfare_note(
                request.user, person=person, text=payload.text, group=group
            )
        )
        return Status(201, note_out(note))

    @target.post(
        "/welfare/notes/{note_id}/correction",
        response=NoteOut,
        summary="Correct a welfare note (its author or supervisors; version and reason)",
        operation_id=f"{name}_correct_welfare_note",
        url_name=f"{name}_correct_welfare_note",
    )
    def correct_note(
        request: AuthenticatedRequest, note_id: UUID, payload: NoteCorrectionIn
    ) -> Any:
        note = attempt(
            lambda: services.correct_welfare_note(
                request.user, note_id, group=group, **correction(payload)
            )
        )
        return note_out(note)

    @target.post(
        "/welfare/notes/{note_id}/withdrawal",
        response=NoteOut,
        summary="Withdraw a welfare note entered in error (kept, shown as withdrawn)",
        operation_id=f"{name}_withdraw_welfare_note",
        url_name=f"{name}_withdraw_welfare_note",
    )
    def withdraw_note(
        request: AuthenticatedRequest, note_id: UUID, payload: CorrectionReason
    ) -> Any:
        note = attempt(
            lambda: services.withdraw_welfare_note(
                request.user, note_id, group=group, **correction(payload)
            )
        )
        return note_out(note)

    @target.get(
        "/welfare/notes/{note_id}/history",
        response=NoteHistoryOut,
        summary="A welfare note and the versions it replaced",
        operation_id=f"{name}_welfare_note_history",
        url_name=f"{name}_welfare_note_history",
    )
    def note_history(request: AuthenticatedRequest, note_id: UUID) -> Any:
        note, revisions = selectors.welfare_note_history(request.user, note_id, group)
        return {"version": note.version, "earlier": revisions, "note": note_out(note)}

    if not everything:
        return

    @target.get(
        "/welfare/officers/{username}",
        response=WelfareOut,
        summary="One person's welfare (yours, or your group's as a supervisor)",
        operation_id=f"{name}_person_welfare",
        url_name=f"{name}_person_welfare",
    )
    def person_welfare(request: AuthenticatedRequest, username: str) -> Any:
        person = _person_in(group, request.user, username)
        return welfare_out(selectors.person_welfare(request.user, person.pk, group=group))

    add_working_time(target, group)


add_rota_operations(router, OPERATIONS)
add_welfare_records(router, OPERATIONS, everything=False)

# The protection staff's welfare: mounted at /api/protection/ behind the protection module's
# token auth (haven/api.py), as its pages are behind the protection gate.
protection_welfare_router = Router(tags=["welfare"])
add_welfare_records(protection_welfare_router, PROTECTION, everything=True)
# And their on-call rotas, under /api/protection/ beside their welfare.
protection_rota_router = Router(tags=["protection rota"])
add_rota_operations(protection_rota_router, PROTECTION)
