"""Pure parsers for the OsmAnd (Traccar Client) HTTP protocol and OwnTracks JSON.

No Django models here: a parser turns bytes into a :class:`Message` or raises :class:`Rejected`
with a reason code that the receiver counts. Units are normalised to SI at the edge (speed m/s,
distances metres, times aware UTC datetimes). See ../shared/reference/tracking-protocols.md.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

MAX_BODY_BYTES = 64 * 1024
MAX_FIELDS = 200
EPOCH_SECONDS_LIMIT = 2147483647  # Traccar: numeric timestamps below this are seconds, else ms

SPEED_TO_MPS = {"knots": 0.514444, "kmh": 1 / 3.6, "mps": 1.0, "mph": 0.44704}

# Reasons a message is refused; the receivers count them (RejectCounter).
REASONS = (
    "body_too_large",
    "malformed_query",
    "malformed_json",
    "json_not_object",
    "missing_device_id",
    "bad_timestamp",
    "future_timestamp",
    "bad_number",
    "lat_out_of_range",
    "lon_out_of_range",
    "missing_coordinates",
    "bad_topic",
    "unknown_device",
    "flood",
)


class Rejected(ValueError):
    """A message we refuse; ``reason`` is one of REASONS, ``status`` the HTTP answer."""

    def __init__(self, reason: str, detail: str = "", status: int = 400) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.status = status


class RejectCounter(Counter[str]):
    """Counts of refused messages by reason (thread-safe enough for CPython counters)."""

    def note(self, rejection: Rejected) -> None:
        self[rejection.reason] += 1


@dataclass
class Message:
    """One report from a device, in SI units."""

    device_id: str
    protocol: str  # "osmand-query" | "osmand-form" | "osmand-json" | "owntracks"
    kind: str = "position"  # "position" (may be a heartbeat: no lat/lon) | "transition" | "lwt"
    fix_time: dt.datetime | None = None
    time_given: bool = True  # False when the server clock stood in for a missing timestamp
    lat: float | None = None
    lon: float | None = None
    valid: bool = True
    speed_mps: float | None = None
    speed_raw: float | None = None  # OsmAnd query/form: the number as sent (unit per device)
    course: float | None = None
    altitude: float | None = None
    accuracy: float | None = None
    battery: float | None = None  # percent
    charging: bool | None = None
    alarms: tuple[str, ...] = ()
    event: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def has_fix(self) -> bool:
        return self.lat is not None and self.lon is not None


# ------------------------------------------------------------------------------ helpers


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise Rejected("bad_number", key)
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise Rejected("bad_number", key) from error
    if not math.isfinite(number):
        raise Rejected("bad_number", key)
    return number


def _typed(value: str) -> Any:
    """Traccar's rule for unknown keys: a number if it parses, true/false, else the string."""
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        number = float(value)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes")


def check_coordinates(lat: float, lon: float) -> None:
    if not -90.0 <= lat <= 90.0:
        raise Rejected("lat_out_of_range", str(lat))
    if not -180.0 <= lon <= 180.0:
        raise Rejected("lon_out_of_range", str(lon))


def check_time(fix: dt.datetime, now: dt.datetime, future_tolerance_s: int) -> None:
    if fix > now + dt.timedelta(seconds=future_tolerance_s):
        raise Rejected("future_timestamp", fix.isoformat())


def _epoch(number: float) -> dt.datetime:
    seconds = number if number < EPOCH_SECONDS_LIMIT else number / 1000.0
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise Rejected("bad_timestamp", str(number)) from error


def parse_timestamp(value: str, server_zone: ZoneInfo) -> dt.datetime:
    """Traccar's OsmAnd rules: epoch s / ms, ISO-8601 zoned (with 'T'), or local 'Y-m-d H:M:S'."""
    text = value.strip()
    if not text:
        raise Rejected("bad_timestamp", "empty")
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if not math.isfinite(number) or number < 0:
            raise Rejected("bad_timestamp", text)
        return _epoch(number)
    if "T" in text:
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as error:
            raise Rejected("bad_timestamp", text) from error
        if parsed.tzinfo is None:
            raise Rejected("bad_timestamp", "ISO timestamps need a zone (Z or an offset)")
        return parsed.astimezone(dt.UTC)
    try:
        local = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError as error:
        raise Rejected("bad_timestamp", text) from error
    return local.replace(tzinfo=server_zone).astimezone(dt.UTC)


# ------------------------------------------------------------------------------ OsmAnd


@dataclass(frozen=True)
class OsmAndOptions:
    now: dt.datetime
    speed_unit: str = "knots"
    server_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    future_tolerance_s: int = 600


def parse_osmand(
    *, query_string: str, content_type: str, body: bytes, options: OsmAndOptions
) -> Message:
    """Dispatch as Traccar does: JSON by content type, else the query string, else the form body
    (the two are never merged)."""
    if len(body) > MAX_BODY_BYTES:
        raise Rejected("body_too_large", str(len(body)), status=413)
    if content_type.lower().startswith("application/json"):
        return parse_osmand_json(body, options)
    if query_string:
        return parse_osmand_pairs(_pairs(query_string), "osmand-query", options)
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError as error:
        raise Rejected("malformed_query", "form body is not US-ASCII") from error
    return parse_osmand_pairs(_pairs(text), "osmand-form", options)


