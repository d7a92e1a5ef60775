"""The process table: every part `haven up` runs, in one place (the systemd units in
deploy/systemd/ run the same commands, one unit each)."""

from __future__ import annotations

import os
import shlex
import socket
import sys
from dataclasses import dataclass

MQTT_PROBE_TIMEOUT_S = 1.0


@dataclass(frozen=True)
class Part:
    name: str
    arguments: tuple[str, ...]  # after `haven`

    def command_line(self) -> str:
        """The shell line honcho runs: the restarter around `python -m haven.cli ...`."""
        haven = [sys.executable, "-m", "haven.cli", *self.arguments]
        restarter = [sys.executable, "-m", "haven.runtime.restarter", self.name, "--"]
        return "exec " + shlex.join(restarter + haven)


def default_teltonika_workers() -> int:
    """The Teltonika receiver's processes `haven up` starts: one per core (a receiver process
    is one event loop and one batch writer, one core at most; the database and the other parts
    share the machine), at least 2 so that one busy or restarting worker never holds up every
    tracker."""
    return max(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class Addresses:
    web_bind: str = "127.0.0.1:8000"
    osmand_host: str = "127.0.0.1"
    osmand_port: int = 5055
    teltonika_host: str = "127.0.0.1"
    teltonika_port: int = 5027  # as Traccar's Teltonika port
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883


def process_table(
    addresses: Addresses,
    with_mqtt: bool,
    with_witness: bool = False,
    with_mailbox: bool = False,
    teltonika_workers: int = 0,
) -> list[Part]:
    """`teltonika_workers`: the Teltonika receiver's processes on its port (0 or 1: one)."""
    parts = [
        Part("web", ("serve", "--bind", addresses.web_bind)),
        Part("worker", ("db_worker", "--no-reload")),
        Part("scheduler", ("scheduler",)),
        Part(
            "osmand",
            (
                "telemetry",
                "serve-osmand",
                "--host",
                addresses.osmand_host,
                "--port",
                str(addresses.osmand_port),
            ),
        ),
        Part(
            "teltonika",
            (
                "telemetry",
                "serve-teltonika",
                "--host",
                addresses.teltonika_host,
                "--port",
                str(addresses.teltonika_port),
                "--workers",
                str(teltonika_workers),
            ),
        ),
    ]
    if with_witness:
        # HAVEN_LOCAL_WITNESS: a haven-witness on this machine cosigns each checkpoint.
        parts.append(Part("witness", ("audit", "serve-witness")))
    if with_mailbox:
        # HAVEN_DEMO_MAILBOX: a local SMTP mailbox, so the demo's alerts visibly go out by e-mail.
        parts.append(Part("mailbox", ("mailbox",)))
    if with_mqtt:
        parts.append(
            Part(
                "mqtt",
                (
                    "telemetry",
                    "listen",
                    "--host",
                    addresses.mqtt_host,
                    "--port",
                    str(addresses.mqtt_port),
                ),
            )
        )
    return parts


def broker_answers(host: str, port: int, timeout: float = MQTT_PROBE_TIMEOUT_S) -> bool:
    """A plain TCP connect: enough to tell "a broker listens" from "nothing there"."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def no_broker_message(host: str, port: int) -> str:
    return (
        f"No MQTT broker answers on {host}:{port}: OwnTracks phones will not be heard. "
        "Start one with `systemctl start mosquitto` (or `mosquitto -c deploy/mosquitto.conf`); "
        "starting without the MQTT listener."
    )
