"""`haven telemetry serve-teltonika --workers N`: N receiver processes on one TCP port.

One receiver process is one event loop and one batch writer: one core at most. With N, this
process (the supervisor) forks N receivers, each binding the port itself with SO_REUSEPORT,
so the kernel spreads incoming connections across them (by a hash of the connection's
addresses); each has its own loop, batch writer, database connections and fence index, built
as a single receiver builds its own. A tracker's records stay on its one TCP connection, so on
one process, in order.

Nothing a worker keeps in memory decides what is stored or raised when a tracker reconnects to
another worker: every batch locks its devices' rows and reads their state there (last fix, fences
inside and pending, battery, ignition: services._store_batch), duplicates are found in the
stored positions, a cached previous fix counts only when its time is the locked row's
``last_fix_at`` (services.LastFixes), a handshake is looked up in the database every time, and
offline is judged by the scheduler's sweep from ``last_seen_at`` (services.check_offline), never
by a receiver. Per worker only: the flood gate's window (alarms and Teltonika records, which wait
for their acknowledgement, pass it anyway) and the rejection counters (statistics).

The supervisor binds nothing but a probe (so a port already in use fails here, loudly, instead of
being shared with whatever holds it), restarts a worker that dies (with back-off, as
haven.runtime.restarter restarts a part), and on SIGTERM or SIGINT stops every worker: each
stores what it has queued and closes. A worker whose supervisor has gone stops too.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import NoReturn

from django.db import connections

log = logging.getLogger("haven.telemetry.teltonika")

FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 30.0
HEALTHY_AFTER_S = 30.0  # a worker that ran this long is restarted quickly again
STOP_WAIT_S = 10.0
POLL_S = 0.2
Worker = Callable[[str, int, int], None]  # (host, port, the supervisor's pid)


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens there (a bind without SO_REUSEPORT fails where any socket is
    bound, with or without it)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@dataclass
class _Slot:
    number: int
    pid: int = 0  # 0: not running
    started: float = 0.0
    backoff: float = FIRST_BACKOFF_S
    restart_at: float | None = None


class Supervisor:
    """Forks the workers (Django is set up once, here; a worker opens its own database
    connections, this process holds none when it forks) and watches them."""

    def __init__(self, host: str, port: int, workers: int, worker: Worker) -> None:
        self.host, self.port = host, port
        self.worker = worker
        self.slots = [_Slot(number) for number in range(workers)]
        self.stopping = False

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _start(self, slot: _Slot) -> None:
        connections.close_all()  # none to share with a child
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker
            self._work(parent)
        slot.pid, slot.started, slot.restart_at = pid, time.monotonic(), None
        log.info("telemetry: Teltonika worker %d started pid=%d", slot.number, pid)

    def _work(self, parent: int) -> NoReturn:
        code = 1
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            self.worker(self.host, self.port, parent)
            code = 0
        except BaseException:  # noqa: BLE001 - reported, then the supervisor restarts it
            log.exception("telemetry: Teltonika worker pid=%d failed", os.getpid())
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def run(self) -> int:
        if not port_is_free(self.host, self.port):
            log.error("telemetry: %s:%d is already in use", self.host, self.port)
            return 1
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for slot in self.slots:
            self._start(slot)
        while not self.stopping:
            self._watch(time.monotonic())
            time.sleep(POLL_S)
        self._stop_all()
        return 0

    def _watch(self, now: float) -> None:
        for slot in self.slots:
            if slot.restart_at is not None:
                if now >= slot.restart_at and not self.stopping:
                    self._start(slot)
                continue
            status = _exit_status(slot.pid)
            if status is None:
                continue
            if now - slot.started >= HEALTHY_AFTER_S:
                slot.backoff = FIRST_BACKOFF_S
            log.warning(
                "telemetry: Teltonika worker %d (pid=%d) exited with %d; restarting in %.0f s",
                slot.number,
                slot.pid,
                status,
                slot.backoff,
            )
            slot.pid, slot.restart_at = 0, now + slot.backoff
            slot.backoff = min(slot.backoff * 2, MAX_BACKOFF_S)

    def _stop_all(self) -> None:
        running = [slot.pid for slot in self.slots if slot.pid]
        for pid in running:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        while running and time.monotonic() < deadline:
            running = [pid for pid in running if _exit_status(pid) is None]
            if running:
                time.sleep(0.05)
        for pid in running:
            log.error("telemetry: Teltonika worker pid=%d did not stop; killed", pid)
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _exit_status(pid: int) -> int | None:
    """The worker's exit status (negative: the signal that ended it), or None while it runs."""
    try:
        done, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return -1
    return os.waitstatus_to_exitcode(status) if done else None


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def supervise(host: str, port: int, workers: int, worker: Worker) -> int:
    """Run `workers` receiver processes on the port until told to stop; the exit status.
    `worker(host, port, supervisor_pid)` is what each runs (serve with SO_REUSEPORT)."""
    return Supervisor(host, port, workers, worker).run()
