"""Protocol receivers, independent of the web framework: bytes in, (status, headers, body) out.

Used by the Django views (/api/telemetry/osmand, /api/telemetry/owntracks), by the standalone
`haven telemetry serve-osmand` server on its own port, by the MQTT listener and by the bench.
Bad input never raises: it answers 4xx (or, for MQTT, drops) and counts the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from . import services
from .batching import StoreFailed
from .config import get_config
from .protocols import (
    Message,
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


# Stores one parsed message and answers its outcome: store_now (own transaction) or a
# BatchWriter's store (group commit). May raise DatabaseError: safely() turns it into 503.
Store = Callable[[Message, dt.datetime], services.Outcome]


def store_now(message: Message, received_at: dt.datetime) -> services.Outcome:
    """Store one message in its own transaction (the Django views: no writer thread there)."""
    return services.ingest_batch([message], received_at=received_at)[0]


def receive_osmand(
    *,
    query_string: str,
    content_type: str,
    body: bytes,
    now: dt.datetime | None = None,
    store: Store = store_now,
) -> Reply:
    """OsmAnd / Traccar Client, any method and path: 200 with an empty body when stored (or a
    resend), 400 for malformed input or an unknown device (404 for the JSON variant)."""
    now = now or timezone.now()
    parsed = parse_osmand_request(
        query_string=query_string, content_type=content_type, body=body, now=now
    )
    if isinstance(parsed, Reply):
        return parsed
    return osmand_reply(parsed, store(parsed, now))


def parse_osmand_request(
    *, query_string: str, content_type: str, body: bytes, now: dt.datetime
) -> Message | Reply:
    """The OsmAnd message to store, or the reply refusing it (counted)."""
    config = get_config()
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
    _count_dropped_fix(message)
    return message


def _count_dropped_fix(message: Message) -> None:
    """A message whose fix was dropped is still stored (and answered 200), but counted."""
    if message.fix_problem:
        services.REJECTED.note(Rejected(message.fix_problem))


def osmand_reply(message: Message, outcome: services.Outcome) -> Reply:
    if isinstance(outcome, Rejected):
        if outcome.reason == "unknown_device":
            return _refuse(outcome, 404 if message.protocol == "osmand-json" else 400)
        return _refuse(outcome)
    return Reply(200)


def receive_owntracks_http(
    *,
    body: bytes,
    user: str = "",
    device: str = "",
    now: dt.datetime | None = None,
    store: Store = store_now,
) -> Reply:
    """OwnTracks HTTP mode: POST of the MQTT JSON; identity from X-Limit-U/-D, ?u=&d=, or the
    payload's topic. Success is 200 with `[]` (the app retries anything else)."""
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
    parsed = parse_mqtt(topic, body, now, ok)
    if isinstance(parsed, Reply):
        return parsed
    return owntracks_reply(store(parsed, now), ok)


def receive_mqtt(
    topic: str, payload: bytes, now: dt.datetime | None = None, store: Store = store_now
) -> Reply:
    """One MQTT message (OwnTracks topics). The reply is for counting only."""
    now = now or timezone.now()
    parsed = parse_mqtt(topic, payload, now)
    if isinstance(parsed, Reply):
        return parsed
    return owntracks_reply(store(parsed, now), Reply(200))


def parse_mqtt(
    topic: str, payload: bytes, now: dt.datetime, ok: Reply | None = None
) -> Message | Reply:
    """The OwnTracks message to store, or the final reply when there is none: refused (and
    counted), or a type we ignore (``ok``)."""
    try:
        message = parse_owntracks(
            topic, payload, now=now, future_tolerance_s=get_config().future_tolerance_s
        )
    except Rejected as rejection:
        return _refuse(rejection)
    if message is None:
        return ok or Reply(200)
    _count_dropped_fix(message)
    return message


def owntracks_reply(outcome: services.Outcome, ok: Reply) -> Reply:
    if isinstance(outcome, Rejected):
        return _refuse(outcome, 404 if outcome.reason == "unknown_device" else None)
    return ok


def safely(action: object) -> Reply:
    """Run a receiver, turning a database outage into 503 (the client retries) and logging it."""
    try:
        return action()  # type: ignore[operator,no-any-return]
    except StoreFailed:
        return Reply(503, b"", reason="database_error")  # the batch writer logged it once
    except DatabaseError:
        log.exception("telemetry: database error while storing a message")
        return Reply(503, b"", reason="database_error")


__all__ = [
    "Reply",
    "Store",
    "osmand_reply",
    "owntracks_reply",
    "parse_mqtt",
    "parse_osmand_request",
    "owntracks_device_id",
    "receive_mqtt",
    "receive_osmand",
    "receive_owntracks_http",
    "safely",
    "store_now",
]
