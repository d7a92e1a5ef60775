"""Trips and stops from a device's positions (pure), following Traccar's rules.

A fix is *moving* when its speed is above ``speed_threshold_mps`` (the device's own speed; for
a fix without one, the speed implied by the distance and time from the previous fix). The
device is parked once it has stayed not moving for at least ``min_parking_s``: that run of fixes
is a stop; a shorter halt (traffic lights) does not cut a trip. A gap of ``no_data_s`` without
any fix is a stop too. Between stops the movement is a trip, kept unless it is both shorter
than ``min_trip_distance_m`` and briefer than ``min_trip_s``.

Defaults are Traccar's (org.traccar.config.Keys): report.trip.minimalTripDistance 500 m,
minimalTripDuration 300 s, minimalParkingDuration 300 s, minimalNoDataDuration 3600 s, and
event.motion.speedThreshold 0.01 knots.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .geofence import haversine_m

KNOT_MPS = 1852 / 3600


@dataclass(frozen=True)
class TripRules:
    min_trip_distance_m: float = 500.0
    min_trip_s: float = 300.0
    min_parking_s: float = 300.0
    no_data_s: float = 3600.0
    speed_threshold_mps: float = 0.01 * KNOT_MPS


TRACCAR = TripRules()

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


def _moving(points: list[Point], rules: TripRules) -> list[bool]:
    flags = []
    for number, (at, lat, lon, speed) in enumerate(points):
        if speed is None and number > 0:
            before = points[number - 1]
            seconds = (at - before[0]).total_seconds()
            speed = haversine_m(before[1], before[2], lat, lon) / seconds if seconds > 0 else 0.0
        flags.append(speed is not None and speed > rules.speed_threshold_mps)
    return flags


def find_stops(points: list[Point], rules: TripRules = TRACCAR) -> list[Stop]:
    """Runs of not-moving fixes that last ``min_parking_s`` (from the first still fix to the
    first moving one after it), and gaps without data of ``no_data_s``; in time order."""
    stops: list[Stop] = []
    moving = _moving(points, rules)
    still_since: int | None = None
    for number, point in enumerate(points):
        if number > 0 and (point[0] - points[number - 1][0]).total_seconds() >= rules.no_data_s:
            _close(stops, points, still_since, number - 1, rules)
            before = points[number - 1]
            stops.append(Stop(before[0], point[0], before[1], before[2]))
            still_since = None
        if moving[number]:
            if still_since is not None:
                _close(stops, points, still_since, number, rules)
            still_since = None
        elif still_since is None:
            still_since = number
    if still_since is not None and points:
        _close(stops, points, still_since, len(points) - 1, rules)
    return _merged(stops)


def _close(
    stops: list[Stop], points: list[Point], first: int | None, until: int, rules: TripRules
) -> None:
    if first is None:
        return
    start, end = points[first][0], points[until][0]
    if (end - start).total_seconds() >= rules.min_parking_s:
        stops.append(Stop(start, end, points[first][1], points[first][2]))


def _merged(stops: list[Stop]) -> list[Stop]:
    """A parked run followed at once by a gap is one stop."""
    merged: list[Stop] = []
    for stop in stops:
        if merged and stop.start <= merged[-1].end:
            merged[-1].end = max(merged[-1].end, stop.end)
        else:
            merged.append(stop)
    return merged


def trips_and_stops(
    points: list[Point], rules: TripRules = TRACCAR
) -> tuple[list[Trip], list[Stop]]:
    points = sorted(points, key=lambda p: p[0])
    stops = find_stops(points, rules)
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
        if (
            distance < rules.min_trip_distance_m
            and (end - start).total_seconds() < rules.min_trip_s
        ):
            continue
        speeds = [p[3] for p in leg if p[3] is not None]
        trips.append(Trip(start, end, distance, max(speeds) if speeds else 0.0))
    return trips, stops
