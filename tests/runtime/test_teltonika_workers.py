"""`haven telemetry serve-teltonika --workers 2`, a real process over raw sockets: both workers
accept connections on the one port and acknowledge every record; a tracker that reconnects to
the other worker (and back) goes on where it left off: a resent record stored once, each fence
crossing raised once, judged from the database, not from what a worker remembers; SIGTERM stops
every worker, after each has stored what it held; a worker killed is restarted.

Which worker holds a connection is read from the kernel (/proc: the worker's socket inodes and
the TCP table), so the tests steer a tracker to the other worker rather than hope for it."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from haven.telemetry import teltonika

from ..built_once import built_once
from .processes import (
    copy_data_dir,
    free_port,
    haven,
    haven_environment,
    start_haven,
    wait_until,
)

IMEI = "356307042441013"
HOME = (54.6, -5.93)  # the tracker's safe zone: 200 m around it
AWAY = (54.62, -5.93)  # 2.2 km north
DEADLINE_S = 30.0

SETUP = f"""
from haven.telemetry import services
device = services.register_device(
    None, device_id={IMEI!r}, name="Van", kind="vehicle_tracker"
)
services.create_geofence(
    None, name="Depot", kind="safe", device=device, dwell_s=0,
    area=services.fence_area(lat={HOME[0]}, lon={HOME[1]}, radius_m=200),
)
"""


@pytest.fixture(scope="session")
def tracker_template(
    prepared_data_dir: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Path:
    """The prepared data directory with one Teltonika tracker and its safe zone."""

    def build(folder: Path) -> None:
        copy_data_dir(prepared_data_dir, folder / "data")
        haven(folder / "data", "shell", "-c", SETUP)

    return built_once(tmp_path_factory, worker_id, "haven-teltonika-template", build) / "data"


class Workers:
    """`serve-teltonika --workers 2` in a session of its own, its output in a file."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.log_path = data_dir / "teltonika.log"
        self.process = start_haven(
            haven_environment(data_dir),
            self.log_path,
            *("telemetry", "serve-teltonika", "--port", str(self.port), "--workers", "2"),
        )
        wait_until(lambda: len(self.pids()) == 2, f"two workers\n{self.output()}", DEADLINE_S)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pids(self) -> list[int]:
        """The workers listening, by their start-up line."""
        return [int(p) for p in re.findall(r"receiver pid=(\d+) on tcp://", self.output())]

    def holder(self, sock: socket.socket) -> int:
        """The pid of the worker that accepted this (answered) connection."""
        client_port = sock.getsockname()[1]
        inode = _tcp_inode(self.port, client_port)
        for pid in self.pids():
            try:
                fds = list(Path(f"/proc/{pid}/fd").iterdir())
            except OSError:  # a worker that has died
                continue
            for fd in fds:
                try:
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        raise AssertionError(f"no worker holds the connection from port {client_port}")

    def connect(self, on: int | None = None, avoid: int | None = None) -> socket.socket:
        """A tracker's connection, its handshake accepted, held by worker `on` (or not by
        `avoid`): connections land by the kernel's hash, so others are opened until one does."""
        for _ in range(64):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=DEADLINE_S)
            sock.sendall(len(IMEI).to_bytes(2, "big") + IMEI.encode())
            assert sock.recv(1) == b"\x01"
            pid = self.holder(sock)
            if (on is None or pid == on) and pid != avoid:
                return sock
            sock.close()
        raise AssertionError("64 connections, none on the worker wanted")

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait(timeout=10)


@pytest.fixture
def workers(tracker_template: Path, tmp_path: Path) -> Iterator[Workers]:
    running = Workers(copy_data_dir(tracker_template, tmp_path / "data"))
    try:
        yield running
    finally:
        running.stop()


