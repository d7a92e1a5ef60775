"""The register of trackers, alarms and zones (geofences) for operations users: register, edit
and retire devices; create, edit and retire zones, drawn on the map or typed into the form.

Mounted with the rest of telemetry behind the operations module (haven/urls.py): only the
technical roles reach these views; the services check the same again for the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from haven.accounts.models import User
from haven.accounts.types import AuthenticatedRequest
from haven.ui.helpers import submitted

from . import map_views, selectors, services
from .config import get_config
from .forms import DeviceForm, GeofenceForm, ZoneShape
from .models import Geofence, TelemetryDevice
from .views import NAV

SHOWN = (services.ConflictError,)


def _device_choices(user: User) -> dict[str, Any]:
    from haven.equipment import selectors as equipment_selectors
    from haven.rota import selectors as rota_selectors

    assets = equipment_selectors.search_assets(user, equipment_selectors.AssetSearch())
    deployments = equipment_selectors.deployments_visible_to(user).order_by("reference")
    return {
        "assets": [
            (str(a.pk), f"{a.serial} – {a.make} {a.model_name} (reports as {a.device_id})")
            for a in assets.exclude(device_id=None).exclude(device_id="")
        ],
        "deployments": [(str(d.pk), f"{d.reference} {d.title}") for d in deployments],
        "rota_names": rota_selectors.rota_names(),
    }


def device_new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = DeviceForm(request.POST or None, **_device_choices(user))
    if submitted(
        request,
        form,
        lambda: services.register_device(user, **form.service_values()),
        lambda device: f"{device.name} registered: it may report now",
    ):
        return redirect("telemetry:devices")
    return render(request, "telemetry/device_form.html", {**NAV, "form": form, "device": None})


def _device_initial(device: TelemetryDevice) -> dict[str, Any]:
    return {
        "name": device.name,
        "kind": device.kind,
        "protects_person": device.protects_person,
        "asset": str(device.asset_id or ""),
        "deployment": str(device.deployment_id or ""),
        "rota_name": device.rota_name,
        "speed_unit": device.speed_unit,
        "expected_interval_s": device.expected_interval_s,
    }


def device_edit(request: AuthenticatedRequest, device_pk: UUID) -> HttpResponse:
    user = request.user
    device = selectors.device_for_change(user, device_pk)
    form = DeviceForm(
        request.POST or None,
        initial=_device_initial(device),
        editing=True,
        **_device_choices(user),
    )
    if submitted(
        request,
        form,
        lambda: services.update_device(
            user, device.pk, version=_version(request), **form.service_values()
        ),
        "Device saved",
        SHOWN,
    ):
        return redirect("telemetry:devices")
    return render(request, "telemetry/device_form.html", {**NAV, "form": form, "device": device})


@require_POST
def device_retire(request: AuthenticatedRequest, device_pk: UUID) -> HttpResponse:
    user = request.user
    device = selectors.device_for_change(user, device_pk)
    return _retire(
        request,
        lambda: services.retire_device(user, device.pk, version=_version(request)),
        f"{device.name} retired: its receiver refuses it from now on",
        "telemetry:device_edit",
        "telemetry:devices",
        device_pk=device.pk,
    )


def _retire(
    request: HttpRequest, retire: Callable[[], Any], done: str, back: str, after: str, **ids: Any
) -> HttpResponse:
    """Retire at the posted version and go to `after` with `done` flashed; on a stale version,
    back to the edit page `back` (with `ids`) with the conflict flashed."""
    try:
        retire()
    except services.ConflictError as conflict:
        messages.error(request, str(conflict))
        return redirect(back, **ids)
    messages.success(request, done)
    return redirect(after)


def _version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version", "0") or 0)
    except ValueError:
        return 0


# ------------------------------------------------------------------------------ zones


def geofence_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    return render(request, "telemetry/geofences.html", {**NAV, "fences": selectors.geofences(user)})


def _targets(user: User) -> list[tuple[str, str]]:
    from haven.equipment import selectors as equipment_selectors

    devices = selectors.devices_in_service(user)
    deployments = equipment_selectors.deployments_visible_to(user).order_by("reference")
    return [(f"device:{d.pk}", f"Device: {d.name} ({d.device_id})") for d in devices] + [
        (f"deployment:{d.pk}", f"Devices on deployment {d.reference} {d.title}")
        for d in deployments
    ]


def _links(user: User, form: GeofenceForm) -> dict[str, Any]:
    kind, target = form.attachment()
    if kind == "device":
        return {"device": selectors.device_for_change(user, target)}
    if kind == "deployment":
        return {"deployment_id": target}
    return {}


def _fence_values(user: User, form: GeofenceForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "kind": data["kind"],
        "area": form.area(),
        "hysteresis_m": data.get("hysteresis_m"),
        "dwell_s": data["dwell_s"],
        **_links(user, form),
    }


def _fence_page(request: HttpRequest, form: GeofenceForm, fence: Geofence | None) -> HttpResponse:
    return render(
        request,
        "telemetry/geofence_form.html",
        {**NAV, "form": form, "fence": fence, **map_views.tile_context()},
    )


def geofence_new(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = GeofenceForm(
        request.POST or None,
        targets=_targets(user),
        initial={"dwell_s": get_config().geofence_dwell_s, "shape": ZoneShape.CIRCLE},
    )
    if submitted(
        request,
        form,
        lambda: services.create_geofence(user, **_fence_values(user, form)),
        lambda fence: f"Zone {fence.name} created",
    ):
        return redirect("telemetry:geofences")
    return _fence_page(request, form, None)


def _fence_initial(fence: Geofence) -> dict[str, Any]:
    area = fence.area or {}
    initial: dict[str, Any] = {
        "name": fence.name,
        "kind": fence.kind,
        "hysteresis_m": fence.hysteresis_m,
        "dwell_s": fence.dwell_s,
        "attached_to": f"device:{fence.device_id}"
        if fence.device_id
        else (f"deployment:{fence.deployment_id}" if fence.deployment_id else ""),
    }
    if "polygon" in area:
        initial["shape"] = ZoneShape.POLYGON
        initial["points"] = "\n".join(f"{lat}, {lon}" for lat, lon in area["polygon"])
    else:
        circle = area.get("circle") or {}
        initial.update(shape=ZoneShape.CIRCLE, **circle)
    return initial


def geofence_edit(request: AuthenticatedRequest, fence_id: UUID) -> HttpResponse:
    user = request.user
    fence = selectors.get_geofence(user, fence_id)
    form = GeofenceForm(request.POST or None, targets=_targets(user), initial=_fence_initial(fence))
    if submitted(
        request,
        form,
        lambda: services.update_geofence(
            user, fence.pk, version=_version(request), **_fence_values(user, form)
        ),
        "Zone saved",
        SHOWN,
    ):
        return redirect("telemetry:geofences")
    return _fence_page(request, form, fence)


@require_POST
def geofence_retire(request: AuthenticatedRequest, fence_id: UUID) -> HttpResponse:
    user = request.user
    fence = selectors.get_geofence(user, fence_id)
    return _retire(
        request,
        lambda: services.retire_geofence(user, fence.pk, version=_version(request)),
        f"Zone {fence.name} retired",
        "telemetry:geofence_edit",
        "telemetry:geofences",
        fence_id=fence.pk,
    )
