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
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from . import services
from . import teltonika as codec
from .batching import WAIT_S, BatchWriter, StoreFailed
from .config import get_config
from .osmand import Answers
from .protocols import OsmAndOptions, Rejected

log = logging.getLogger("haven.telemetry.teltonika")
IDLE_S = 15 * 60  # a connection silent this long is closed (FMB devices reconnect)
DEFAULT_PORT = 5027  # as Traccar's teltonika port


class Refused(Exception):
    """End the connection (after counting why)."""


class TeltonikaServer:
    def __init__(self, writer: BatchWriter | None = None, wait_s: float = WAIT_S) -> None:
        self.writer = writer or BatchWriter()
        self.wait_s = wait_s
        self._answers: Answers | None = None
        self.acknowledged = 0  # records acknowledged (statistics, the bench)

    def answers(self) -> Answers:
        if self._answers is None:
            self._answers = Answers(asyncio.get_running_loop(), self.wait_s)
        return self._answers

    async def start(self, host: str, port: int) -> asyncio.Server:
        self.writer.start()  # builds the fence index while the first devices connect
        return await asyncio.start_server(self.handle, host, port, backlog=2048)

    async def handle(self, reader: asyncio.StreamReader, stream: asyncio.StreamWriter) -> None:
        try:
            imei = await self._handshake(reader, stream)
            while True:
                await self._packet(imei, reader, stream)
        except (Refused, asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            stream.close()

    async def _handshake(self, reader: asyncio.StreamReader, stream: asyncio.StreamWriter) -> str:
        size = int.from_bytes(await _read(reader, 2), "big")
        if not 0 < size <= codec.MAX_IMEI_BYTES:
            raise _refuse(Rejected("malformed_packet", "IMEI length"))
        try:
            imei = codec.parse_imei(await _read(reader, size))
        except Rejected as rejection:
            raise _refuse(rejection) from None
        if not await asyncio.to_thread(_registered, imei):
            log.warning("telemetry: Teltonika device %r refused (not registered)", imei)
            stream.write(codec.REFUSE)
            await stream.drain()
            raise _refuse(Rejected("unknown_device", imei))
        stream.write(codec.ACCEPT)
        await stream.drain()
        return imei

    async def _packet(
        self, imei: str, reader: asyncio.StreamReader, stream: asyncio.StreamWriter
    ) -> None:
        # One deadline for the whole packet (asyncio.wait_for per read costs a task each).
        async with asyncio.timeout(IDLE_S):
            try:
                length = codec.data_length(await reader.readexactly(codec.HEADER_BYTES))
            except Rejected as rejection:
                raise _refuse(rejection) from None
            rest = await reader.readexactly(length + codec.CRC_BYTES)
        data, crc = rest[:length], rest[length:]
        try:
            codec.check_crc(data, crc)
            packet = codec.parse_data(data)
        except Rejected as rejection:
            services.REJECTED.note(rejection)  # not acknowledged: the device sends it again
            if rejection.reason == "bad_crc":
                return
            raise Refused(rejection.reason) from None
        if await self._store(imei, packet):
            stream.write(codec.acknowledgement(packet.count))
            await stream.drain()
            self.acknowledged += packet.count

    async def _store(self, imei: str, packet: codec.Packet) -> bool:
        """Store every record; True once all are committed (then, and only then, ack)."""
        now = dt.datetime.now(dt.UTC)
        options = OsmAndOptions(
            now=now,
            server_zone=ZoneInfo(settings.TIME_ZONE),
            future_tolerance_s=get_config().future_tolerance_s,
        )
        messages = [codec.record_message(imei, record, options) for record in packet.records]
        answers = self.answers()
        waiters = [answers.waiter(self.writer, message, now) for message in messages]
        try:
            # One record per packet is the common case: no gather (a task per waiter) for it.
            outcomes = [await waiters[0]] if len(waiters) == 1 else await asyncio.gather(*waiters)
        except (StoreFailed, TimeoutError):  # the writer logged it once per batch
            return False
        refused = [outcome for outcome in outcomes if isinstance(outcome, Rejected)]
        for rejection in refused:  # (the device was retired since its handshake)
            services.REJECTED.note(rejection)
        return not refused


def _registered(imei: str) -> bool:
    """On a worker thread of the loop: its database connection is closed again, since the
    thread is not the batch writer's and may sit idle for hours between handshakes."""
    try:
        return services.find_device(imei) is not None
    finally:
        connection.close()


async def _read(reader: asyncio.StreamReader, count: int) -> bytes:
    async with asyncio.timeout(IDLE_S):
        return await reader.readexactly(count)


def _refuse(rejection: Rejected) -> Refused:
    services.REJECTED.note(rejection)
    return Refused(rejection.reason)


async def run(host: str, port: int) -> None:
    server = TeltonikaServer()
    listening = await server.start(host, port)
    try:
        async with listening:
            await listening.serve_forever()
    finally:
        await asyncio.to_thread(server.writer.stop)


def serve(host: str, port: int) -> None:
    """Run the receiver until interrupted (the management command), on uvloop where it is
    installed (as the OsmAnd receiver: its streams cost about half asyncio's)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        asyncio.run(run(host, port))
    else:
        uvloop.run(run(host, port))
