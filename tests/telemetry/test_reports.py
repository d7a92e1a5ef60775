"""Trips and stops follow Traccar's rules: speed decides motion, short halts do not cut a trip."""

from __future__ import annotations

import datetime as dt

from haven.telemetry.geofence import M_PER_DEG_LAT
from haven.telemetry.reports import KNOT_MPS, TripRules, trips_and_stops

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
HOME = (51.5, -0.12)


def track(legs: list[tuple[float, float, float]], every_s: float = 5.0):
    """Fixes every ``every_s`` over legs of (seconds, speed in knots); moving due north."""
    points, at, metres = [], 0.0, 0.0
    for seconds, knots in legs:
        for _ in range(int(seconds / every_s)):
            speed = knots * KNOT_MPS
            points.append(
                (T0 + dt.timedelta(seconds=at), HOME[0] + metres / M_PER_DEG_LAT, HOME[1], speed)
            )
            at += every_s
            metres += speed * every_s
    return points


def test_a_971_metre_drive_at_50_knots_is_one_trip_between_two_stops():
    # 38 s at 50 kn (25.7 m/s) is ~980 m: the drive the issue reports as 0 trips and 4 stops.
    points = track([(600, 0), (38 + 2, 50), (600, 0)], every_s=2)
    trips, stops = trips_and_stops(points)
    assert len(trips) == 1
    assert 900 < trips[0].distance_m < 1100
    assert trips[0].max_speed_mps > 25
    assert len(stops) == 2


def test_reported_speed_counts_even_where_fixes_stay_close_together():
    """The issue's case: a 971 m drive reported at 50 kn whose fixes are close together (the
    old distance-only rule saw 4 stops and no trip). Speed says moving: one trip."""
    points = [
        (
            T0 + dt.timedelta(seconds=30 * n),
            HOME[0] + 20 * n / M_PER_DEG_LAT,
            HOME[1],
            50 * KNOT_MPS,
        )
        for n in range(49)
    ]
    trips, stops = trips_and_stops(points)
    assert len(trips) == 1 and stops == []
    assert round(trips[0].distance_m) == 960


def test_a_short_halt_at_lights_does_not_cut_the_trip():
    points = track([(400, 0), (300, 30), (60, 0), (300, 30), (400, 0)])
    trips, stops = trips_and_stops(points)
    assert len(trips) == 1 and len(stops) == 2


def test_a_long_halt_does_cut_the_trip():
    points = track([(400, 0), (300, 30), (400, 0), (300, 30), (400, 0)])
    trips, stops = trips_and_stops(points)
    assert len(trips) == 2 and len(stops) == 3


def test_a_brief_short_move_is_no_trip():
    # 20 s at 10 kn is ~100 m and 20 s: under both the distance and the duration minimum.
    trips, _ = trips_and_stops(track([(400, 0), (20, 10), (400, 0)]))
    assert trips == []


def test_speed_threshold_is_configurable():
    points = track([(400, 0), (400, 2), (400, 0)])
    assert len(trips_and_stops(points)[0]) == 1
    assert trips_and_stops(points, TripRules(speed_threshold_mps=5.0))[0] == []


def test_without_speeds_motion_comes_from_distance_over_time():
    points = [(t, lat, lon, None) for t, lat, lon, _ in track([(400, 0), (300, 30), (400, 0)])]
    trips, stops = trips_and_stops(points)
    assert len(trips) == 1 and len(stops) == 2


def test_a_gap_without_data_is_a_stop():
    first = track([(300, 30)])
    later = [
        (t + dt.timedelta(hours=2), lat + 0.1, lon, s) for t, lat, lon, s in track([(300, 30)])
    ]
    trips, stops = trips_and_stops(first + later)
    assert len(stops) == 1 and stops[0].duration >= dt.timedelta(hours=1)
    assert len(trips) == 2
