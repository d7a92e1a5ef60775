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
    "malformed_packet",  # Teltonika: framing, lengths or counts that do not add up
    "bad_crc",  # Teltonika: the packet's CRC-16 does not match (not acknowledged: resent)
    "unsupported_codec",
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
    # Why the fix (position and time) was not usable, if it was not: one of REASONS. Such a
    # message is kept without a position, at server time; its alarms still alert.
    fix_problem: str = ""
    # Fields that failed validation, as sent (stored under attributes["invalid"]).
    invalid: dict[str, str] = field(default_factory=dict)
    # The sender waits for its acknowledgement and holds the rest back (MQTT QoS 1): never
    # refused for flooding, since a refusal would be acknowledged and the message lost.
    back_pressure: bool = False

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


def _lenient(message: Message, key: str, value: Any) -> float | None:
    """An optional number: None when absent; when unusable, None too, and kept aside as sent."""
    if value is None:
        return None
    try:
        return _number(key, value)
    except Rejected:
        message.invalid[key[:60]] = str(value)[:80]
        return None


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
        try:
            _osmand_field(message, key, value, factor, options.server_zone, alarms, cells, wifis)
        except Rejected as rejection:
            # Never refuse a whole message for one field: an alarm in it must still alert, and
            # Traccar Client would resend a refused message forever. Keep what was sent aside.
            message.invalid[key[:60]] = value[:80]
            if key in FIX_FIELDS and not message.fix_problem:
                message.fix_problem = rejection.reason
    if cells:
        message.attributes["cells"] = cells
    if wifis:
        message.attributes["wifi"] = wifis
    message.alarms = tuple(alarms)
    _finish(message, options)
    return message


# Fields whose failure makes the whole fix unusable (the others are dropped on their own).
FIX_FIELDS = frozenset({"timestamp", "lat", "lon", "location"})

# Parameters that are one number, and the field of the message each sets.
OSMAND_NUMBERS = {
    "lat": "lat",
    "lon": "lon",
    "bearing": "course",
    "heading": "course",
    "altitude": "altitude",
    "accuracy": "accuracy",
    "batt": "battery",
}


def _osmand_field(
    message: Message,
    key: str,
    value: str,
    factor: float,
    zone: ZoneInfo,
    alarms: list[str],
    cells: list[str],
    wifis: list[str],
) -> None:
    """One query/form parameter into `message`; raises Rejected for a value it cannot use."""
    if key in OSMAND_NUMBERS:
        setattr(message, OSMAND_NUMBERS[key], _number(key, value))
    elif key == "timestamp":
        message.fix_time = parse_timestamp(value, zone)
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
    elif key == "hdop":
        message.attributes["hdop"] = _number(key, value)
    elif key == "charge":
        message.charging = _boolean(value)
    elif key == "alarm":
        alarms += [a.strip() for a in value.split(",") if a.strip()]
    elif key == "event":
        message.event = value[:80]
    elif key == "cell":
        cells.append(value)
    elif key == "wifi":
        # Only the MAC's dashes become colons (Traccar): the signal "-80" stays negative.
        mac, comma, rest = value.partition(",")
        wifis.append(mac.replace("-", ":") + comma + rest)
    elif key == "notificationToken":
        return  # push tokens are not stored: we never push to devices
    else:
        typed = _typed(value)
        message.attributes[key[:60]] = typed[:200] if isinstance(typed, str) else typed


def _finish(message: Message, options: OsmAndOptions) -> None:
    """Check the fix as a whole. An unusable one (coordinates out of range or half missing, a
    time too far ahead) is dropped, not refused: the message is kept at server time without a
    position, marked with why (fix_problem), and what was sent is kept aside (invalid)."""
    problem = message.fix_problem
    if not problem and (message.lat is None) != (message.lon is None):
        problem = "missing_coordinates"
    if not problem and message.lat is not None and message.lon is not None:
        try:
            check_coordinates(message.lat, message.lon)
        except Rejected as rejection:
            problem = rejection.reason
    if message.fix_time is None:
        message.fix_time = options.now
        message.time_given = False
    elif not problem:
        try:
            check_time(message.fix_time, options.now, options.future_tolerance_s)
        except Rejected as rejection:
            problem = rejection.reason
    if problem:
        for name, value in (("lat", message.lat), ("lon", message.lon)):
            if value is not None:
                message.invalid.setdefault(name, str(value))
        if message.time_given:
            message.invalid.setdefault("timestamp", message.fix_time.isoformat())
        message.fix_problem = problem
        message.lat = message.lon = None
        message.fix_time, message.time_given, message.valid = options.now, False, False
    if message.battery is not None and not 0 <= message.battery <= 100:
        message.attributes["batteryRaw"] = message.battery
        message.battery = None
    if message.charging is not None:
        message.attributes["charge"] = message.charging
    if message.event:
        message.attributes["event"] = message.event
    if message.invalid:
        message.attributes["invalid"] = dict(message.invalid)


