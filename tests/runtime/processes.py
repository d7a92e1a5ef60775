"""Booting real Haven processes for the runtime tests: a prepared data directory (keys, a
migrated SQLite database) and `haven up` on free ports, polled with deadlines."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
BOOT_DEADLINE_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def haven_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a development `make run`, on this data directory and SQLite."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HAVEN_", "DJANGO_", "PYTEST_"))
    }
    environment.update(
        PYTHONPATH=str(SRC),
        DJANGO_SETTINGS_MODULE="haven.settings",
        HAVEN_DATA_DIR=str(data_dir),
        HAVEN_DEBUG="1",
        HAVEN_DEMO="1",
        PYTHONUNBUFFERED="1",
    )
    environment.update(extra)
    return environment


def haven(data_dir: Path, *arguments: str, **extra: str) -> str:
    """Run one `haven` command to completion; its output, or the test fails with it."""
    result = subprocess.run(  # noqa: S603 - the test's own command line
        [sys.executable, "-m", "haven.cli", *arguments],
        env=haven_environment(data_dir, **extra),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"haven {' '.join(arguments)}: {result.stderr}"
    return result.stdout


def prepare_data_dir(data_dir: Path) -> None:
    haven(data_dir, "keys", "init")
    haven(data_dir, "audit", "init-key")
    haven(data_dir, "migrate", "--no-input", "-v", "0")


def copy_data_dir(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


def wait_until(
    condition: Callable[[], bool], what: str, deadline_s: float = BOOT_DEADLINE_S
) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up after {deadline_s:.0f} s waiting for {what}")


def http_status(url: str, timeout: float = 5.0) -> int | None:
    """The HTTP status the URL answers with, or None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, urllib.error.URLError):
        return None


def start_haven(environment: dict[str, str], log_path: Path, *args: str) -> subprocess.Popen[bytes]:
    """`haven ARGS` in a session (process group) of its own, so a test can signal all of it,
    with its output in log_path, which the test reads."""
    with log_path.open("wb") as log:
        return subprocess.Popen(  # noqa: S603 - the test's own command line
            [sys.executable, "-m", "haven.cli", *args],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


class HavenUp:
    """`haven up` in its own process group, its output in a file the test reads."""

    def __init__(self, data_dir: Path, **extra_environment: str) -> None:
        self.data_dir = data_dir
        self.web_port = free_port()
        self.osmand_port = free_port()
        self.teltonika_port = free_port()
        self.mqtt_port = free_port()  # nothing listens there: no broker
        self.log_path = data_dir / "up.log"
        self.environment = haven_environment(data_dir, **extra_environment)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> HavenUp:
        self.process = start_haven(
            self.environment,
            self.log_path,
            "up",
            "--web-bind",
            f"127.0.0.1:{self.web_port}",
            "--osmand-port",
            str(self.osmand_port),
            "--teltonika-port",
            str(self.teltonika_port),
            "--mqtt-port",
            str(self.mqtt_port),
        )
        return self

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def osmand_url(self) -> str:
        return f"http://127.0.0.1:{self.osmand_port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def web_answers(self) -> bool:
        return http_status(f"{self.web_url}/healthz") == 200

    def osmand_answers(self) -> bool:
        # An unknown device is refused with 400: the receiver is up and judging requests.
        return http_status(f"{self.osmand_url}/?id=nobody&lat=0&lon=0") is not None

    def wait_until_serving(self) -> None:
        wait_until(self.web_answers, f"the web part on {self.web_url}\n{self.output()}")
        wait_until(self.osmand_answers, f"the receiver on {self.osmand_url}\n{self.output()}")

    def child_pids(self, part: str) -> list[int]:
        """The pids the part's restarter has started, oldest first."""
        pattern = rf"\[{re.escape(part)}\] started pid=(\d+)"
        return [int(pid) for pid in re.findall(pattern, self.output())]

    def part_groups(self) -> list[int]:
        """honcho starts each part (its restarter) in a session of its own: their group ids."""
        return [int(pid) for pid in re.findall(r"\w+ started \(pid=(\d+)\)", self.output())]

    def stop(self) -> None:
        """Always called in a finally: nothing this test started survives it."""
        if self.process is None:
            return
        for group in [self.process.pid, *self.part_groups()]:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.process.wait(timeout=10)