def _pairs(text: str) -> list[tuple[str, str]]:
    """parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS), with a fast path for
    what trackers send (nothing escaped): parse_qsl costs ~15 µs of a ~40 µs parse."""
    if "%" in text or "+" in text:
        try:
            return parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except ValueError as error:
            raise Rejected("malformed_query", str(error)) from error
    if text.count("&") >= MAX_FIELDS:  # parse_qsl's own limit: 1 + the number of separators
        raise Rejected("malformed_query", "Max number of fields exceeded")
    pairs = []
    for part in text.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((key, value))
    return pairs


def parse_osmand_pairs(
    pairs: list[tuple[str, str]], protocol: str, options: OsmAndOptions
) -> Message:
    device_id = ""
    for key, value in pairs:
        if key in ("id", "deviceid") and value.strip():
            device_id = value.strip()
            break
    if not device_id:
        raise Rejected("missing_device_id")
    message = Message(device_id=device_id[:80], protocol=protocol)
    factor = SPEED_TO_MPS.get(options.speed_unit, SPEED_TO_MPS["knots"])
    alarms: list[str] = []
    cells: list[str] = []
    wifis: list[str] = []
    for key, value in pairs:
        if key in ("id", "deviceid"):
            continue
        if key == "timestamp":
            message.fix_time = parse_timestamp(value, options.server_zone)
        elif key == "lat":
            message.lat = _number(key, value)
        elif key == "lon":
            message.lon = _number(key, value)
        elif key == "location":
            parts = value.split(",")
            if len(parts) != 2:
                raise Rejected("bad_number", "location")
            message.lat, message.lon = _number("lat", parts[0]), _number("lon", parts[1])
        elif key == "valid":
            message.valid = _boolean(value)
        elif key == "speed":
            message.speed_raw = _number(key, value)
            message.speed_mps = message.speed_raw * factor
        elif key in ("bearing", "heading"):
            message.course = _number(key, value)
        elif key == "altitude":
            message.altitude = _number(key, value)
        elif key == "accuracy":
            message.accuracy = _number(key, value)
        elif key == "hdop":
            message.attributes["hdop"] = _number(key, value)
        elif key == "batt":
            message.battery = _number(key, value)
        elif key == "charge":
            message.charging = _boolean(value)
        elif key == "alarm":
            alarms += [a.strip() for a in value.split(",") if a.strip()]
        elif key == "event":
            message.event = value[:80]
        elif key == "cell":
            cells.append(value)
        elif key == "wifi":
            wifis.append(value.replace("-", ":"))
        elif key == "notificationToken":
            continue  # push tokens are not stored: we never push to devices
        else:
            typed = _typed(value)
            message.attributes[key[:60]] = typed[:200] if isinstance(typed, str) else typed
    if cells:
        message.attributes["cells"] = cells
    if wifis:
        message.attributes["wifi"] = wifis
    message.alarms = tuple(alarms)
    _finish(message, options)
    return message


def _finish(message: Message, options: OsmAndOptions) -> None:
    if (message.lat is None) != (message.lon is None):
        raise Rejected("missing_coordinates", "lat and lon come together")
    if message.lat is not None and message.lon is not None:
        check_coordinates(message.lat, message.lon)
    if message.fix_time is None:
        message.fix_time = options.now
        message.time_given = False
    check_time(message.fix_time, options.now, options.future_tolerance_s)
    if message.battery is not None and not 0 <= message.battery <= 100:
        message.attributes["batteryRaw"] = message.battery
        message.battery = None


def _load_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise Rejected("malformed_json", str(error)[:80]) from error
    if not isinstance(document, dict):
        raise Rejected("json_not_object", type(document).__name__)
    return document


