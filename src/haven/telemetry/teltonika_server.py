"""`haven telemetry serve-teltonika`: the Teltonika Codec 8 / 8E receiver over TCP (:5027).

One asyncio event loop holds every device connection. Per connection: the IMEI handshake
(0x01 for a registered, active tracker; 0x00 and the connection closed otherwise), then AVL
data packets. Each packet's records go through the same path as every other receiver
(protocols.Message → the process's BatchWriter → services.ingest_batch, group commit), and the
record count is acknowledged only once all of them are committed, so an acknowledged record is
stored. A packet whose CRC does not match is not acknowledged and nothing of it is stored (the
device sends it again); a packet that cannot be framed closes the connection (the device
reconnects and resends). A store failure is not acknowledged either: storing is idempotent on
(device, fix time), so the resend is harmless.

Per message the receiver must cost little beside the store itself, so a connection is a plain
:class:`asyncio.Protocol` (frames cut from what arrives, in its callback: no coroutine, stream
future or timer per packet), and everything per-message that can be done per batch or per sweep
is: the writer's answers come back to the loop in one wake-up per batch; a packet that is not
answered in time (WAIT_S) and a connection silent for IDLE_S are found by one periodic sweep of
all connections; handshakes that arrive together are looked up in one query, by one lookup
thread that closes its database connection once no handshake waits. Packets of one connection
are taken one at a time, in order: the next one only once the previous one was answered (the
device waits for the acknowledgement anyway).

With ``--workers N`` (haven.telemetry.workers) N such processes share the port (SO_REUSEPORT),
each one as described here; SIGTERM or SIGINT stops one cleanly: it stops listening, stores what
its writer holds, answers it, and closes its connections.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import takewhile
from typing import cast
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from . import services
from . import teltonika as codec
from .batching import WAIT_S, BatchWriter, StoreFailed
from .config import get_config
from .models import TelemetryDevice
from .protocols import OsmAndOptions, Rejected

log = logging.getLogger("haven.telemetry.teltonika")
IDLE_S = 15 * 60  # a connection silent this long is closed (FMB devices reconnect)
DEFAULT_PORT = 5027  # as Traccar's teltonika port
HANDSHAKE_BYTES = 2 + codec.MAX_IMEI_BYTES
# Unread bytes a connection may hold (a device sends one packet and waits for its answer):
# past this it is not read from until its packets have been answered.
MAX_BUFFERED = 2 * (codec.HEADER_BYTES + codec.MAX_DATA_BYTES + codec.CRC_BYTES)


class Refused(Exception):
    """End the connection (after counting why)."""


class TeltonikaServer:
    def __init__(self, writer: BatchWriter | None = None, wait_s: float = WAIT_S) -> None:
        self.writer = writer or BatchWriter()
        self.wait_s = wait_s
        self.idle_s: float = IDLE_S
        self.idle_checked = 0.0  # loop time of the last look for silent connections
        self.acknowledged = 0  # records acknowledged (statistics, the bench)
        self.accepted_connections = 0  # (statistics: logged when the process stops)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.connections: set[Connection] = set()
        # Connections waiting for their packet's answer, with its deadline (oldest first).
        self.waiting: dict[Connection, float] = {}
        self._sweeping = False
        # The writer thread's answers, handed to the loop in one wake-up per batch.
        self._ready: deque[tuple[Connection, int, services.Outcome | None, StoreFailed | None]]
        self._ready = deque()
        self._lock = threading.Lock()
        self._scheduled = False
        # Handshakes waiting for their lookup, and the thread that looks them up.
        self._handshakes: deque[tuple[Connection, str]] = deque()
        self._looking = False
        self._lookups = ThreadPoolExecutor(1, thread_name_prefix="teltonika-handshake")
        self._read_settings()

    def _read_settings(self) -> None:
        """What decoding a record needs of the settings, read again by every sweep (once a
        second) rather than for every packet (the configuration look-up cost as much as
        decoding the packet)."""
        self.server_zone = ZoneInfo(settings.TIME_ZONE)
        self.future_tolerance_s = get_config().future_tolerance_s

    async def start(self, host: str, port: int, reuse_port: bool = False) -> asyncio.Server:
        """Listen (with SO_REUSEPORT when several processes share the port)."""
        self.writer.start()  # builds the fence index while the first devices connect
        self.loop = asyncio.get_running_loop()
        return await self.loop.create_server(
            lambda: Connection(self), host, port, backlog=2048, reuse_port=reuse_port or None
        )

    # -------------------------------------------------------------- answers from the writer

    def submit(self, conn: Connection, packet: codec.Packet) -> None:
        """Queue every record of the packet; `conn` hears of each once its batch committed."""
        assert self.loop is not None
        now = dt.datetime.now(dt.UTC)
        options = OsmAndOptions(
            now=now, server_zone=self.server_zone, future_tolerance_s=self.future_tolerance_s
        )
        messages = [codec.record_message(conn.imei, record, options) for record in packet.records]
        self.waiting[conn] = self.loop.time() + self.wait_s
        self._sweep_soon()
        settle = partial(self._arrived, conn, conn.token)
        for message in messages:
            self.writer.submit_with(message, now, settle)

    def _arrived(
        self,
        conn: Connection,
        token: int,
        outcome: services.Outcome | None,
        error: StoreFailed | None,
    ) -> None:
        """On the writer thread, as each message of a batch is settled."""
        self._ready.append((conn, token, outcome, error))
        with self._lock:
            if self._scheduled:
                return  # the pending wake-up will take this one too
            self._scheduled = True
        assert self.loop is not None
        try:
            self.loop.call_soon_threadsafe(self._deliver)
        except RuntimeError:  # the loop has closed: nobody is waiting any more
            pass

    def _deliver(self) -> None:
        with self._lock:
            self._scheduled = False  # before draining: a later arrival schedules its own
        ready = self._ready
        while ready:
            conn, token, outcome, error = ready.popleft()
            conn.answered(token, outcome, error)

    # -------------------------------------------------------------- deadlines and idleness

    def _sweep_soon(self) -> None:
        if not self._sweeping:
            assert self.loop is not None
            self._sweeping = True
            self.loop.call_later(min(1.0, self.wait_s / 4), self._sweep)

    def _sweep(self) -> None:
        """Packets not answered in time get no acknowledgement (the device sends them again);
        connections silent for idle_s are closed. Runs while packets wait or devices are
        connected: once a second at most, however many connections."""
        assert self.loop is not None
        self._read_settings()
        now = self.loop.time()
        # In order of submission, so the deadlines passed are the first ones.
        passed = takewhile(lambda item: item[1] <= now, self.waiting.items())
        for conn in [conn for conn, _ in passed]:
            conn.timed_out()
        if now - self.idle_checked >= min(30.0, self.idle_s / 4):
            self.idle_checked = now
            for conn in [c for c in self.connections if c.idle(now)]:
                conn.close()
        self._sweeping = False
        if self.waiting or self.connections:
            self._sweep_soon()

    # -------------------------------------------------------------- handshakes

    def look_up(self, conn: Connection, imei: str) -> None:
        self._handshakes.append((conn, imei))
        if not self._looking:
            self._looking = True
            self._lookups.submit(self._look_up_waiting)

    def _look_up_waiting(self) -> None:
        """On the lookup thread: every handshake waiting, in one query, until none waits; its
        database connection is closed again (it may sit idle for hours between handshakes)."""
        assert self.loop is not None
        try:
            while True:
                batch = []
                while self._handshakes:
                    batch.append(self._handshakes.popleft())
                if not batch:
                    break
                known = _registered_retrying({imei for _, imei in batch})
                self.loop.call_soon_threadsafe(self._looked_up, batch, known)
        finally:
            connection.close()
            try:
                self.loop.call_soon_threadsafe(self._lookup_done)
            except RuntimeError:  # the loop has closed
                pass

    def _looked_up(self, batch: list[tuple[Connection, str]], known: set[str] | None) -> None:
        for conn, imei in batch:
            conn.accepted(imei in known) if known is not None else conn.close()

    def _lookup_done(self) -> None:
        self._looking = False
        if self._handshakes:  # came in while the thread was finishing
            self._looking = True
            self._lookups.submit(self._look_up_waiting)

    def stop(self) -> None:
        self._lookups.shutdown(wait=False)

    def close_connections(self) -> None:
        for conn in list(self.connections):
            conn.close()


class Connection(asyncio.Protocol):
    """One device's TCP connection: handshake, then packets, one at a time."""

    def __init__(self, server: TeltonikaServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.imei = ""
        self.state = "handshake"  # → "lookup" → "data"; "closed"
        self.packet: codec.Packet | None = None  # waiting for its records' answers
        self.token = 0  # which packet an answer belongs to (a late one is ignored)
        self.left = 0  # records of the packet not answered yet
        self.failed = False
        self.heard = True  # since the last look for silent connections
        self.silent_since = 0.0  # loop time of the first look that found it silent
        self.paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # (uvloop's is not a subclass)
        self.server.connections.add(self)
        self.server.accepted_connections += 1
        self.server._sweep_soon()

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = "closed"
        self.server.connections.discard(self)
        self.server.waiting.pop(self, None)
        self.packet = None

    def data_received(self, data: bytes) -> None:
        if self.state == "closed":
            return
        self.heard = True
        self.buffer += data
        try:
            self.process()
        except Refused:
            self.close()

    def eof_received(self) -> bool:
        return False  # close: a half-closed device sends nothing more

    def close(self) -> None:
        if self.state != "closed":
            self.state = "closed"
            self.server.connections.discard(self)
            self.server.waiting.pop(self, None)
            if self.transport is not None:
                self.transport.close()

    def idle(self, now: float) -> bool:
        """For the sweep: silent for idle_s (not counting a wait for its answer)? Each
        arrival only sets a flag; the sweep notes when it first found the flag unset."""
        if self.heard or self.packet is not None or self.state == "lookup":
            self.heard, self.silent_since = False, now
            return False
        return now - self.silent_since >= self.server.idle_s

    def process(self) -> None:
        """Take every whole frame the buffer holds, while no packet waits for its answer."""
        buffer = self.buffer
        while self.packet is None and self.state != "closed":
            if self.state == "handshake":
                if not self._handshake():
                    break
            elif self.state == "data":
                if not self._packet():
                    break
            else:  # "lookup": wait for it
                break
        if len(buffer) > MAX_BUFFERED and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        elif self.paused and len(buffer) <= MAX_BUFFERED and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()

    def _handshake(self) -> bool:
        buffer = self.buffer
        if len(buffer) < 2:
            return False
        size = int.from_bytes(buffer[:2], "big")
        if not 0 < size <= codec.MAX_IMEI_BYTES:
            raise _refuse(Rejected("malformed_packet", "IMEI length"))
        if len(buffer) < 2 + size:
            return False
        frame = bytes(buffer[2 : 2 + size])
        del buffer[: 2 + size]
        try:
            self.imei = codec.parse_imei(frame)
        except Rejected as rejection:
            raise _refuse(rejection) from None
        self.state = "lookup"
        self.server.look_up(self, self.imei)
        return False

    def accepted(self, registered: bool) -> None:
        """The handshake's lookup answered (on the loop)."""
        if self.state != "lookup" or self.transport is None:
            return
        if not registered:
            log.warning("telemetry: Teltonika device %r refused (not registered)", self.imei)
            services.REJECTED.note(Rejected("unknown_device", self.imei))
            self.transport.write(codec.REFUSE)
            self.close()
            return
        self.transport.write(codec.ACCEPT)
        self.state = "data"
        try:
            self.process()  # a packet sent before the answer came
        except Refused:
            self.close()

    def _packet(self) -> bool:
        buffer = self.buffer
        if len(buffer) < codec.HEADER_BYTES:
            return False
        try:
            length = codec.data_length(bytes(buffer[: codec.HEADER_BYTES]))
        except Rejected as rejection:
            raise _refuse(rejection) from None
        end = codec.HEADER_BYTES + length
        if len(buffer) < end + codec.CRC_BYTES:
            return False
        data = bytes(buffer[codec.HEADER_BYTES : end])
        crc = bytes(buffer[end : end + codec.CRC_BYTES])
        del buffer[: end + codec.CRC_BYTES]
        try:
            codec.check_crc(data, crc)
            packet = codec.parse_data(data)
        except Rejected as rejection:
            services.REJECTED.note(rejection)  # not acknowledged: the device sends it again
            if rejection.reason == "bad_crc":
                return True
            raise Refused(rejection.reason) from None
        self.packet, self.left, self.failed = packet, packet.count, False
        self.token += 1
        self.server.submit(self, packet)
        return True

    def answered(
        self, token: int, outcome: services.Outcome | None, error: Exception | None
    ) -> None:
        """One record's outcome (on the loop); the last one answers the device: the record count
        when all of them were stored, nothing otherwise (it sends the packet again)."""
        if token != self.token or self.packet is None:
            return  # timed out already, or the device has gone
        if error is not None:
            self.failed = True  # the writer logged it once per batch
        elif isinstance(outcome, Rejected):
            services.REJECTED.note(outcome)  # (the device was retired since its handshake)
            self.failed = True
        self.left -= 1
        if self.left:
            return
        packet, self.packet = self.packet, None
        self.server.waiting.pop(self, None)
        if not self.failed and self.transport is not None:
            self.transport.write(codec.acknowledgement(packet.count))
            self.server.acknowledged += packet.count
        try:
            self.process()
        except Refused:
            self.close()

    def timed_out(self) -> None:
        """No answer in time: none is sent; the next packet is taken."""
        self.server.waiting.pop(self, None)
        self.packet = None
        self.token += 1  # its answers, if they still come, are ignored
        try:
            self.process()
        except Refused:
            self.close()


def _registered(imeis: set[str]) -> set[str]:
    """The registered, active trackers among these IMEIs (one query)."""
    return set(
        TelemetryDevice.objects.filter(device_id__in=imeis, active=True).values_list(
            "device_id", flat=True
        )
    )


# A handshake's lookup is tried again after a transient database error (a table briefly locked
# by the batch writer) before the connection is closed: closing costs the device a reconnect.
LOOKUP_RETRY_DELAYS_S = (0.05, 0.2)


def _registered_retrying(imeis: set[str]) -> set[str] | None:
    """The registered IMEIs among these, or None when the database cannot answer (the callers
    close the connections: the devices reconnect)."""
    for delay in (*LOOKUP_RETRY_DELAYS_S, None):
        try:
            return _registered(imeis)
        except Exception as error:  # noqa: BLE001 - answered by closing: it reconnects
            connection.close()
            if delay is None:
                log.error("telemetry: Teltonika handshake lookup failed: %r", error)
                return None
            log.warning("telemetry: Teltonika handshake lookup retried: %r", error)
            time.sleep(delay)
    return None


def _refuse(rejection: Rejected) -> Refused:
    services.REJECTED.note(rejection)
    return Refused(rejection.reason)


PARENT_CHECK_S = 1.0  # how often a worker looks whether its supervisor is still there


async def run(host: str, port: int, worker_of: int = 0) -> None:
    """Serve until SIGTERM or SIGINT (or, for a worker, until its supervisor `worker_of` has
    gone); then stop listening, store and answer what the writer holds, and close."""
    server = TeltonikaServer()
    listening = await server.start(host, port, reuse_port=bool(worker_of))
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)

    def orphaned() -> None:
        if os.getppid() != worker_of:
            log.warning("telemetry: Teltonika worker pid=%d: its supervisor has gone", os.getpid())
            stopped.set()
        else:
            loop.call_later(PARENT_CHECK_S, orphaned)

    if worker_of:
        loop.call_later(PARENT_CHECK_S, orphaned)
    log.info("telemetry: Teltonika receiver pid=%d on tcp://%s:%d", os.getpid(), host, port)
    try:
        await stopped.wait()
    finally:
        listening.close()
        server.stop()
        await asyncio.to_thread(server.writer.stop)
        await asyncio.sleep(0)  # the writer's last answers, delivered on the loop
        server.close_connections()
        log.info(
            "telemetry: Teltonika receiver pid=%d stopped: %d connection(s), %d record(s) "
            "acknowledged, %d stored in %d batch(es)",
            os.getpid(),
            server.accepted_connections,
            server.acknowledged,
            server.writer.messages,
            server.writer.batches,
        )


def serve(host: str, port: int, worker_of: int = 0) -> None:
    """Run the receiver until stopped (the management command), on uvloop where it is
    installed (as the OsmAnd receiver: its streams cost about half asyncio's)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        asyncio.run(run(host, port, worker_of))
    else:
        uvloop.run(run(host, port, worker_of))
