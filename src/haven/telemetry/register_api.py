"""API for the register of trackers, alarms and zones, and for the map's positions and routes
(the same services and selectors as the web pages). Added to the telemetry router, so it carries
the operations module's token auth (haven/api.py)."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from typing import Any
from uuid import UUID

from django.utils import timezone
from ninja import Field, Query, Schema, Status
from ninja.errors import HttpError

from haven.accounts.types import AuthenticatedRequest
from haven.ui.apihelpers import QueryFilters, attempt

from . import selectors, services
from .api import DeviceSummary, router
from .models import DeviceKind, FenceKind, Geofence, SpeedUnit, TelemetryDevice
from .reports import trips_and_stops


class DeviceDetailOut(DeviceSummary):
    speed_unit: SpeedUnit
    expected_interval_s: int | None
    asset_id: UUID | None
    deployment_id: UUID | None
    case_id: UUID | None
    active: bool
    retired_at: datetime | None
    version: int


def device_out(device: TelemetryDevice) -> DeviceDetailOut:
    return DeviceDetailOut.model_validate(device)


class DeviceChangeIn(Schema):
    name: str = Field(max_length=120)
    kind: DeviceKind
    protects_person: bool = False
    rota_name: str = Field("", max_length=120)
    speed_unit: SpeedUnit = SpeedUnit.KNOTS
    expected_interval_s: int | None = Field(None, ge=10, le=7 * 24 * 3600)
    asset_id: UUID | None = None
    deployment_id: UUID | None = None


class DeviceIn(DeviceChangeIn):
    device_id: str = Field(min_length=1, max_length=80)


class DeviceUpdateIn(DeviceChangeIn):
    version: int


class VersionIn(Schema):
    version: int


@router.post(
    "/telemetry/devices",
    response={201: DeviceDetailOut},
    summary="Register a tracker or alarm",
)
def register_device(request: AuthenticatedRequest, body: DeviceIn) -> Status[DeviceDetailOut]:
    device = attempt(lambda: services.register_device(request.user, **body.dict()))
    return Status(201, device_out(device))


@router.put("/telemetry/devices/{device_pk}", response=DeviceDetailOut, summary="Change a device")
def update_device(
    request: AuthenticatedRequest, device_pk: UUID, body: DeviceUpdateIn
) -> DeviceDetailOut:
    selectors.device_for_change(request.user, device_pk)
    values = body.dict()
    version = values.pop("version")
    device = attempt(
        lambda: services.update_device(request.user, device_pk, version=version, **values)
    )
    return device_out(device)


@router.post(
    "/telemetry/devices/{device_pk}/retire", response=DeviceDetailOut, summary="Retire a device"
)
def retire_device(request: AuthenticatedRequest, device_pk: UUID, body: VersionIn) -> Any:
    selectors.device_for_change(request.user, device_pk)
    return device_out(
        attempt(lambda: services.retire_device(request.user, device_pk, version=body.version))
    )


# ------------------------------------------------------------------------------ zones


class CircleIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_m: float = Field(gt=0, le=100_000)


class ZoneIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    kind: FenceKind
    circle: CircleIn | None = None
    polygon: list[tuple[float, float]] | None = Field(
        None, description="Corners as [latitude, longitude], at least 3"
    )
    device_id: UUID | None = Field(None, description="The device it applies to (Haven's id)")
    deployment_id: UUID | None = None
    hysteresis_m: float | None = Field(None, ge=0, le=1000)
    dwell_s: int | None = Field(
        None, ge=0, le=86400, description="Empty: the configured default (30 s)"
    )

    def area(self) -> dict[str, Any]:
        if (self.circle is None) == (self.polygon is None):
            raise HttpError(422, "Give a circle or a polygon")
        if self.polygon is not None:
            return services.fence_area(points=self.polygon)
        assert self.circle is not None
        return services.fence_area(**self.circle.dict())


class ZoneUpdateIn(ZoneIn):
    version: int


class ZoneOut(Schema):
    id: UUID
    name: str
    kind: FenceKind
    area: dict[str, Any]
    device_id: UUID | None
    deployment_id: UUID | None
    hysteresis_m: float | None
    dwell_s: int
    updated_at: datetime
    version: int


def zone_out(fence: Geofence) -> ZoneOut:
    return ZoneOut.model_validate(fence)


def _zone_values(request: AuthenticatedRequest, body: ZoneIn) -> dict[str, Any]:
    device = selectors.device_for_change(request.user, body.device_id) if body.device_id else None
    return {
        "name": body.name,
        "kind": body.kind,
        "area": body.area(),
        "device": device,
        "deployment_id": body.deployment_id,
        "hysteresis_m": body.hysteresis_m,
    }


@router.get("/telemetry/zones", response=list[ZoneOut], summary="Zones you may read")
def list_zones(request: AuthenticatedRequest) -> list[ZoneOut]:
    return [zone_out(f) for f in selectors.read_geofences(request.user)]


@router.get("/telemetry/zones/{fence_id}", response=ZoneOut, summary="One zone")
def get_zone(request: AuthenticatedRequest, fence_id: UUID) -> ZoneOut:
    return zone_out(selectors.get_geofence(request.user, fence_id))


@router.post("/telemetry/zones", response={201: ZoneOut}, summary="Create a zone")
def create_zone(request: AuthenticatedRequest, body: ZoneIn) -> Status[ZoneOut]:
    values = _zone_values(request, body)
    fence = attempt(lambda: services.create_geofence(request.user, dwell_s=body.dwell_s, **values))
    return Status(201, zone_out(fence))


@router.put("/telemetry/zones/{fence_id}", response=ZoneOut, summary="Change a zone")
def update_zone(request: AuthenticatedRequest, fence_id: UUID, body: ZoneUpdateIn) -> ZoneOut:
    selectors.get_geofence(request.user, fence_id)
    values = _zone_values(request, body)
    dwell = body.dwell_s if body.dwell_s is not None else 0
    fence = attempt(
        lambda: services.update_geofence(
            request.user, fence_id, version=body.version, dwell_s=dwell, **values
        )
    )
    return zone_out(fence)


@router.post("/telemetry/zones/{fence_id}/retire", response=ZoneOut, summary="Retire a zone")
def retire_zone(request: AuthenticatedRequest, fence_id: UUID, body: VersionIn) -> ZoneOut:
    selectors.get_geofence(request.user, fence_id)
    return zone_out(
        attempt(lambda: services.retire_geofence(request.user, fence_id, version=body.version))
    )


# ------------------------------------------------------------------------------ positions


class PointOut(Schema):
    at: datetime
    lat: float
    lon: float
    accuracy: float | None
    speed_mps: float | None
    valid: bool


class LivePointOut(PointOut):
    device: UUID
    device_id: str
    name: str


class SpanOut(Schema):
    start: datetime
    end: datetime


class TripOut(SpanOut):
    distance_m: float
    max_speed_mps: float


class StopOut(SpanOut):
    lat: float
    lon: float


class RouteOut(Schema):
    points: list[PointOut]
    trips: list[TripOut]
    stops: list[StopOut]


class RouteFilter(QueryFilters):
    start: datetime | None = Field(None, alias="from", description="Default: 24 hours before to")
    end: datetime | None = Field(None, alias="to", description="Default: now")


def _point(p: selectors.MapPoint) -> dict[str, Any]:
    """A map point's own fields (without its device): those PointOut names."""
    return {name: getattr(p, name) for name in PointOut.model_fields}