def finish_message(message: Message, options: OsmAndOptions) -> None:
    """The checks every protocol's message passes last (binary decoders call this too)."""
    _finish(message, options)


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
        if isinstance(stamp, str) and "T" in stamp:
            try:
                message.fix_time = parse_timestamp(stamp, options.server_zone)
            except Rejected as rejection:
                message.fix_problem = rejection.reason
        else:
            message.fix_problem = "bad_timestamp"
        if message.fix_problem:
            message.invalid["timestamp"] = str(stamp)[:80]
    coords = location.get("coords")
    if isinstance(coords, dict):
        message.lat = _lenient(message, "latitude", coords.get("latitude"))
        message.lon = _lenient(message, "longitude", coords.get("longitude"))
        if message.lat is None or message.lon is None:
            message.fix_problem = message.fix_problem or "bad_number"
        message.accuracy = _lenient(message, "accuracy", coords.get("accuracy"))
        message.altitude = _lenient(message, "altitude", coords.get("altitude"))
        speed = _lenient(message, "speed", coords.get("speed"))  # m/s in the JSON variant
        message.speed_mps = speed if speed is not None and speed >= 0 else None
        heading = _lenient(message, "heading", coords.get("heading"))
        message.course = heading if heading is not None and heading >= 0 else None
    elif coords is not None:
        message.invalid["coords"] = str(coords)[:80]
        message.fix_problem = "bad_number"
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


# OwnTracks keys read into a Message field (everything else becomes an attribute).
OWNTRACKS_READ = frozenset(
    {"_type", "tst", "wtst", "lat", "lon", "acc", "alt", "vel", "cog", "batt", "bs", "t"}
    | {"event", "alarm", "topic"}
)


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
    stamp = _lenient(message, "tst", tst)
    if stamp is not None and stamp >= 0:
        try:  # OwnTracks tst is always epoch seconds
            message.fix_time = dt.datetime.fromtimestamp(stamp, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            message.invalid["tst"] = str(tst)[:80]
    elif stamp is not None:
        message.invalid["tst"] = str(tst)[:80]
    if message.fix_time is None and kind != "lwt":
        message.fix_problem = "bad_timestamp"  # required: the fix cannot be placed in time
    if kind in ("location", "transition"):
        message.lat = _lenient(message, "lat", document.get("lat"))
        message.lon = _lenient(message, "lon", document.get("lon"))
        if kind == "location" and (message.lat is None or message.lon is None):
            message.fix_problem = message.fix_problem or "missing_coordinates"
        message.accuracy = _lenient(message, "acc", document.get("acc"))
    if kind == "location":
        message.altitude = _lenient(message, "alt", document.get("alt"))
        velocity = _lenient(message, "vel", document.get("vel"))
        message.speed_mps = velocity / 3.6 if velocity is not None else None  # km/h
        message.course = _lenient(message, "cog", document.get("cog"))
        message.battery = _lenient(message, "batt", document.get("batt"))
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
    for key, value in document.items():  # anything else is kept as an attribute (Traccar)
        if key not in OWNTRACKS_READ and isinstance(value, str | int | float | bool | list):
            message.attributes.setdefault(
                str(key)[:60], value[:200] if isinstance(value, str) else value
            )
    alarm = document.get("alarm")
    if isinstance(alarm, str):
        message.alarms = tuple(a.strip() for a in alarm.split(",") if a.strip())
    options = OsmAndOptions(now=now, future_tolerance_s=future_tolerance_s)
    _finish(message, options)
    return message
