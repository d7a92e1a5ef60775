"""The operations map: live positions of the devices the user may read, zones, and route replay
with trips and stops. Positions come from JSON endpoints the page polls; every read goes
through the selectors (need-to-know and the ledger).

Tiles come from ``settings.MAP_TILE_URL`` (HAVEN_MAP_TILE_URL: a force runs its own tile
server; nothing is fetched from the internet unless configured; the CSP admits that origin for
images, haven.web.middleware). Without one, the map draws
positions on a plain grid and says why."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from haven.accounts.types import AuthenticatedRequest

from . import selectors
from .models import Geofence
from .reports import trips_and_stops
from .views import NAV

ROUTE_DEFAULT = dt.timedelta(hours=24)
ROUTE_LONGEST = dt.timedelta(days=31)


def tile_context() -> dict[str, Any]:
    return {
        "tile_url": settings.MAP_TILE_URL,
        "tile_attribution": settings.MAP_TILE_ATTRIBUTION,
    }


def _point(point: selectors.MapPoint) -> dict[str, Any]:
    return {
        "at": point.at.isoformat(),
        "lat": round(point.lat, 6),
        "lon": round(point.lon, 6),
        "accuracy": point.accuracy,
        "speed_mps": point.speed_mps,
        "valid": point.valid,
    }


def _fence(fence: Geofence) -> dict[str, Any]:
    return {
        "id": str(fence.pk),
        "name": fence.name,
        "kind": fence.kind,
        "area": fence.area,
        "dwell_s": fence.dwell_s,
    }


def map_page(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    devices = [
        d for d in selectors.devices_in_service(user) if selectors.may_read_positions(user, d)
    ]
    now = timezone.localtime()
    return render(
        request,
        "telemetry/map.html",
        {
            **NAV,
            **tile_context(),
            "devices": devices,
            "route_from": (now - ROUTE_DEFAULT).strftime("%Y-%m-%dT%H:%M"),
            "route_to": now.strftime("%Y-%m-%dT%H:%M"),
        },
    )


@never_cache
def positions(request: AuthenticatedRequest) -> JsonResponse:
    """The latest fix of each device the user may read, and the zones they may read."""
    user = request.user
    live = selectors.live_positions(user)
    return JsonResponse(
        {
            "at": timezone.now().isoformat(),
            "devices": [
                {
                    "id": str(p.device.pk),
                    "name": p.device.name,
                    "device_id": p.device.device_id,
                    "status": p.device.get_status_display(),
                    **_point(p),
                }
                for p in live
            ],
            "zones": [_fence(f) for f in selectors.read_geofences(user)],
        }
    )


def _moment(value: str | None, default: dt.datetime) -> dt.datetime:
    if not value:
        return default
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return default
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@never_cache
def route(request: AuthenticatedRequest, device_pk: UUID) -> JsonResponse:
    """One device's fixes in a time range (default: the last 24 hours; at most 31 days), with
    its trips and stops, for route replay."""
    user = request.user
    end = _moment(request.GET.get("to"), timezone.now())
    start = _moment(request.GET.get("from"), end - ROUTE_DEFAULT)
    if end <= start:
        return JsonResponse({"detail": "The end must be after the start"}, status=400)
    start = max(start, end - ROUTE_LONGEST)
    points = selectors.route(user, device_pk, start, end)
    trips, stops = trips_and_stops([(p.at, p.lat, p.lon, p.speed_mps) for p in points if p.valid])
    return JsonResponse(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "points": [_point(p) for p in points],
            "trips": [
                {
                    "start": t.start.isoformat(),
                    "end": t.end.isoformat(),
                    "distance_m": round(t.distance_m),
                    "max_speed_mps": t.max_speed_mps,
                }
                for t in trips
            ],
            "stops": [
                {"start": s.start.isoformat(), "end": s.end.isoformat(), "lat": s.lat, "lon": s.lon}
                for s in stops
            ],
        }
    )
