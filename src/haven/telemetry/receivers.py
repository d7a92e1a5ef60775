"""Protocol receivers, independent of the web framework: bytes in, (status, headers, body) out.

Used by the Django views (/api/telemetry/osmand, /api/telemetry/owntracks), by the standalone
`haven telemetry serve-osmand` server on its own port, by the MQTT listener and by the bench.
Bad input never raises: it answers 4xx (or, for MQTT, drops) and counts the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from . import services
from .config import get_config
from .protocols import (
    OsmAndOptions,
    Rejected,
    owntracks_device_id,
    parse_osmand,
    parse_owntracks,
)

log = logging.getLogger("haven.telemetry")


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/plain"
    reason: str = ""  # the counted reason when refused


def _refuse(rejection: Rejected, status: int | None = None) -> Reply:
    services.REJECTED.note(rejection)
    return Reply(status or rejection.status, b"", reason=rejection.reason)


def receive_osmand(
    *, query_string: str, content_type: str, body: bytes, now: dt.datetime | None = None
) -> Reply:
    """OsmAnd / Traccar Client, any method and path: 200 with an empty body when stored (or a
    resend), 400 for malformed input or an unknown device (404 for the JSON variant)."""
    config = get_config()
    now = now or timezone.now()
    options = OsmAndOptions(
        now=now,
        speed_unit=config.default_speed_unit,
        server_zone=ZoneInfo(settings.TIME_ZONE),
        future_tolerance_s=config.future_tolerance_s,
    )
    try:
        message = parse_osmand(
            query_string=query_string, content_type=content_type, body=body, options=options
        )
    except Rejected as rejection:
        return _refuse(rejection)
    try:
        services.ingest(message, received_at=now, config=config)
    except Rejected as rejection:
        if rejection.reason == "unknown_device":
            return _refuse(rejection, 404 if message.protocol == "osmand-json" else 400)
        return _refuse(rejection)
    return Reply(200)


def receive_owntracks_http(
    *,
    body: bytes,
    user: str = "",
    device: str = "",
    now: dt.datetime | None = None,
) -> Reply:
    """OwnTracks HTTP mode: POST of the MQTT JSON; identity from X-Limit-U/-D, ?u=&d=, or the
    payload's topic. Success is 200 with `[]` (the app retries anything else)."""
    config = get_config()
    now = now or timezone.now()
    ok = Reply(200, b"[]", "application/json")
    if not body.strip():
        return ok
    topic = f"owntracks/{user}/{device}" if user and device else ""
    if not topic:
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _refuse(Rejected("malformed_json"))
        if isinstance(document, dict) and isinstance(document.get("topic"), str):
            topic = document["topic"]
        else:
            return _refuse(Rejected("missing_device_id"))
    return _owntracks(topic, body, now, config.future_tolerance_s, ok)


def receive_mqtt(topic: str, payload: bytes, now: dt.datetime | None = None) -> Reply:
    """One MQTT message (OwnTracks topics). The reply is for counting only."""
    config = get_config()
    now = now or timezone.now()
    return _owntracks(topic, payload, now, config.future_tolerance_s, Reply(200))


def _owntracks(topic: str, body: bytes, now: dt.datetime, tolerance: int, ok: Reply) -> Reply:
    try:
        message = parse_owntracks(topic, body, now=now, future_tolerance_s=tolerance)
    except Rejected as rejection:
        return _refuse(rejection)
    if message is None:
        return ok
    try:
        services.ingest(message, received_at=now)
    except Rejected as rejection:
        return _refuse(rejection, 404 if rejection.reason == "unknown_device" else None)
    return ok


def safely(action: object) -> Reply:
    """Run a receiver, turning a database outage into 503 (the client retries) and logging it."""
    try:
        return action()  # type: ignore[operator,no-any-return]
    except DatabaseError:
        log.exception("telemetry: database error while storing a message")
        return Reply(503, b"", reason="database_error")


__all__ = [
    "Reply",
    "owntracks_device_id",
    "receive_mqtt",
    "receive_osmand",
    "receive_owntracks_http",
    "safely",
]
