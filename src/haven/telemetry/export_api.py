"""Evidential export over the API (operations module; the device's position readers only).
A router of its own beside telemetry.api, mounted with the same module auth (haven/api.py)."""

from __future__ import annotations

import datetime as dt
from typing import Literal
from uuid import UUID

from django.http import HttpResponse
from ninja import Router, Schema

from haven.accounts.types import AuthenticatedRequest
from haven.ui.apihelpers import attempt

from . import selectors
from .export_views import export_download

router = Router(tags=["telemetry"])


class TrackExportIn(Schema):
    format: Literal["csv", "gpx", "kml", "pdf"]
    start: dt.datetime
    end: dt.datetime
    recipient: str


@router.post(
    "/telemetry/devices/{device_pk}/export",
    summary="Positions and events for a time range as CSV, GPX, KML or a PDF route; the "
    "disclosure, its recipient and the file's SHA-256 (also in X-Haven-SHA256) are ledgered",
)
def export_track(
    request: AuthenticatedRequest, device_pk: UUID, payload: TrackExportIn
) -> HttpResponse:
    export = attempt(
        lambda: selectors.export_track(
            request.user, device_pk, payload.start, payload.end, payload.format, payload.recipient
        )
    )
    return export_download(export)
