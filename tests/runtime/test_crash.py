"""Crash test: SIGKILL the receiver and then the web process under a bounded load; every
position the receiver acknowledged (200) is stored, and every part answers again."""

from __future__ import annotations

import os
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from .processes import HavenUp, haven, wait_until

DEVICE_ID = "crash-tracker"
POSTS_PER_SECOND = 40
# Positions carry their fix time in whole seconds, one second apart, ending about now (fixes
# from the future are refused): distinct and each recognisable in the database.
FIRST_FIX = int(time.time()) - 3600


class Tracker(threading.Thread):
    """Posts OsmAnd positions at a bounded rate, remembering which were acknowledged."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.acknowledged: list[int] = []
        self.failed = 0
        self.finished = threading.Event()

    def run(self) -> None:
        fix = FIRST_FIX
        while not self.finished.is_set() and fix < FIRST_FIX + 3500:
            query = f"id={DEVICE_ID}&lat=51.5&lon=-0.12&timestamp={fix}"
            request = urllib.request.Request(f"{self.url}/?{query}", method="POST")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                    if response.status == 200:
                        self.acknowledged.append(fix)
            except (OSError, urllib.error.URLError):
                self.failed += 1
            fix += 1
            self.finished.wait(1 / POSTS_PER_SECOND)


def stored_fixes(data_dir: Path) -> set[int]:
    printed = haven(
        data_dir,
        "shell",
        "-c",
        "from haven.telemetry.models import Position\n"
        f"for fix in Position.objects.filter(device__device_id={DEVICE_ID!r})"
        ".values_list('fix_time', flat=True): print('fix', int(fix.timestamp()))",
    )
    return {int(line.split()[1]) for line in printed.splitlines() if line.startswith("fix ")}


def test_nothing_acknowledged_is_lost_when_receiver_and_web_are_killed(data_dir: Path) -> None:
    haven(
        data_dir,
        "shell",
        "-c",
        "from haven.telemetry import services\n"
        f"services.register_device(None, device_id={DEVICE_ID!r}, name='Crash test tracker', "
        "kind='vehicle_tracker')",
    )
    up = HavenUp(data_dir)
    tracker = Tracker(up.osmand_url)
    try:
        up.start().wait_until_serving()
        tracker.start()
        wait_until(lambda: len(tracker.acknowledged) >= 20, "positions to be acknowledged")

        _kill_and_wait_for_restart(up, "osmand")
        wait_until(up.osmand_answers, "the restarted receiver")
        before = len(tracker.acknowledged)
        wait_until(lambda: len(tracker.acknowledged) >= before + 20, "positions after restart")

        _kill_and_wait_for_restart(up, "web")
        wait_until(up.web_answers, "the restarted web process")
        tracker.finished.set()
        tracker.join(timeout=15)
        assert up.osmand_answers()
    finally:
        tracker.finished.set()
        up.stop()

    # Posts fail while a receiver is down (the device would retry); those were never promised.
    missing = set(tracker.acknowledged) - stored_fixes(data_dir)
    assert not missing, f"{len(missing)} acknowledged position(s) lost"


def _kill_and_wait_for_restart(up: HavenUp, part: str) -> None:
    started = up.child_pids(part)
    os.kill(started[-1], signal.SIGKILL)
    wait_until(lambda: len(up.child_pids(part)) > len(started), f"{part} to restart")
