"""Trips and stops from a device's positions (pure).

A stop is a run of fixes that stay within ``min_distance_m`` of the run's first fix for at least
``min_duration_s`` (Traccar's current defaults: 200 m, 180 s); a gap of ``stop_gap_s`` (3600 s)
without data also ends a trip. Trips run from the end of one stop to the start of the next.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .geofence import haversine_m

MIN_DISTANCE_M = 200.0
MIN_DURATION_S = 180.0
STOP_GAP_S = 3600.0

Point = tuple[dt.datetime, float, float, float | None]  # time, lat, lon, speed m/s


@dataclass
class _Span:
    start: dt.datetime
    end: dt.datetime

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start


@dataclass
class Stop(_Span):
    lat: float
    lon: float


@dataclass
class Trip(_Span):
    distance_m: float
    max_speed_mps: float

    @property
    def average_speed_mps(self) -> float:
        seconds = self.duration.total_seconds()
        return self.distance_m / seconds if seconds > 0 else 0.0


def find_stops(
    points: list[Point],
    min_distance_m: float = MIN_DISTANCE_M,
    min_duration_s: float = MIN_DURATION_S,
    stop_gap_s: float = STOP_GAP_S,
) -> list[Stop]:
    stops: list[Stop] = []
    if not points:
        return stops
    anchor = 0
    last = 0
    for i in range(1, len(points) + 1):
        ends_run = i == len(points)
        if not ends_run:
            gap = (points[i][0] - points[last][0]).total_seconds()
            near = (
                haversine_m(points[anchor][1], points[anchor][2], points[i][1], points[i][2])
                < min_distance_m
            )
            ends_run = not near or gap > stop_gap_s
        if ends_run:
            if (points[last][0] - points[anchor][0]).total_seconds() >= min_duration_s:
                stops.append(
                    Stop(points[anchor][0], points[last][0], points[anchor][1], points[anchor][2])
                )
            anchor = i
        last = i
    return stops


def trips_and_stops(
    points: list[Point],
    min_distance_m: float = MIN_DISTANCE_M,
    min_duration_s: float = MIN_DURATION_S,
) -> tuple[list[Trip], list[Stop]]:
    points = sorted(points, key=lambda p: p[0])
    stops = find_stops(points, min_distance_m, min_duration_s)
    trips: list[Trip] = []
    # Movement before the first stop and after the last one counts as a trip too.
    bounds = [points[0][0]] if points else []
    for stop in stops:
        bounds += [stop.start, stop.end]
    if points:
        bounds.append(points[-1][0])
    for start, end in zip(bounds[::2], bounds[1::2], strict=False):
        leg = [p for p in points if start <= p[0] <= end]
        if len(leg) < 2 or end <= start:
            continue
        distance = sum(
            haversine_m(a[1], a[2], b[1], b[2]) for a, b in zip(leg, leg[1:], strict=False)
        )
        if distance < min_distance_m:
            continue
        speeds = [p[3] for p in leg if p[3] is not None]
        trips.append(Trip(start, end, distance, max(speeds) if speeds else 0.0))
    return trips, stops
