"""Telemetry thresholds: versioned operational configuration, each with where it comes from.

Override any value with ``settings.HAVEN_TELEMETRY = {"name": value}``; the version below names the
defaults in force. These are operational choices, not statutory limits: the "source" says why.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Any

from django.conf import settings

CONFIG_VERSION = "telemetry-2026.1"


@dataclass(frozen=True)
class TelemetryConfig:
    # OsmAnd speed unit when the device does not say (Traccar: knots unless osmand.speed is set).
    default_speed_unit: str = "knots"
    # A fix stamped more than this ahead of the server clock is refused (clock fault / attack).
    future_tolerance_s: int = 600
    # A message whose fix is older than this when it arrives is flagged "late" (Traccar does not
    # notify events older than 15 minutes: notificator.timeThreshold); we flag, never drop.
    late_after_s: int = 900
    # Geofences: fixes less accurate than this (metres) never change inside/outside state.
    geofence_min_accuracy_m: float = 100.0
    # Geofences: the error circle plus this margin must clear the boundary to change state.
    geofence_hysteresis_m: float = 15.0
    # Geofences: a new zone's dwell time unless set (seconds across the edge before an entry or
    # exit counts). 30 s outlasts the few-fix excursions that ±40 m GPS drift makes at a 5-10 s
    # reporting interval, and still alerts within a minute. Per zone: Geofence.dwell_s.
    geofence_dwell_s: int = 30
    # Device offline when no report for this long (per-device value overrides; Traccar 600 s).
    offline_after_s: int = 600
    # Low battery event when the level falls below this percentage.
    low_battery_percent: float = 20.0
    # An alert not acknowledged within this time escalates to the next person in the chain.
    escalate_after_s: int = 300
    # How often the scheduler looks for alerts due to escalate: a step pages at most this late.
    escalation_check_every_s: int = 15
    # Positions older than this are deleted by `haven telemetry purge` (Traccar: 90 d).
    retention_days: int = 90
    # Flood control: at most this many messages per device per minute are stored; alarms always.
    flood_per_device_per_minute: int = 120
    # Vehicle trackers: external power below this (volts) is a cut supply. A 12 V or 24 V vehicle
    # supply never sits this low while the tracker is wired to it.
    power_cut_below_v: float = 6.0


ALWAYS_ALERT_ALARMS = frozenset({"sos", "panic", "tamper", "tampering", "removing", "fallDown"})
SOURCES = {
    "default_speed_unit": "Traccar OsmAndProtocolDecoder (knots; osmand.speed key)",
    "late_after_s": "Traccar notificator.timeThreshold 15 min (we flag late, never drop)",
    "offline_after_s": "Traccar status.timeout 600 s (per device here)",
    "retention_days": "Traccar database.positionPeriod 90 d",
    "power_cut_below_v": "operational choice: half a 12 V vehicle supply (Teltonika IO 66, mV)",
}


def get_config() -> TelemetryConfig:
    """The configuration in force. Read for every message, so built once per distinct set of
    overrides (settings may change at run time, in tests: the overrides are the cache key)."""
    overrides: dict[str, Any] = getattr(settings, "HAVEN_TELEMETRY", {}) or {}
    try:
        return _config_for(tuple(overrides.items()))
    except TypeError:  # an unhashable override value: build it afresh
        return _build(overrides)


@lru_cache(maxsize=16)
def _config_for(overrides: tuple[tuple[str, Any], ...]) -> TelemetryConfig:
    return _build(dict(overrides))


def _build(overrides: dict[str, Any]) -> TelemetryConfig:
    known = {f.name for f in fields(TelemetryConfig)}
    return replace(TelemetryConfig(), **{k: v for k, v in overrides.items() if k in known})
