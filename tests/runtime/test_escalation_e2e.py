"""End to end: `haven up` on free ports, a Traccar Client SOS posted to the receiver, and the
alert escalating on schedule with no manual command (scheduler + job worker)."""

from __future__ import annotations

import sqlite3
import urllib.request
from contextlib import closing
from pathlib import Path

from .processes import HavenUp, haven, wait_until

DEVICE_ID = "sos-alarm"
DEMO_ROTA = "Technical support on call (demo)"
SETTINGS = "tests.runtime.short_escalation_settings"
REPOSITORY = Path(__file__).resolve().parents[2]
# The escalation job runs every 2 s here (15 s by default); allow for a busy machine.
ESCALATION_DEADLINE_S = 60.0


def alert_levels(data_dir: Path) -> list[int]:
    """Read straight from the SQLite file: cheap enough to poll while every part runs."""
    with closing(sqlite3.connect(data_dir / "haven.sqlite3", timeout=20)) as database:
        rows = database.execute(
            "SELECT alert.escalation_level FROM telemetry_alert AS alert"
            " JOIN telemetry_telemetrydevice AS device ON device.id = alert.device_id"
            " WHERE device.device_id = ?",
            (DEVICE_ID,),
        ).fetchall()
    return [int(level) for (level,) in rows]


def test_an_sos_escalates_on_schedule_without_any_command(demo_data_dir: Path) -> None:
    data_dir = demo_data_dir  # accounts and the on-call rota, through the product's services
    haven(
        data_dir,
        "shell",
        "-c",
        "from haven.telemetry import services\n"
        # Without the demo's default policy: this test is about the rota's own chain (the
        # policy path is tests/runtime/test_paging_e2e.py).
        "from haven.telemetry.models import EscalationPolicy\n"
        "EscalationPolicy.objects.update(is_default=False)\n"
        f"services.register_device(None, device_id={DEVICE_ID!r}, name='Panic alarm', "
        f"kind='panic_alarm', rota_name={DEMO_ROTA!r})",
    )
    up = HavenUp(
        data_dir,
        DJANGO_SETTINGS_MODULE=SETTINGS,
        PYTHONPATH=f"{REPOSITORY / 'src'}:{REPOSITORY}",
    )
    try:
        up.start().wait_until_serving()
        sos = f"{up.osmand_url}/?id={DEVICE_ID}&lat=51.5&lon=-0.12&alarm=sos"
        with urllib.request.urlopen(urllib.request.Request(sos, method="POST")) as answer:  # noqa: S310
            assert answer.status == 200

        assert alert_levels(data_dir) == [0]  # acknowledged means stored: the alert is there
        wait_until(
            lambda: alert_levels(data_dir) == [1],
            f"the alert to escalate\n{up.output()}",
            ESCALATION_DEADLINE_S,
        )
    finally:
        up.stop()
