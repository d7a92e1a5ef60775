"""Pure event classification: alarms, low battery, geofence transitions, late and offline.

Rules (../shared/reference/tracking-protocols.md §5):
- every alarm value in a message is an event; SOS, panic and tamper always raise a critical
  alert, however late or out of order they arrive; other alarm values raise a warning alert;
- a late message (old when it arrives, or older than the last fix) is flagged late, never dropped;
- repeated alarms are separate events (one per fix time): only an exact resend is the same event;
- low battery is an event when the level falls below the threshold (once per crossing).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .config import ALWAYS_ALERT_ALARMS, TelemetryConfig

ALARM = "alarm"
GEOFENCE_ENTER = "geofence_enter"
GEOFENCE_EXIT = "geofence_exit"
GEOFENCE_CROSSED = "geofence_crossed"  # the segment between two fixes went through the fence
LOW_BATTERY = "low_battery"
OFFLINE = "offline"
ONLINE = "online"
REGION = "region"  # an OwnTracks phone's own region transition (informational)
IGNITION_ON = "ignition_on"
IGNITION_OFF = "ignition_off"
POWER_CUT = "power_cut"  # a vehicle tracker's external supply was cut (tamper, or the battery)
TOW = "tow"  # moving while the ignition is off: towed, or the tracker carried away

CRITICAL = "critical"
WARNING = "warning"
INFO = "info"

# Alarm values that mean "battery low" are reported as low battery, not as an alarm.
BATTERY_ALARMS = frozenset({"lowBattery", "lowbattery", "low_battery"})
BATTERY_RECOVERY_MARGIN = 5.0


@dataclass(frozen=True)
class EventSpec:
    type: str
    key: str = ""  # alarm value, fence id, ...
    severity: str = INFO
    alert: bool = False


def is_late(
    fix_time: dt.datetime, received_at: dt.datetime, last_fix: dt.datetime | None, late_after_s: int
) -> bool:
    if received_at - fix_time > dt.timedelta(seconds=late_after_s):
        return True
    return last_fix is not None and fix_time < last_fix


def alarm_events(alarms: tuple[str, ...]) -> list[EventSpec]:
    specs: list[EventSpec] = []
    seen: set[str] = set()
    for raw in alarms:
        value = raw.strip()[:40]
        if not value or value in seen:
            continue  # the same value twice in ONE message is one event
        seen.add(value)
        if value in BATTERY_ALARMS:
            specs.append(EventSpec(LOW_BATTERY, "alarm", WARNING, alert=True))
        elif value in ALWAYS_ALERT_ALARMS or value.lower() in ALWAYS_ALERT_ALARMS:
            specs.append(EventSpec(ALARM, value, CRITICAL, alert=True))
        else:
            specs.append(EventSpec(ALARM, value, WARNING, alert=True))
    return specs


def battery_event(
    level: float | None, was_low: bool, config: TelemetryConfig
) -> tuple[bool, EventSpec | None]:
    """(low now, event if it just fell below the threshold)."""
    if level is None:
        return was_low, None
    if level < config.low_battery_percent:
        if was_low:
            return True, None
        return True, EventSpec(LOW_BATTERY, "", WARNING, alert=True)
    if level >= config.low_battery_percent + BATTERY_RECOVERY_MARGIN:
        return False, None
    return was_low, None


def geofence_event(fence_id: str, fence_kind: str, change: str) -> EventSpec:
    if change == "enter":
        alert = fence_kind == "exclusion"
        return EventSpec(GEOFENCE_ENTER, fence_id, CRITICAL if alert else INFO, alert)
    alert = fence_kind == "safe"
    return EventSpec(GEOFENCE_EXIT, fence_id, CRITICAL if alert else INFO, alert)


def crossing_event(fence_id: str, fence_kind: str) -> EventSpec:
    """Passing through a fence between two fixes: an exclusion zone was entered (and left)."""
    alert = fence_kind == "exclusion"
    return EventSpec(GEOFENCE_CROSSED, fence_id, CRITICAL if alert else INFO, alert)


def is_overdue(last_seen: dt.datetime | None, interval_s: int, now: dt.datetime) -> bool:
    """Offline: no report for longer than the device's expected interval (never seen: no)."""
    return last_seen is not None and now - last_seen > dt.timedelta(seconds=interval_s)


def vehicle_events(
    state: dict[str, bool], attributes: dict[str, object], config: TelemetryConfig
) -> tuple[dict[str, bool], list[EventSpec]]:
    """(new state, events) from a vehicle tracker's IO attributes (ignition, motion, power).
    Each is an event when it changes, never on the first report (nothing to compare with):
    ignition on/off (info); external power falling below the threshold (warning alert, once
    until it recovers); movement while the ignition is off (warning alert, once per episode)."""
    new = dict(state)
    specs: list[EventSpec] = []
    ignition = attributes.get("ignition")
    if isinstance(ignition, bool):
        if "ignition" in state and state["ignition"] != ignition:
            specs.append(EventSpec(IGNITION_ON if ignition else IGNITION_OFF))
        new["ignition"] = ignition
    power = attributes.get("power")
    if isinstance(power, int | float) and not isinstance(power, bool):
        cut = power < config.power_cut_below_v
        if cut and not state.get("power_cut", False):
            specs.append(EventSpec(POWER_CUT, "", WARNING, alert=True))
        new["power_cut"] = cut
    motion = attributes.get("motion")
    if isinstance(motion, bool):
        towing = motion and new.get("ignition") is False
        if towing and not state.get("towing", False):
            specs.append(EventSpec(TOW, "", WARNING, alert=True))
        new["towing"] = towing
    return new, specs
