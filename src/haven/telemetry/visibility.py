"""Who sees which telemetry records (registered with haven.access.visibility by
TelemetryConfig.ready). Alerts and devices are open to the operations module: whoever is on call
needs the whole picture. Positions are narrower, per device (selectors.may_read_positions)."""

from __future__ import annotations

from haven.access.visibility import open_to, register
from haven.accounts.roles import Module

from .models import Alert, EscalationPolicy, TelemetryDevice

register(Alert, open_to(Module.OPERATIONS))
register(TelemetryDevice, open_to(Module.OPERATIONS))
register(EscalationPolicy, open_to(Module.OPERATIONS))
