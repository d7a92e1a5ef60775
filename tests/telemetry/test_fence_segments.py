"""Geofences checked on the segment between fixes, dwell times and per-fence hysteresis."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from haven.telemetry import services
from haven.telemetry.geofence import (
    CROSSED,
    ENTER,
    EXIT,
    M_PER_DEG_LAT,
    Fence,
    FenceIndex,
    Fix,
    Rules,
)
from haven.telemetry.models import Event

from .helpers import make_device, message

RULES = Rules(min_accuracy_m=100.0, hysteresis_m=15.0)
HOME = (51.5, -0.12)
T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def north(metres: float, origin: tuple[float, float] = HOME) -> tuple[float, float]:
    return origin[0] + metres / M_PER_DEG_LAT, origin[1]


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def fix(metres: float, seconds: float, accuracy: float = 5.0) -> Fix:
    return Fix(*north(metres), accuracy, at(seconds))


SMALL = Fence(id="small", kind="exclusion", centre=north(500), radius_m=60)
SQUARE = Fence(  # about 110 m a side, 500 m north
    id="square",
    kind="exclusion",
    points=tuple(
        north(m, (HOME[0], HOME[1] + dlon))
        for m, dlon in ((450, -0.0008), (450, 0.0008), (560, 0.0008), (560, -0.0008))
    ),
)


@pytest.mark.parametrize("fence", [SMALL, SQUARE], ids=["circle", "polygon"])
def test_a_fast_pair_of_fixes_that_jumps_over_a_small_fence_is_a_crossing(fence):
    index = FenceIndex([fence])
    result = index.evaluate_fix("dev", None, [], {}, fix(1000, 10), RULES, previous=fix(0, 0))
    assert result.transitions == [(fence.id, CROSSED)]
    assert result.inside == []


def test_a_segment_that_only_grazes_the_edge_is_not_a_crossing():
    index = FenceIndex([SMALL])
    # Passes 50 m from the centre of a 60 m fence: 10 m deep, less than the 15 m hysteresis.
    start = (HOME[0], HOME[1])
    east = 50 / (M_PER_DEG_LAT * 0.6225)  # ~50 m of longitude at 51.5° N
    previous = Fix(north(0, (start[0], start[1] + east))[0], start[1] + east, 5.0, at(0))
    end = Fix(north(1000, (start[0], start[1] + east))[0], start[1] + east, 5.0, at(10))
    assert index.evaluate_fix("dev", None, [], {}, end, RULES, previous=previous).transitions == []


def test_without_a_previous_fix_there_is_no_crossing():
    index = FenceIndex([SMALL])
    assert index.evaluate_fix("dev", None, [], {}, fix(1000, 10), RULES).transitions == []


def test_dwell_time_holds_an_exit_until_the_device_has_stayed_out():
    index = FenceIndex([Fence(id="home", centre=HOME, radius_m=200, dwell_s=60)])
    state = index.evaluate_fix("dev", None, ["home"], {}, fix(300, 0), RULES)
    assert state.transitions == [] and state.inside == ["home"]
    assert state.pending == {"home": at(0).isoformat()}
    state = index.evaluate_fix("dev", None, state.inside, state.pending, fix(310, 30), RULES)
    assert state.transitions == [] and "home" in state.pending
    state = index.evaluate_fix("dev", None, state.inside, state.pending, fix(320, 60), RULES)
    assert state.transitions == [("home", EXIT)]
    assert state.inside == [] and state.pending == {}


def test_drift_out_and_back_within_the_dwell_time_raises_nothing():
    index = FenceIndex([Fence(id="home", centre=HOME, radius_m=200, dwell_s=60)])
    inside, pending, events = ["home"], {}, []
    # ±40 m drift around the edge, every 10 s, for ten minutes: out for 20 s at most each time.
    for number in range(60):
        metres = 200 + (40 if number % 3 == 0 else -40)
        state = index.evaluate_fix("dev", None, inside, pending, fix(metres, number * 10), RULES)
        inside, pending, events = state.inside, state.pending, events + state.transitions
    assert events == []
    assert inside == ["home"]


def test_entry_with_dwell_time_counts_after_staying_in():
    index = FenceIndex([Fence(id="zone", kind="exclusion", centre=HOME, radius_m=200, dwell_s=30)])
    state = index.evaluate_fix("dev", None, [], {}, fix(0, 0), RULES)
    assert state.transitions == [] and state.pending
    state = index.evaluate_fix("dev", None, state.inside, state.pending, fix(10, 45), RULES)
    assert state.transitions == [("zone", ENTER)]


def test_a_fence_with_its_own_wider_hysteresis_holds_longer():
    wide = FenceIndex([Fence(id="home", centre=HOME, radius_m=200, hysteresis_m=80)])
    narrow = FenceIndex([Fence(id="home", centre=HOME, radius_m=200)])
    assert wide.evaluate("dev", ["home"], *north(260), 5, RULES) == (["home"], [])
    assert narrow.evaluate("dev", ["home"], *north(260), 5, RULES) == ([], [("home", EXIT)])


def test_a_deployment_fence_applies_only_to_devices_fitted_on_it():
    index = FenceIndex([Fence(id="d", centre=HOME, radius_m=200, deployment_id="dep-1")])
    fitted = index.evaluate_fix("dev", "dep-1", [], {}, fix(0, 0), RULES)
    other = index.evaluate_fix("dev", "dep-2", [], {}, fix(0, 0), RULES)
    assert fitted.transitions == [("d", ENTER)]
    assert other.transitions == []


@pytest.mark.django_db
def test_ingest_raises_a_critical_crossing_for_a_jump_over_an_exclusion_zone():
    device = make_device()
    services.create_geofence(
        None,
        name="Suspect's address",
        kind="exclusion",
        area=services.fence_area(lat=SMALL.centre[0], lon=SMALL.centre[1], radius_m=60),
        dwell_s=0,
    )
    start = timezone.now() - dt.timedelta(seconds=20)
    services.ingest(message(device, fix_time=start, lat=HOME[0], lon=HOME[1], accuracy=5))
    far = north(1000)
    result = services.ingest(
        message(device, fix_time=start + dt.timedelta(seconds=10), lat=far[0], lon=far[1])
    )
    assert [e.type for e in result.events] == ["geofence_crossed"]
    assert result.alerts and result.alerts[0].severity == "critical"
    assert "Crossed exclusion zone Suspect's address" in result.alerts[0].title
    assert Event.objects.filter(device=device, type="geofence_crossed").count() == 1


@pytest.mark.django_db
def test_ingest_keeps_a_pending_exit_on_the_device_until_the_dwell_time_passes():
    device = make_device()
    services.create_geofence(
        None,
        name="Home",
        kind="safe",
        area=services.fence_area(lat=HOME[0], lon=HOME[1], radius_m=200),
        device=device,
        dwell_s=60,
    )
    start = timezone.now() - dt.timedelta(seconds=300)

    def report(seconds: int, where: tuple[float, float]) -> services.IngestResult:
        when = start + dt.timedelta(seconds=seconds)
        return services.ingest(message(device, fix_time=when, lat=where[0], lon=where[1]))

    assert report(0, HOME).events == []  # first seen at home: the entry waits for its dwell
    assert [e.type for e in report(70, HOME).events] == ["geofence_enter"]
    out = north(400)
    first = report(80, out)
    device.refresh_from_db()
    assert first.events == [] and device.pending_fences
    later = report(145, out)
    assert [e.type for e in later.events] == ["geofence_exit"]
    device.refresh_from_db()
    assert device.pending_fences == {} and device.inside_fences == []


def _crossing_setup():
    device = make_device()
    services.create_geofence(
        None,
        name="Suspect's address",
        kind="exclusion",
        area=services.fence_area(lat=SMALL.centre[0], lon=SMALL.centre[1], radius_m=60),
        dwell_s=0,
    )
    return device, timezone.now() - dt.timedelta(seconds=20)


def _position_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "position" in q["sql"]]


@pytest.mark.django_db
def test_the_previous_fix_comes_from_the_last_committed_batch_without_a_query(
    django_capture_on_commit_callbacks,
):
    device, start = _crossing_setup()
    with django_capture_on_commit_callbacks(execute=True):
        services.ingest(message(device, fix_time=start, lat=HOME[0], lon=HOME[1], accuracy=5))
    far = north(1000)
    with CaptureQueriesContext(connection) as queries:
        result = services.ingest(
            message(device, fix_time=start + dt.timedelta(seconds=10), lat=far[0], lon=far[1])
        )
    assert [e.type for e in result.events] == ["geofence_crossed"]
    assert _position_reads(queries.captured_queries) == []


@pytest.mark.django_db
def test_a_remembered_fix_another_process_has_overtaken_is_not_used():
    device, start = _crossing_setup()
    services.ingest(message(device, fix_time=start, lat=HOME[0], lon=HOME[1], accuracy=5))
    # Remembered for another time (a newer fix stored elsewhere, or a batch rolled back):
    # north of the zone, so the segment from it would cross nothing.
    services.LAST_FIXES.update({device.pk: (start - dt.timedelta(seconds=5), fix(2000, 0))})
    far = north(1000)
    with CaptureQueriesContext(connection) as queries:
        result = services.ingest(
            message(device, fix_time=start + dt.timedelta(seconds=10), lat=far[0], lon=far[1])
        )
    assert [e.type for e in result.events] == ["geofence_crossed"]  # from the stored fix
    assert len(_position_reads(queries.captured_queries)) == 1


@pytest.mark.django_db
def test_an_invalid_last_fix_is_remembered_as_no_segment_start(
    django_capture_on_commit_callbacks,
):
    device, start = _crossing_setup()
    with django_capture_on_commit_callbacks(execute=True):
        services.ingest(
            message(device, fix_time=start, lat=HOME[0], lon=HOME[1], accuracy=5, valid=False)
        )
    far = north(1000)
    with CaptureQueriesContext(connection) as queries:
        result = services.ingest(
            message(device, fix_time=start + dt.timedelta(seconds=10), lat=far[0], lon=far[1])
        )
    assert result.events == []  # no valid start: no segment, no crossing
    assert _position_reads(queries.captured_queries) == []


@pytest.mark.django_db
def test_a_protected_persons_previous_fix_is_read_back_from_its_sealed_coordinates():
    device, start = _crossing_setup()
    device.protects_person = True
    device.save(update_fields=["protects_person"])
    services.ingest(message(device, fix_time=start, lat=HOME[0], lon=HOME[1], accuracy=5))
    services.LAST_FIXES.clear()  # as a receiver that has not seen the device yet
    far = north(1000)
    with CaptureQueriesContext(connection) as queries:
        result = services.ingest(
            message(device, fix_time=start + dt.timedelta(seconds=10), lat=far[0], lon=far[1])
        )
    assert [e.type for e in result.events] == ["geofence_crossed"]  # from the sealed start
    assert len(_position_reads(queries.captured_queries)) == 1
