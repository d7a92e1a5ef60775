"""Geofences: distance, index, and the accuracy-aware hysteresis state machine (pure)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haven.telemetry.geofence import (
    ENTER,
    EXIT,
    M_PER_DEG_LAT,
    CompiledFence,
    Fence,
    FenceIndex,
    Rules,
    haversine_m,
    step,
)

RULES = Rules(min_accuracy_m=100.0, hysteresis_m=15.0)
HOME = (51.5, -0.12)
CIRCLE = Fence(id="home", kind="safe", centre=HOME, radius_m=200)
# A square about 222 m a side (0.002 deg of latitude) north of HOME.
SQUARE = Fence(
    id="square",
    kind="exclusion",
    points=((51.51, -0.13), (51.51, -0.127), (51.512, -0.127), (51.512, -0.13)),
)


def north_of(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / M_PER_DEG_LAT, point[1]


def test_signed_distance_circle_and_polygon():
    circle = CompiledFence.build(CIRCLE)
    assert circle.signed_distance_m(*HOME) == pytest.approx(-200, abs=0.5)
    assert circle.signed_distance_m(*north_of(HOME, 300)) == pytest.approx(100, abs=1)
    square = CompiledFence.build(SQUARE)
    centre = (51.511, -0.1285)
    assert square.signed_distance_m(*centre) < -90
    assert square.signed_distance_m(51.5135, -0.1285) == pytest.approx(
        0.0015 * M_PER_DEG_LAT, rel=0.01
    )


def test_haversine_one_degree_of_latitude():
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=0.001)


def test_bad_fences_are_refused():
    with pytest.raises(ValueError):
        Fence(id="x", points=((0, 0), (1, 1)))
    with pytest.raises(ValueError):
        Fence(id="x", centre=(0, 0), radius_m=0)
    with pytest.raises(ValueError):
        Fence(id="x", centre=(95, 0), radius_m=10)
    with pytest.raises(ValueError):
        CompiledFence.build(Fence(id="x", points=((0, 0), (0, 1), (0, 2))))  # no area


def test_step_needs_the_error_circle_to_clear_the_boundary():
    assert step(True, 10, 5, RULES) == (True, None)  # inside the band: no change
    assert step(True, 25, 5, RULES) == (False, EXIT)
    assert step(False, -25, 5, RULES) == (True, ENTER)
    assert step(False, -25, 50, RULES) == (False, None)  # error circle crosses the edge
    assert step(True, 500, 150, RULES) == (True, None)  # too inaccurate to decide


@given(
    was=st.booleans(),
    distance=st.floats(-1e4, 1e4, allow_nan=False),
    accuracy=st.floats(0, 1e3, allow_nan=False),
)
def test_step_never_changes_state_inside_the_band(was, distance, accuracy):
    now, change = step(was, distance, accuracy, RULES)
    if abs(distance) < accuracy + RULES.hysteresis_m or accuracy > RULES.min_accuracy_m:
        assert (now, change) == (was, None)
    assert (change is None) == (now == was)
    if change == ENTER:
        assert distance < 0
    if change == EXIT:
        assert distance > 0


@settings(max_examples=60)
@given(
    jitter=st.lists(st.floats(-14.0, 14.0, allow_nan=False), min_size=5, max_size=60),
    accuracy=st.floats(0, 20, allow_nan=False),
)
def test_jitter_at_the_edge_never_flaps(jitter, accuracy):
    """A device parked on the boundary with GPS noise under the hysteresis: no events at all."""
    index = FenceIndex([CIRCLE])
    inside = ["home"]
    for noise in jitter:
        point = north_of(HOME, 200 + noise)
        inside, transitions = index.evaluate("dev", inside, *point, accuracy, RULES)
        assert transitions == []
        assert inside == ["home"]


@settings(max_examples=40)
@given(noise=st.lists(st.floats(-10, 10, allow_nan=False), min_size=40, max_size=40))
def test_walking_out_gives_exactly_one_exit(noise):
    index = FenceIndex([CIRCLE])
    inside: list[str] = ["home"]
    events = []
    for step_number, wobble in enumerate(noise):
        point = north_of(HOME, step_number * 10 + wobble)  # 0 m .. 400 m north
        inside, transitions = index.evaluate("dev", inside, *point, 5.0, RULES)
        events += transitions
    assert events == [("home", EXIT)]
    assert inside == []


def test_index_only_returns_nearby_fences_and_respects_device_links():
    fences = [Fence(id=f"f{i}", centre=(50 + i * 0.01, 0.0), radius_m=100) for i in range(1000)]
    fences.append(Fence(id="mine", centre=(50.0, 0.0), radius_m=50, device_id="other"))
    index = FenceIndex(fences)
    near = index.near(50.0, 0.0, 20)
    assert {c.fence.id for c in near} == {"f0", "mine"}
    inside, transitions = index.evaluate("dev", [], 50.0, 0.0, 5, RULES)
    assert inside == ["f0"]  # "mine" belongs to another device
    assert transitions == [("f0", ENTER)]


def test_far_jump_exits_a_fence_that_is_no_longer_near():
    index = FenceIndex([CIRCLE])
    inside, transitions = index.evaluate("dev", ["home"], 10.0, 10.0, 5, RULES)
    assert (inside, transitions) == ([], [("home", EXIT)])


def test_removed_fence_is_forgotten_quietly():
    index = FenceIndex([])
    assert index.evaluate("dev", ["gone"], *HOME, 5, RULES) == ([], [])


def test_ten_thousand_fences_index():
    fences = [
        Fence(id=str(i), centre=(50 + (i % 100) * 0.01, (i // 100) * 0.01), radius_m=150)
        for i in range(10_000)
    ]
    index = FenceIndex(fences)
    assert len(index) == 10_000
    inside, _ = index.evaluate("dev", [], 50.0, 0.0, 5, RULES)
    assert inside == ["0"]
    assert math.isclose(len(index.near(50.5, 0.5, 10)), 1)