def _tcp_inode(server_port: int, client_port: int) -> str:
    """The socket inode of the server's end of a loopback connection (/proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if int(local, 16) == server_port and int(remote, 16) == client_port:
            return fields[9]
    raise AssertionError(f"no connection {server_port} <- {client_port}")


def send(sock: socket.socket, at: dt.datetime, where: tuple[float, float]) -> None:
    """One record in one packet; its acknowledgement (the count, 1) comes once it is stored."""
    record = teltonika.encode_record(teltonika.CODEC_8, at, lat=where[0], lon=where[1], io={239: 1})
    sock.sendall(teltonika.encode_packet(teltonika.CODEC_8, [record]))
    answer = b""
    while len(answer) < 4:
        chunk = sock.recv(4 - len(answer))
        assert chunk, "the receiver closed the connection"
        answer += chunk
    assert int.from_bytes(answer, "big") == 1


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_both_workers_accept_and_acknowledge_and_sigterm_stops_both(workers: Workers) -> None:
    first, second = workers.pids()
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    held: dict[int, list[socket.socket]] = {first: [], second: []}
    # Until both hold some: the kernel spreads connections by a hash of their addresses.
    while min(len(socks) for socks in held.values()) < 3:
        sock = workers.connect()
        held[workers.holder(sock)].append(sock)
    for n, sock in enumerate(sock for socks in held.values() for sock in socks):
        send(sock, start + dt.timedelta(seconds=n), HOME)

    workers.process.send_signal(signal.SIGTERM)

    assert workers.process.wait(timeout=DEADLINE_S) == 0
    output = workers.output()
    for pid, socks in held.items():
        assert not _alive(pid)
        # Each says what it served: the connections the test saw it hold, at least.
        served = re.search(rf"pid={pid} stopped: (\d+) connection\(s\), (\d+) record", output)
        assert served, output
        assert int(served[2]) == len(socks) and int(served[1]) >= len(socks)
        for sock in socks:
            assert sock.recv(1) == b""  # closed by its worker
            sock.close()
    with sqlite3.connect(workers.data_dir / "haven.sqlite3") as db:
        [(stored,)] = db.execute("SELECT count(*) FROM telemetry_position").fetchall()
    assert stored == sum(len(socks) for socks in held.values())


def test_a_tracker_moving_between_workers_and_to_a_restarted_one_crosses_once(
    workers: Workers,
) -> None:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    at = [start + dt.timedelta(seconds=10 * n) for n in range(7)]
    on_a = workers.connect()
    a = workers.holder(on_a)
    send(on_a, at[0], HOME)  # first fix: inside its zone (enter)
    send(on_a, at[1], AWAY)  # exit: alert
    on_a.close()

    on_b = workers.connect(avoid=a)  # reconnects, to the other worker
    send(on_b, at[1], AWAY)  # its last record again (as if the acknowledgement was lost)
    send(on_b, at[2], AWAY)  # still outside: nothing
    send(on_b, at[3], HOME)  # back inside (enter), judged by b from what a stored
    on_b.close()

    back_on_a = workers.connect(on=a)  # and back to the first worker
    send(back_on_a, at[4], AWAY)  # exit again: a must not go by its memory (outside)
    send(back_on_a, at[5], AWAY)
    back_on_a.close()

    # A worker that dies is restarted; the new one, with nothing in memory, goes on too.
    os.kill(a, signal.SIGKILL)
    wait_until(lambda: len(workers.pids()) == 3, f"a restarted worker\n{workers.output()}", 15)
    restarted = workers.pids()[-1]
    assert f"(pid={a}) exited with -9; restarting" in workers.output()
    on_new = workers.connect(on=restarted)
    send(on_new, at[6], HOME)  # back inside (enter)
    on_new.close()

    with sqlite3.connect(workers.data_dir / "haven.sqlite3") as db:
        fixes = db.execute("SELECT fix_time FROM telemetry_position ORDER BY fix_time").fetchall()
        events = db.execute(
            "SELECT type, event_time FROM telemetry_event WHERE type LIKE 'geofence%' "
            "ORDER BY event_time"
        ).fetchall()
        [(alerts,)] = db.execute("SELECT count(*) FROM telemetry_alert").fetchall()
    assert len(fixes) == 7  # the resent record stored once
    stamp = [moment.strftime("%Y-%m-%d %H:%M:%S") for moment in at]
    assert [(kind, when[:19]) for kind, when in events] == [
        ("geofence_enter", stamp[0]),
        ("geofence_exit", stamp[1]),
        ("geofence_enter", stamp[3]),
        ("geofence_exit", stamp[4]),
        ("geofence_enter", stamp[6]),
    ]
    assert alerts == 2  # a safe zone's exits alert, once each


def test_a_port_in_use_is_refused_rather_than_shared() -> None:
    from haven.telemetry.workers import Supervisor

    def never(host: str, port: int, supervisor: int) -> None:
        raise AssertionError("no worker may start")

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert Supervisor("127.0.0.1", port, 2, never).run() == 1


def test_haven_up_starts_the_teltonika_receiver_with_its_workers() -> None:
    from haven.runtime.parts import Addresses, default_teltonika_workers, process_table

    [part] = [
        part
        for part in process_table(Addresses(), with_mqtt=False, teltonika_workers=3)
        if part.name == "teltonika"
    ]
    assert part.arguments[-2:] == ("--workers", "3")
    assert default_teltonika_workers() == max(2, os.cpu_count() or 1)
