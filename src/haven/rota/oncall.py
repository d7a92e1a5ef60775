"""Who is on call when: rotations in local time, resolved to instants through zoneinfo.

A shift starts at the layer's hand-over time (local) on its start date and ends at the next
hand-over, so across a daylight-saving change the shift is 23 or 25 hours long while every
hand-over stays at the same wall-clock time. A hand-over time that does not exist on a spring
change day (e.g. 01:30) is read with fold=0, i.e. as the instant one hour later on the clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC


@dataclass(frozen=True)
class LayerSpec:
    id: int
    name: str
    priority: int
    period_days: int
    handover: dt.time
    starts_on: dt.date
    ends_on: dt.date | None
    days_of_week: tuple[int, ...]
    member_ids: tuple[int, ...]


@dataclass(frozen=True)
class OverrideSpec:
    user_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    created_order: int = 0


@dataclass(frozen=True)
class Shift:
    starts_at: dt.datetime
    ends_at: dt.datetime
    user_id: int | None
    source: str  # layer name, "override", or "" for a gap

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600


@dataclass
class Resolution:
    segments: list[Shift] = field(default_factory=list)

    def gaps(self) -> list[Shift]:
        return [segment for segment in self.segments if segment.user_id is None]


def local_instant(day: dt.date, at: dt.time, zone: ZoneInfo) -> dt.datetime:
    """The UTC instant of a local wall-clock time (fold=0 for ambiguous and missing times)."""
    return dt.datetime.combine(day, at).replace(tzinfo=zone).astimezone(UTC)


def layer_shifts(
    layer: LayerSpec, zone: ZoneInfo, start: dt.datetime, end: dt.datetime
) -> list[Shift]:
    if not layer.member_ids:
        return []
    period = layer.period_days
    local_start_day = start.astimezone(zone).date()
    index = max(0, (local_start_day - layer.starts_on).days // period - 1)
    shifts = []
    while True:
        day = layer.starts_on + dt.timedelta(days=index * period)
        if layer.ends_on is not None and day > layer.ends_on:
            break
        shift_start = local_instant(day, layer.handover, zone)
        if shift_start >= end:
            break
        shift_end = local_instant(day + dt.timedelta(days=period), layer.handover, zone)
        if layer.ends_on is not None:
            shift_end = min(
                shift_end,
                local_instant(layer.ends_on + dt.timedelta(days=1), layer.handover, zone),
            )
        if shift_end > start and (not layer.days_of_week or day.weekday() in layer.days_of_week):
            user = layer.member_ids[index % len(layer.member_ids)]
            shifts.append(Shift(shift_start, shift_end, user, layer.name))
        index += 1
    return shifts


def resolve(
    layers: Sequence[LayerSpec],
    overrides: Iterable[OverrideSpec],
    zone: ZoneInfo,
    start: dt.datetime,
    end: dt.datetime,
) -> Resolution:
    """Final schedule between two instants: overrides beat layers (the latest override wins),
    higher-priority layers beat lower ones; uncovered time is a gap (user None)."""
    if end <= start:
        return Resolution()
    ordered = sorted(layers, key=lambda layer: -layer.priority)
    per_layer = [layer_shifts(layer, zone, start, end) for layer in ordered]
    live_overrides = sorted(
        (o for o in overrides if o.ends_at > start and o.starts_at < end),
        key=lambda o: -o.created_order,
    )
    points = {start, end}
    for shifts in per_layer:
        for shift in shifts:
            points.update(p for p in (shift.starts_at, shift.ends_at) if start < p < end)
    for override in live_overrides:
        points.update(p for p in (override.starts_at, override.ends_at) if start < p < end)
    boundaries = sorted(points)
    segments: list[Shift] = []
    cursor = [0] * len(per_layer)
    for left, right in zip(boundaries, boundaries[1:], strict=False):
        user_id: int | None = None
        source = ""
        for override in live_overrides:
            if override.starts_at <= left < override.ends_at:
                user_id, source = override.user_id, "override"
                break
        else:
            for number, shifts in enumerate(per_layer):
                while cursor[number] < len(shifts) and shifts[cursor[number]].ends_at <= left:
                    cursor[number] += 1
                if cursor[number] < len(shifts) and shifts[cursor[number]].starts_at <= left:
                    shift = shifts[cursor[number]]
                    user_id, source = shift.user_id, shift.source
                    break
        if segments and segments[-1].user_id == user_id and segments[-1].source == source:
            segments[-1] = Shift(segments[-1].starts_at, right, user_id, source)
        else:
            segments.append(Shift(left, right, user_id, source))
    return Resolution(segments)


def who_at(
    layers: Sequence[LayerSpec], overrides: Iterable[OverrideSpec], zone: ZoneInfo, at: dt.datetime
) -> Shift | None:
    segments = resolve(layers, overrides, zone, at, at + dt.timedelta(seconds=1)).segments
    return segments[0] if segments else None


def chain_at(
    layers: Sequence[LayerSpec], overrides: Iterable[OverrideSpec], zone: ZoneInfo, at: dt.datetime
) -> list[int]:
    """Escalation order at an instant: the override holder, then each layer's person by
    priority (each person once)."""
    found: list[int] = []
    for override in sorted(overrides, key=lambda o: -o.created_order):
        if override.starts_at <= at < override.ends_at:
            found.append(override.user_id)
            break
    for layer in sorted(layers, key=lambda layer: -layer.priority):
        for shift in layer_shifts(layer, zone, at, at + dt.timedelta(seconds=1)):
            if shift.starts_at <= at < shift.ends_at and shift.user_id not in found:
                found.append(shift.user_id)  # type: ignore[arg-type]
    return found
