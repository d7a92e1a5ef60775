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
    assert message.attributes["wifi"] == ["aa:bb:cc:dd:ee:ff,-50"]  # the signal stays negative


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
        ("&".join(f"k{i}=1" for i in range(300)) + "&id=1", "malformed_query"),
    ],
)
def test_messages_without_a_device_or_unreadable_are_refused_with_a_reason(query, reason):
    with pytest.raises(Rejected) as refused:
        osmand(query)
    assert refused.value.reason == reason
    assert refused.value.status == 400


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("id=1&lat=91&lon=0", "lat_out_of_range"),
        ("id=1&lat=0&lon=-181", "lon_out_of_range"),
        ("id=1&lat=abc&lon=0", "bad_number"),
        ("id=1&lat=nan&lon=0", "bad_number"),
        ("id=1&lat=1", "missing_coordinates"),
        ("id=1&lat=1&lon=1&timestamp=1893456000", "future_timestamp"),  # 2030
        ("id=1&lat=1&lon=1&timestamp=yesterday", "bad_timestamp"),
    ],
)
def test_an_unusable_fix_is_dropped_and_the_message_kept_at_server_time(query, reason):
    message = osmand(query + "&alarm=sos")
    assert message.fix_problem == reason
    assert (message.lat, message.lon, message.valid) == (None, None, False)
    assert message.fix_time == NOW and message.time_given is False
    assert message.alarms == ("sos",)
    assert message.attributes["invalid"]  # what was sent is kept aside


@pytest.mark.parametrize("field", ["batt=", "speed=nan", "bearing=x", "altitude=", "accuracy=inf"])
def test_a_bad_optional_field_is_dropped_alone(field):
    message = osmand(f"id=1&lat=51.5&lon=-0.1&timestamp=1772366400&{field}&alarm=sos")
    key, _, value = field.partition("=")
    assert message.fix_problem == ""
    assert (message.lat, message.lon) == (51.5, -0.1)
    assert message.attributes["invalid"] == {key: value}
    assert message.alarms == ("sos",)


def test_charge_event_cells_and_wifi_are_kept_as_attributes():
    message = osmand(
        "id=1&charge=true&event=motionchange&ignition=false"
        "&cell=234,15,1234,5678,-70&wifi=00-11-22-33-44-55,-80&wifi=66-77-88-99-aa-bb,-91"
    )
    assert message.attributes["charge"] is True
    assert message.attributes["event"] == "motionchange"
    assert message.attributes["ignition"] is False
    assert message.attributes["cells"] == ["234,15,1234,5678,-70"]
    assert message.attributes["wifi"] == ["00:11:22:33:44:55,-80", "66:77:88:99:aa:bb,-91"]


def test_json_variant_with_a_bad_timestamp_keeps_its_alarm():
    body = (
        b'{"device_id": "1", "location": {"timestamp": "1718000000", "extras": {"alarm": "sos"}}}'
    )
    message = osmand(body=body, content_type="application/json")
    assert message.fix_problem == "bad_timestamp" and message.alarms == ("sos",)
    assert message.fix_time == NOW


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
    ],
)
def test_owntracks_bad_input(topic, payload, reason):
    with pytest.raises(Rejected) as refused:
        parse_owntracks(topic, payload, now=NOW)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"lat": 100}, "lat_out_of_range"),
        ({"tst": 4102444800}, "future_timestamp"),
        ({"tst": None}, "bad_timestamp"),
    ],
)
def test_owntracks_unusable_fix_is_dropped_not_the_message(changes, reason):
    document = {**LOCATION, **changes}
    message = parse_owntracks("owntracks/jane/iphone", json.dumps(document).encode(), now=NOW)
    assert message is not None
    assert message.fix_problem == reason and message.lat is None and message.fix_time == NOW


def test_owntracks_bad_optional_field_keeps_the_fix():
    document = {**LOCATION, "batt": "full", "BSSID": "00:11:22:33:44:55", "inregions": ["home"]}
    message = parse_owntracks("owntracks/jane/iphone", json.dumps(document).encode(), now=NOW)
    assert message is not None and message.fix_problem == ""
    assert (message.lat, message.lon) == (LOCATION["lat"], LOCATION["lon"])
    assert message.battery is None and message.attributes["invalid"] == {"batt": "full"}
    assert message.attributes["BSSID"] == "00:11:22:33:44:55"
    assert message.attributes["inregions"] == ["home"]