@router.get(
    "/telemetry/positions",
    response=list[LivePointOut],
    summary="Latest position of each device you may read (reads of protected people ledgered)",
)
def live_positions(request: AuthenticatedRequest) -> list[LivePointOut]:
    return [
        LivePointOut(
            device=p.device.pk, device_id=p.device.device_id, name=p.device.name, **_point(p)
        )
        for p in selectors.live_positions(request.user)
    ]


@router.get(
    "/telemetry/devices/{device_pk}/route",
    response=RouteOut,
    summary="A device's positions in a time range, with its trips and stops",
)
def device_route(
    request: AuthenticatedRequest, device_pk: UUID, window: Query[RouteFilter]
) -> RouteOut:
    end = window.end or timezone.now()
    start = window.start or end - dt.timedelta(hours=24)
    if end <= start:
        raise HttpError(422, "to: must be after from")
    points = selectors.route(request.user, device_pk, start, end)
    trips, stops = trips_and_stops([(p.at, p.lat, p.lon, p.speed_mps) for p in points if p.valid])
    return RouteOut(
        points=[PointOut(**_point(p)) for p in points],
        trips=[
            TripOut(
                start=t.start, end=t.end, distance_m=t.distance_m, max_speed_mps=t.max_speed_mps
            )
            for t in trips
        ],
        stops=[StopOut(start=s.start, end=s.end, lat=s.lat, lon=s.lon) for s in stops],
    )
