"""`haven up`: every part starts with its output prefixed, a killed part comes back, SIGTERM
stops everything cleanly."""

from __future__ import annotations

import os
import re
import signal

from .processes import HavenUp, wait_until

PARTS_WITHOUT_BROKER = ("web", "worker", "scheduler", "osmand", "teltonika")


def test_up_starts_every_part_prefixed_and_stops_on_sigterm(haven_up: HavenUp) -> None:
    haven_up.wait_until_serving()
    wait_until(
        lambda: all(haven_up.child_pids(part) for part in PARTS_WITHOUT_BROKER),
        "every part to start",
    )
    output = haven_up.output()
    for part in PARTS_WITHOUT_BROKER:
        assert re.search(rf"^\S+ {part}\s+\| \[{part}\] started pid=", output, re.MULTILINE)
    assert re.search(r"^\S+ web\s+\| .*GET /healthz", output, re.MULTILINE)
    assert f"No MQTT broker answers on 127.0.0.1:{haven_up.mqtt_port}" in output
    assert "mqtt started" not in output
    children = [pid for part in PARTS_WITHOUT_BROKER for pid in haven_up.child_pids(part)]

    assert haven_up.process is not None
    os.kill(haven_up.process.pid, signal.SIGTERM)

    assert haven_up.process.wait(timeout=15) == 0
    assert not haven_up.web_answers()
    assert not haven_up.osmand_answers()
    for pid in children:
        assert not _alive(pid), f"pid {pid} survived haven up"


def test_a_killed_part_is_restarted(haven_up: HavenUp) -> None:
    haven_up.wait_until_serving()
    [receiver] = haven_up.child_pids("osmand")

    os.kill(receiver, signal.SIGKILL)

    wait_until(lambda: len(haven_up.child_pids("osmand")) == 2, "the receiver to restart")
    assert "[osmand] exited with -9; restarting" in haven_up.output()
    wait_until(haven_up.osmand_answers, "the restarted receiver to answer")
    assert haven_up.web_answers()  # the other parts kept running


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still has a pid; only its parent's wait removes it.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
