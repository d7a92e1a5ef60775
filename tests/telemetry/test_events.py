"""Event classification rules (pure)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from haven.telemetry import events as ev
from haven.telemetry.config import TelemetryConfig

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
CONFIG = TelemetryConfig()


def test_sos_panic_tamper_are_critical_alerts():
    specs = ev.alarm_events(("sos", "panic", "tampering", "vibration"))
    assert [(s.type, s.key, s.severity, s.alert) for s in specs] == [
        ("alarm", "sos", "critical", True),
        ("alarm", "panic", "critical", True),
        ("alarm", "tampering", "critical", True),
        ("alarm", "vibration", "warning", True),
    ]


def test_same_alarm_twice_in_one_message_is_one_event_low_battery_alarm_maps():
    specs = ev.alarm_events(("sos", "sos", "lowBattery"))
    assert [(s.type, s.key) for s in specs] == [("alarm", "sos"), ("low_battery", "alarm")]


@given(st.lists(st.sampled_from(["sos", "panic", "tamper", "x"]), max_size=10))
def test_every_distinct_alarm_alerts(values):
    specs = ev.alarm_events(tuple(values))
    assert {s.key for s in specs} == set(values)
    assert all(s.alert for s in specs)


def test_late_means_old_on_arrival_or_out_of_order():
    old = NOW - dt.timedelta(hours=1)
    assert ev.is_late(old, NOW, None, 900)
    assert not ev.is_late(NOW - dt.timedelta(seconds=30), NOW, None, 900)
    assert ev.is_late(NOW - dt.timedelta(seconds=30), NOW, NOW, 900)


def test_low_battery_once_per_crossing():
    low, spec = ev.battery_event(50, False, CONFIG)
    assert (low, spec) == (False, None)
    low, spec = ev.battery_event(15, False, CONFIG)
    assert low and spec is not None and spec.type == "low_battery"
    assert ev.battery_event(10, True, CONFIG) == (True, None)
    assert ev.battery_event(22, True, CONFIG) == (True, None)  # recovery needs a margin
    assert ev.battery_event(30, True, CONFIG) == (False, None)


def test_geofence_alert_rules():
    assert ev.geofence_event("f", "safe", "exit").alert
    assert not ev.geofence_event("f", "safe", "enter").alert
    assert ev.geofence_event("f", "exclusion", "enter").alert
    assert not ev.geofence_event("f", "exclusion", "exit").alert


def test_overdue():
    assert ev.is_overdue(NOW - dt.timedelta(seconds=601), 600, NOW)
    assert not ev.is_overdue(NOW - dt.timedelta(seconds=599), 600, NOW)
    assert not ev.is_overdue(None, 600, NOW)