def parse_osmand_json(body: bytes, options: OsmAndOptions) -> Message:
    """Traccar Client 9.x JSON: {"location": {...}, "device_id": "..."}."""
    document = _load_object(body)
    device_id = document.get("device_id")
    if not isinstance(device_id, str | int) or isinstance(device_id, bool) or not str(device_id):
        raise Rejected("missing_device_id")
    message = Message(device_id=str(device_id).strip()[:80], protocol="osmand-json")
    location = document.get("location")
    if location is None:
        location = {}
    if not isinstance(location, dict):
        raise Rejected("json_not_object", "location")
    stamp = location.get("timestamp")
    if stamp is not None:
        if not isinstance(stamp, str) or "T" not in stamp:
            raise Rejected("bad_timestamp", "location.timestamp must be ISO-8601 with a zone")
        message.fix_time = parse_timestamp(stamp, options.server_zone)
    coords = location.get("coords")
    if coords is not None:
        if not isinstance(coords, dict):
            raise Rejected("json_not_object", "coords")
        message.lat = _number("latitude", coords.get("latitude"))
        message.lon = _number("longitude", coords.get("longitude"))
        if coords.get("accuracy") is not None:
            message.accuracy = _number("accuracy", coords["accuracy"])
        if coords.get("altitude") is not None:
            message.altitude = _number("altitude", coords["altitude"])
        if coords.get("speed") is not None:
            speed = _number("speed", coords["speed"])  # m/s in the JSON variant
            message.speed_mps = speed if speed >= 0 else None
        if coords.get("heading") is not None:
            heading = _number("heading", coords["heading"])
            message.course = heading if heading >= 0 else None
    if isinstance(location.get("event"), str):
        message.event = location["event"][:80]
    if "is_moving" in location:
        message.attributes["motion"] = bool(location["is_moving"])
    if isinstance(location.get("odometer"), int | float):
        message.attributes["odometer"] = location["odometer"]
    if "mock" in location:
        message.attributes["mock"] = bool(location["mock"])
    activity = location.get("activity")
    if isinstance(activity, dict) and isinstance(activity.get("type"), str):
        message.attributes["activity"] = activity["type"][:40]
    battery = location.get("battery")
    if isinstance(battery, dict):
        level = battery.get("level")
        if isinstance(level, int | float) and not isinstance(level, bool) and 0 <= level <= 1:
            message.battery = round(float(level) * 100, 1)
        if battery.get("is_charging") is True:
            message.charging = True
    alarms: list[str] = []
    extras = location.get("extras")
    for source in (location, extras if isinstance(extras, dict) else {}):
        alarm = source.get("alarm")
        if isinstance(alarm, str):
            alarms += [a.strip() for a in alarm.split(",") if a.strip()]
    if isinstance(extras, dict):
        for key, value in extras.items():
            if key != "alarm" and isinstance(value, str | int | float | bool):
                message.attributes[str(key)[:60]] = value
    message.alarms = tuple(alarms)
    _finish(message, options)
    return message


# ------------------------------------------------------------------------------ OwnTracks


def owntracks_identity(topic: str) -> tuple[str, str]:
    """owntracks/<user>/<device>[/event|...] → (user, device)."""
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != "owntracks" or not parts[1] or not parts[2]:
        raise Rejected("bad_topic", topic[:120])
    return parts[1], parts[2]


def owntracks_device_id(user: str, device: str) -> str:
    """The device id an OwnTracks phone is registered under: "<user>/<device>"."""
    return f"{user}/{device}"[:80]


def parse_owntracks(
    topic: str, payload: bytes, *, now: dt.datetime, future_tolerance_s: int = 600
) -> Message | None:
    """An OwnTracks message, or None for types we ignore (waypoints, cards, cmd, empty)."""
    if not payload.strip():
        return None  # zero-length payloads are ignored (OwnTracks booklet)
    if len(payload) > MAX_BODY_BYTES:
        raise Rejected("body_too_large", str(len(payload)), status=413)
    user, device = owntracks_identity(topic)
    document = _load_object(payload)
    kind = document.get("_type")
    if kind not in ("location", "transition", "lwt"):
        return None
    message = Message(
        device_id=owntracks_device_id(user, device),
        protocol="owntracks",
        kind="position" if kind == "location" else kind,
    )
    tst = document.get("tst")
    if kind == "transition" and document.get("wtst") is not None and tst is None:
        tst = document.get("wtst")
    if tst is not None:
        stamp = _number("tst", tst)
        if stamp < 0:
            raise Rejected("bad_timestamp", str(tst))
        try:  # OwnTracks tst is always epoch seconds
            message.fix_time = dt.datetime.fromtimestamp(stamp, tz=dt.UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise Rejected("bad_timestamp", str(tst)) from error
    elif kind != "lwt":
        raise Rejected("bad_timestamp", "tst is required")
    if kind in ("location", "transition"):
        if document.get("lat") is None or document.get("lon") is None:
            if kind == "location":
                raise Rejected("missing_coordinates")
        else:
            message.lat = _number("lat", document["lat"])
            message.lon = _number("lon", document["lon"])
        if document.get("acc") is not None:
            message.accuracy = _number("acc", document["acc"])
    if kind == "location":
        if document.get("alt") is not None:
            message.altitude = _number("alt", document["alt"])
        if document.get("vel") is not None:
            message.speed_mps = _number("vel", document["vel"]) / 3.6  # km/h
        if document.get("cog") is not None:
            message.course = _number("cog", document["cog"])
        if document.get("batt") is not None:
            message.battery = _number("batt", document["batt"])
        if document.get("bs") is not None:
            message.charging = document.get("bs") in (2, 3)
        trigger = document.get("t")
        if isinstance(trigger, str):
            message.event = trigger[:8]
    if kind == "transition":
        message.event = str(document.get("event", ""))[:20]
        for key in ("desc", "rid", "t"):
            if isinstance(document.get(key), str | int):
                message.attributes[key] = document[key]
    for key in ("tid", "conn", "SSID", "_id"):
        if isinstance(document.get(key), str):
            message.attributes[key] = document[key][:80]
    alarm = document.get("alarm")
    if isinstance(alarm, str):
        message.alarms = tuple(a.strip() for a in alarm.split(",") if a.strip())
    options = OsmAndOptions(now=now, future_tolerance_s=future_tolerance_s)
    _finish(message, options)
    return message
