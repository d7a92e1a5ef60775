"""Geofences: circles and polygons, a spatial index, and an accuracy-aware enter/exit decision.

Coordinates come in as (lat, lon) degrees like the devices send them; shapely works in (x=lon,
y=lat). Distances are metres, on a local equirectangular projection around each fence (good to
well under a metre for fences of a few kilometres, which is what safe and exclusion zones are).

The state of a device for a fence is one bit (inside or not). :func:`step` changes it only when
the fix is accurate enough and its error circle plus a hysteresis margin clears the boundary, so
GPS jitter around an edge cannot flap (Traccar has no such rule: traccar/traccar#2189, #6019).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import shapely
from shapely.geometry import Point, Polygon, box
from shapely.strtree import STRtree

EARTH_RADIUS_M = 6_371_008.8
# Spherical Earth throughout, so that the projection agrees with haversine distances.
M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180
M_PER_DEG_LON_EQUATOR = M_PER_DEG_LAT

ENTER = "enter"
EXIT = "exit"


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _lon_scale(lat: float) -> float:
    return max(M_PER_DEG_LON_EQUATOR * math.cos(math.radians(lat)), 1.0)


@dataclass(frozen=True)
class Fence:
    """A fence as configured. ``points`` are (lat, lon) for a polygon; ``centre`` for a circle."""

    id: str
    kind: str = "safe"  # "safe" (alert on exit) | "exclusion" (alert on enter)
    centre: tuple[float, float] | None = None
    radius_m: float = 0.0
    points: tuple[tuple[float, float], ...] = ()
    device_id: str | None = None  # None: applies to every device

    def __post_init__(self) -> None:
        if self.centre is None and len(self.points) < 3:
            raise ValueError("a fence is a circle (centre, radius) or a polygon of 3+ points")
        if self.centre is not None and not self.radius_m > 0:
            raise ValueError("a circle needs a positive radius")
        for lat, lon in ([self.centre] if self.centre else []) + list(self.points):
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError("fence coordinates out of range")


@dataclass
class CompiledFence:
    fence: Fence
    envelope: shapely.Geometry  # degrees (lon, lat), for the index
    origin: tuple[float, float] = (0.0, 0.0)
    local: shapely.Geometry | None = None  # metres around origin, polygons only
    _scale: tuple[float, float] = field(default=(M_PER_DEG_LAT, M_PER_DEG_LON_EQUATOR))

    @classmethod
    def build(cls, fence: Fence) -> CompiledFence:
        if fence.centre is not None:
            lat, lon = fence.centre
            dlat = fence.radius_m / M_PER_DEG_LAT
            dlon = fence.radius_m / _lon_scale(lat)
            return cls(fence, box(lon - dlon, lat - dlat, lon + dlon, lat + dlat), (lat, lon))
        lats = [p[0] for p in fence.points]
        lons = [p[1] for p in fence.points]
        origin = (sum(lats) / len(lats), sum(lons) / len(lons))
        scale = (M_PER_DEG_LAT, _lon_scale(origin[0]))
        local = Polygon(
            [
                ((lon - origin[1]) * scale[1], (lat - origin[0]) * scale[0])
                for lat, lon in fence.points
            ]
        )
        if not local.is_valid:
            local = local.buffer(0)  # a self-crossing outline: use its area
        if local.is_empty or local.area <= 0:
            raise ValueError("a polygon fence needs an area")
        envelope = Polygon([(lon, lat) for lat, lon in fence.points]).envelope
        return cls(fence, envelope, origin, local, scale)

    def signed_distance_m(self, lat: float, lon: float) -> float:
        """Metres from the boundary: negative inside, positive outside."""
        if self.local is None:
            centre = self.fence.centre
            assert centre is not None
            return haversine_m(lat, lon, centre[0], centre[1]) - self.fence.radius_m
        x = (lon - self.origin[1]) * self._scale[1]
        y = (lat - self.origin[0]) * self._scale[0]
        point = Point(x, y)
        distance = float(self.local.boundary.distance(point))
        return -distance if self.local.contains(point) else distance


@dataclass(frozen=True)
class Rules:
    """Decision thresholds (from config: geofence_min_accuracy_m, geofence_hysteresis_m)."""

    min_accuracy_m: float = 100.0
    hysteresis_m: float = 15.0


def step(
    was_inside: bool, signed_distance_m: float, accuracy_m: float | None, rules: Rules
) -> tuple[bool, str | None]:
    """One (device, fence) state change: (inside now, "enter" | "exit" | None).

    A fix less accurate than ``min_accuracy_m`` changes nothing. Otherwise the state flips only
    when the error circle plus the hysteresis margin lies wholly on the other side.
    """
    accuracy = accuracy_m if accuracy_m is not None and accuracy_m >= 0 else 0.0
    if accuracy > rules.min_accuracy_m:
        return was_inside, None
    margin = accuracy + rules.hysteresis_m
    if not was_inside and signed_distance_m <= -margin:
        return True, ENTER
    if was_inside and signed_distance_m >= margin:
        return False, EXIT
    return was_inside, None


def _accuracy(accuracy_m: float | None) -> float:
    return accuracy_m if accuracy_m is not None and accuracy_m >= 0 else 0.0


def margin_m(accuracy_m: float | None, rules: Rules) -> float | None:
    """How far around a fix to look for fences; None when the fix is too inaccurate to count."""
    accuracy = _accuracy(accuracy_m)
    return None if accuracy > rules.min_accuracy_m else accuracy + rules.hysteresis_m


class FenceIndex:
    """All fences in an STRtree; query the ones a fix (with its margin) could be inside."""

    def __init__(self, fences: Iterable[Fence]) -> None:
        self.compiled: list[CompiledFence] = [CompiledFence.build(f) for f in fences]
        self.by_id = {c.fence.id: c for c in self.compiled}
        self.tree = STRtree([c.envelope for c in self.compiled]) if self.compiled else None

    def __len__(self) -> int:
        return len(self.compiled)

    def near(self, lat: float, lon: float, margin_m: float) -> list[CompiledFence]:
        return self.near_many([(lat, lon, margin_m)])[0]

    def near_many(self, fixes: Sequence[tuple[float, float, float]]) -> list[list[CompiledFence]]:
        """:meth:`near` for many (lat, lon, margin) at once: one vectorised STRtree query instead
        of one per fix (building a shapely box and querying costs ~50 µs per call)."""
        found: list[list[CompiledFence]] = [[] for _ in fixes]
        if self.tree is None or not fixes:
            return found
        bounds = []
        for lat, lon, margin in fixes:
            dlat, dlon = margin / M_PER_DEG_LAT, margin / _lon_scale(lat)
            bounds.append((lon - dlon, lat - dlat, lon + dlon, lat + dlat))
        xmin, ymin, xmax, ymax = zip(*bounds, strict=True)
        which, hits = self.tree.query(shapely.box(xmin, ymin, xmax, ymax)).tolist()
        # Sorted by fence, so one fix that crosses two fences always reports them in one order.
        for fix, hit in sorted(zip(which, hits, strict=True)):
            found[fix].append(self.compiled[hit])
        return found

    def evaluate(
        self,
        device_id: str,
        inside: Sequence[str],
        lat: float,
        lon: float,
        accuracy_m: float | None,
        rules: Rules,
        near: list[CompiledFence] | None = None,
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """New inside-set and the transitions [(fence id, "enter"|"exit")] for one fix. ``near``:
        the candidates from :meth:`near_many` with this fix's margin (:func:`margin_m`)."""
        current = set(inside)
        margin = margin_m(accuracy_m, rules)
        if margin is None:
            return sorted(current), []
        if near is None:
            near = self.near(lat, lon, margin)
        accuracy = _accuracy(accuracy_m)
        transitions: list[tuple[str, str]] = []
        seen: set[str] = set()
        for compiled in near:
            fence = compiled.fence
            if fence.device_id is not None and fence.device_id != device_id:
                continue
            seen.add(fence.id)
            was = fence.id in current
            now, change = step(was, compiled.signed_distance_m(lat, lon), accuracy, rules)
            if change:
                transitions.append((fence.id, change))
                (current.add if now else current.discard)(fence.id)
        for fence_id in list(current - seen):
            if fence_id not in self.by_id:
                current.discard(fence_id)  # the fence was removed: forget it quietly
            else:
                # Not even the envelope is within the margin: clearly outside.
                current.discard(fence_id)
                transitions.append((fence_id, EXIT))
        return sorted(current), transitions
