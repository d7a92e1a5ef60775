"""OsmAnd (Traccar Client) and OwnTracks parsing: pure, no database."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.telemetry.protocols import (
    OsmAndOptions,
    Rejected,
    parse_osmand,
    parse_owntracks,
    parse_timestamp,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
OPTIONS = OsmAndOptions(now=NOW)
LONDON = ZoneInfo("Europe/London")


def osmand(query: str = "", body: bytes = b"", content_type: str = "", **kw: object):
    options = OsmAndOptions(now=NOW, **kw) if kw else OPTIONS  # type: ignore[arg-type]
    return parse_osmand(query_string=query, content_type=content_type, body=body, options=options)


def test_legacy_client_query_string():
    message = osmand(
        "id=123456&lat=52.52&lon=13.405&timestamp=1718000000&speed=10&bearing=90"
        "&altitude=34&accuracy=8&batt=87"
    )
    assert message.device_id == "123456"
    assert message.protocol == "osmand-query"
    assert (message.lat, message.lon) == (52.52, 13.405)
    assert message.fix_time == dt.datetime.fromtimestamp(1718000000, dt.UTC)
    assert message.speed_mps == pytest.approx(10 * 0.514444)  # knots by default
    assert (message.course, message.altitude, message.accuracy, message.battery) == (90, 34, 8, 87)


def test_form_post_with_sos_and_charge():
    message = osmand(
        body=b"id=123456&lat=52.52&lon=13.405&timestamp=1718000000&alarm=sos&charge=true",
        content_type="application/x-www-form-urlencoded",
    )
    assert message.protocol == "osmand-form"
    assert message.alarms == ("sos",)
    assert message.charging is True


def test_query_string_wins_and_is_never_merged_with_the_body():
    message = osmand("id=query-device&lat=1&lon=2", body=b"id=body-device&alarm=sos")
    assert message.device_id == "query-device"
    assert message.alarms == ()


def test_heartbeat_has_no_fix():
    message = osmand(body=b"id=123456&timestamp=1718000060")
    assert not message.has_fix
    assert message.fix_time == dt.datetime.fromtimestamp(1718000060, dt.UTC)


def test_unknown_keys_become_typed_attributes():
    message = osmand("id=1&ignition=true&rpm=900&driver=abc&wifi=aa-bb-cc-dd-ee-ff,-50")
    assert message.attributes["ignition"] is True
    assert message.attributes["rpm"] == 900.0
    assert message.attributes["driver"] == "abc"
    assert message.attributes["wifi"] == ["aa:bb:cc:dd:ee:ff,:50"]


def test_location_pair_and_repeated_alarms():
    message = osmand("id=1&location=51.5,-0.12&alarm=sos,tampering&alarm=panic")
    assert (message.lat, message.lon) == (51.5, -0.12)
    assert message.alarms == ("sos", "tampering", "panic")


@pytest.mark.parametrize(
    ("unit", "factor"), [("kmh", 1 / 3.6), ("mps", 1.0), ("mph", 0.44704), ("knots", 0.514444)]
)
def test_speed_units(unit, factor):
    message = osmand("id=1&speed=36", speed_unit=unit)
    assert message.speed_mps == pytest.approx(36 * factor)
    assert message.speed_raw == 36


def test_timestamp_rules():
    assert parse_timestamp("1718000000", LONDON) == dt.datetime.fromtimestamp(1718000000, dt.UTC)
    assert parse_timestamp("1718000000123", LONDON) == dt.datetime.fromtimestamp(
        1718000000.123, dt.UTC
    )
    assert parse_timestamp("2025-06-15T13:45:12.862Z", LONDON) == dt.datetime(
        2025, 6, 15, 13, 45, 12, 862000, tzinfo=dt.UTC
    )
    # Local server time (BST in June): 13:45 London is 12:45 UTC.
    assert parse_timestamp("2025-06-15 13:45:00", LONDON) == dt.datetime(
        2025, 6, 15, 12, 45, tzinfo=dt.UTC
    )
    with pytest.raises(Rejected) as refused:
        parse_timestamp("2025-06-15T13:45:12", LONDON)  # ISO without a zone
    assert refused.value.reason == "bad_timestamp"


def test_missing_timestamp_is_server_now():
    message = osmand("id=1&lat=1&lon=1")
    assert message.fix_time == NOW
    assert message.time_given is False


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("lat=1&lon=2", "missing_device_id"),
        ("id=1&lat=91&lon=0", "lat_out_of_range"),
        ("id=1&lat=0&lon=-181", "lon_out_of_range"),
        ("id=1&lat=abc&lon=0", "bad_number"),
        ("id=1&lat=nan&lon=0", "bad_number"),
        ("id=1&lat=1", "missing_coordinates"),
        ("id=1&timestamp=1893456000", "future_timestamp"),  # 2030
        ("id=1&timestamp=yesterday", "bad_timestamp"),
        ("&".join(f"k{i}=1" for i in range(300)) + "&id=1", "malformed_query"),
    ],
)
def test_bad_queries_are_refused_with_a_reason(query, reason):
    with pytest.raises(Rejected) as refused:
        osmand(query)
    assert refused.value.reason == reason
    assert refused.value.status == 400


def test_traccar_client_json_variant():
    document = {
        "location": {
            "timestamp": "2025-06-15T13:45:12.862Z",
            "coords": {
                "latitude": 37.4219983,
                "longitude": -122.084,
                "accuracy": 5,
                "speed": 3,
                "heading": -1,
                "altitude": 5,
            },
            "is_moving": False,
            "odometer": 0,
            "event": "motionchange",
            "battery": {"level": 0.5, "is_charging": True},
            "activity": {"type": "still"},
            "extras": {"alarm": "sos", "note": "x"},
        },
        "device_id": "48241179",
    }
    message = osmand(body=json.dumps(document).encode(), content_type="application/json")
    assert message.protocol == "osmand-json"
    assert message.device_id == "48241179"
    assert message.speed_mps == 3  # m/s in the JSON variant
    assert message.course is None  # heading -1 ignored
    assert message.battery == 50.0 and message.charging is True
    assert message.alarms == ("sos",)
    assert message.attributes["activity"] == "still"
    assert message.attributes["note"] == "x"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[1,2]", "json_not_object"),
        (b'"text"', "json_not_object"),
        (b"{not json", "malformed_json"),
        (b'{"location": {}}', "missing_device_id"),
        (b'{"device_id": "1", "location": []}', "json_not_object"),
        (b'{"device_id": "1", "location": {"timestamp": "1718000000"}}', "bad_timestamp"),
    ],
)
def test_bad_json_is_refused(body, reason):
    with pytest.raises(Rejected) as refused:
        osmand(body=body, content_type="application/json; charset=utf-8")
    assert refused.value.reason == reason


def test_oversized_body_is_refused():
    with pytest.raises(Rejected) as refused:
        osmand(body=b"x" * 70_000)
    assert refused.value.status == 413


@given(
    query=st.text(max_size=300),
    body=st.binary(max_size=300),
    json_type=st.booleans(),
)
def test_any_input_parses_or_is_refused_never_crashes(query, body, json_type):
    try:
        message = osmand(query, body=body, content_type="application/json" if json_type else "")
    except Rejected as refused:
        assert refused.reason
        return
    assert message.device_id
    if message.has_fix:
        assert -90 <= message.lat <= 90 and -180 <= message.lon <= 180  # type: ignore[operator]


@given(
    lat=st.floats(-90, 90, allow_nan=False),
    lon=st.floats(-180, 180, allow_nan=False),
    seconds=st.integers(0, 2_000_000_000),
)
def test_valid_fixes_round_trip(lat, lon, seconds):
    stamp = min(seconds, int(NOW.timestamp()))
    message = osmand(f"id=d&lat={lat!r}&lon={lon!r}&timestamp={stamp}")
    assert (message.lat, message.lon) == (lat, lon)
    assert message.fix_time == dt.datetime.fromtimestamp(stamp, dt.UTC)


# ------------------------------------------------------------------------------ OwnTracks

LOCATION = {
    "_type": "location",
    "lat": 48.85833,
    "lon": 2.29513,
    "tst": 1497476456,
    "acc": 5,
    "batt": 41,
    "vel": 36,
    "cog": 271,
    "alt": 167,
    "t": "u",
    "tid": "JJ",
}


def owntracks(document: object, topic: str = "owntracks/jane/iphone"):
    return parse_owntracks(topic, json.dumps(document).encode(), now=NOW)


def test_owntracks_location():
    message = owntracks(LOCATION)
    assert message is not None
    assert message.device_id == "jane/iphone"
    assert message.kind == "position"
    assert message.speed_mps == pytest.approx(10.0)  # 36 km/h
    assert message.battery == 41
    assert message.fix_time == dt.datetime.fromtimestamp(1497476456, dt.UTC)


def test_owntracks_transition_and_lwt():
    transition = owntracks(
        {
            "_type": "transition",
            "wtst": 1,
            "lat": 1,
            "lon": 2,
            "tst": 1497476400,
            "event": "leave",
            "desc": "Home",
            "t": "c",
        },
        "owntracks/jane/iphone/event",
    )
    assert transition is not None and transition.kind == "transition"
    assert transition.event == "leave"
    lwt = owntracks({"_type": "lwt", "tst": 1497476000})
    assert lwt is not None and lwt.kind == "lwt"


def test_owntracks_ignores_other_types_and_empty_payloads():
    assert owntracks({"_type": "waypoint", "tst": 1}) is None
    assert parse_owntracks("owntracks/jane/iphone", b"", now=NOW) is None


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("other/jane/iphone", json.dumps(LOCATION).encode(), "bad_topic"),
        ("owntracks/jane", json.dumps(LOCATION).encode(), "bad_topic"),
        ("owntracks/jane/iphone", b"[]", "json_not_object"),
        ("owntracks/jane/iphone", b"{", "malformed_json"),
        (
            "owntracks/jane/iphone",
            json.dumps({**LOCATION, "lat": 100}).encode(),
            "lat_out_of_range",
        ),
        (
            "owntracks/jane/iphone",
            json.dumps({**LOCATION, "tst": 4102444800}).encode(),
            "future_timestamp",
        ),
        (
            "owntracks/jane/iphone",
            json.dumps({"_type": "location", "lat": 1, "lon": 1}).encode(),
            "bad_timestamp",
        ),
    ],
)
def test_owntracks_bad_input(topic, payload, reason):
    with pytest.raises(Rejected) as refused:
        parse_owntracks(topic, payload, now=NOW)
    assert refused.value.reason == reason
