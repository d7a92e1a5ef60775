"""Teltonika Codec 8 / 8E: the published examples of Teltonika's "Codec" page
(wiki.teltonika-gps.com/view/Codec) decode and check their CRCs; IO elements become ignition,
power-cut and tow events; and the TCP receiver, over a real socket, answers the IMEI handshake,
acknowledges a packet with its record count only once stored, and stores nothing of a packet
whose CRC is wrong."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
from collections.abc import Iterator

import pytest
from django.db import OperationalError
from django.utils import timezone

from haven.telemetry import services, teltonika
from haven.telemetry.batching import BatchWriter
from haven.telemetry.models import Alert, Event, EventType, Position
from haven.telemetry.protocols import OsmAndOptions, Rejected
from haven.telemetry.teltonika_server import TeltonikaServer

from .helpers import make_device

# The published examples, byte for byte.
CODEC8_FIRST = (
    "000000000000003608010000016B40D8EA30010000000000000000000000000000000105021503010101425E0F01"
    "F10000601A014E0000000000000000010000C7CF"
)
CODEC8_SECOND = (
    "000000000000002808010000016B40D9AD80010000000000000000000000000000000103021503010101425E1000"
    "00010000F22A"
)
CODEC8_TWO_RECORDS = (
    "000000000000004308020000016B40D57B480100000000000000000000000000000001010101000000000000016B"
    "40D5C198010000000000000000000000000000000101010101000000020000252C"
)
CODEC8E_FIRST = (
    "000000000000004A8E010000016B412CEE000100000000000000000000000000000000010005000100010100010011"
    "001D00010010015E2C880002000B000000003544C87A000E000000001DD7E06A00000100002994"
)
IMEI_FRAME = "000F333536333037303432343431303133"  # the page's handshake: IMEI 356307042441013


def test_the_published_packets_decode_and_their_crcs_check() -> None:
    first = teltonika.parse_packet(bytes.fromhex(CODEC8_FIRST))
    assert (first.codec, first.count) == (teltonika.CODEC_8, 1)
    record = first.records[0]
    assert record.time == dt.datetime(2019, 6, 10, 10, 4, 46, tzinfo=dt.UTC)
    assert (record.priority, record.satellites, record.io.event_io) == (1, 0, 1)
    assert record.io.values == {21: 3, 1: 1, 66: 24079, 241: 24602, 78: 0}
    assert teltonika.parse_packet(bytes.fromhex(CODEC8_SECOND)).records[0].io.values == {
        21: 3,
        1: 1,
        66: 24080,
    }
    two = teltonika.parse_packet(bytes.fromhex(CODEC8_TWO_RECORDS))
    assert [r.io.values for r in two.records] == [{1: 0}, {1: 1}]
    extended = teltonika.parse_packet(bytes.fromhex(CODEC8E_FIRST))
    assert (extended.codec, extended.count) == (teltonika.CODEC_8E, 1)
    assert extended.records[0].io.values == {
        1: 1,
        17: 29,
        16: 22949000,
        11: 893700218,
        14: 500686954,
    }
    assert teltonika.crc16_ibm(bytes.fromhex(CODEC8_FIRST)[8:-4]) == 0xC7CF
    assert teltonika.crc16_ibm(bytes.fromhex(CODEC8E_FIRST)[8:-4]) == 0x2994
    assert teltonika.parse_imei(bytes.fromhex(IMEI_FRAME)[2:]) == "356307042441013"


def test_a_changed_byte_fails_the_crc_and_a_short_packet_is_malformed() -> None:
    packet = bytearray.fromhex(CODEC8_FIRST)
    packet[20] ^= 0x01
    with pytest.raises(Rejected) as crc:
        teltonika.parse_packet(bytes(packet))
    assert crc.value.reason == "bad_crc"
    with pytest.raises(Rejected) as short:
        teltonika.parse_packet(bytes.fromhex(CODEC8_FIRST)[:-6])
    assert short.value.reason == "malformed_packet"


def test_the_crc_matches_the_bitwise_definition_for_odd_and_even_lengths() -> None:
    def bitwise(data: bytes) -> int:
        crc = 0
        for byte in data:
            crc ^= byte
            for _ in range(8):
                crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        return crc

    assert teltonika.crc16_ibm(b"123456789") == 0xBB3D  # CRC-16/ARC's check value
    data = bytes.fromhex(CODEC8E_FIRST)
    assert [teltonika.crc16_ibm(data[:n]) for n in range(len(data))] == [
        bitwise(data[:n]) for n in range(len(data))
    ]


@pytest.mark.parametrize("example", [CODEC8_FIRST, CODEC8_TWO_RECORDS, CODEC8E_FIRST])
def test_every_truncated_data_field_is_malformed(example: str) -> None:
    data = bytes.fromhex(example)[teltonika.HEADER_BYTES : -teltonika.CRC_BYTES]
    for end in range(len(data)):
        with pytest.raises(Rejected) as cut:
            teltonika.parse_data(data[:end])
        assert cut.value.reason in ("malformed_packet", "unsupported_codec"), end


def test_our_encoder_round_trips_both_codecs() -> None:
    at = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    for codec in (teltonika.CODEC_8, teltonika.CODEC_8E):
        record = teltonika.encode_record(
            codec, at, lat=54.6, lon=-5.93, io={239: 1, 240: 0, 66: 12600}, priority=2
        )
        [decoded] = teltonika.parse_packet(teltonika.encode_packet(codec, [record])).records
        options = OsmAndOptions(now=at + dt.timedelta(seconds=5))
        message = teltonika.record_message("123456789012345", decoded, options)
        assert (message.lat, message.lon, message.fix_time) == (54.6, -5.93, at)
        assert message.attributes["ignition"] is True and message.attributes["power"] == 12.6
        assert message.alarms == ("sos",)  # priority 2: panic


def test_the_receiver_reads_the_future_tolerance_again_on_its_next_sweep(settings) -> None:
    server = TeltonikaServer(BatchWriter(store=lambda messages, received_at: []))
    assert server.future_tolerance_s == 600
    settings.HAVEN_TELEMETRY = {"future_tolerance_s": 5}
    server.loop = asyncio.new_event_loop()
    try:
        server._sweep()
    finally:
        server.loop.close()
        server.stop()
    assert server.future_tolerance_s == 5


def _ingest(device_id: str, at: dt.datetime, io: dict[int, int]) -> list[str]:
    record = teltonika.encode_record(teltonika.CODEC_8, at, lat=54.6, lon=-5.93, io=io)
    [decoded] = teltonika.parse_packet(teltonika.encode_packet(teltonika.CODEC_8, [record])).records
    message = teltonika.record_message(device_id, decoded, OsmAndOptions(now=timezone.now()))
    return [event.type for event in services.ingest(message).events]


@pytest.mark.django_db
def test_ignition_power_cut_and_tow_events_on_change_only() -> None:
    device = make_device(device_id="350000000000001")
    start = timezone.now() - dt.timedelta(minutes=10)

    def at(minute: int) -> dt.datetime:
        return start + dt.timedelta(minutes=minute)

    assert _ingest(device.device_id, at(0), {239: 1, 240: 1, 66: 12600}) == []  # first: no change
    assert _ingest(device.device_id, at(1), {239: 0, 240: 0, 66: 12500}) == [EventType.IGNITION_OFF]
    assert _ingest(device.device_id, at(2), {239: 0, 240: 1, 66: 12500}) == [EventType.TOW]
    assert _ingest(device.device_id, at(3), {239: 0, 240: 1, 66: 12500}) == []  # same episode
    assert _ingest(device.device_id, at(4), {239: 0, 240: 1, 66: 0}) == [EventType.POWER_CUT]
    assert _ingest(device.device_id, at(5), {239: 1, 240: 1, 66: 12400}) == [EventType.IGNITION_ON]
    titles = sorted(Alert.objects.values_list("title", flat=True))
    assert [title.split(" – ")[0] for title in titles] == [
        "External power cut",
        "Moved with ignition off",
    ]


@pytest.mark.django_db
def test_a_silent_teltonika_tracker_goes_offline_on_the_scheduled_sweep(settings) -> None:
    settings.HAVEN_TELEMETRY = {"offline_after_s": 300}
    device = make_device(device_id="350000000000002")
    _ingest(device.device_id, timezone.now(), {239: 1})
    assert services.check_offline(timezone.now() + dt.timedelta(seconds=200)) == []
    [alert] = services.check_offline(timezone.now() + dt.timedelta(seconds=400))
    assert alert.event.type == EventType.OFFLINE


# ------------------------------------------------------------------------------ over TCP


class Front:
    """The receiver on a loopback port, its event loop in a thread."""

    def __init__(self, server: TeltonikaServer | None = None) -> None:
        self.server = server or TeltonikaServer(BatchWriter())
        self.loop = asyncio.new_event_loop()
        self.listening: asyncio.Server | None = None
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)
        assert self.listening is not None
        self.port = int(self.listening.sockets[0].getsockname()[1])

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.listening = self.loop.run_until_complete(self.server.start("127.0.0.1", 0))
        ready.set()
        self.loop.run_forever()

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def stop(self) -> None:
        assert self.listening is not None
        self.loop.call_soon_threadsafe(self.listening.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.server.writer.stop()


@pytest.fixture
def front() -> Iterator[Front]:
    server = Front()
    yield server
    server.stop()


def handshake(sock: socket.socket, imei: str) -> bytes:
    sock.sendall(len(imei).to_bytes(2, "big") + imei.encode())
    return sock.recv(1)


def receive_exactly(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.django_db(transaction=True)
def test_handshake_packet_ack_and_a_bad_crc_stores_nothing(resettable_ledger, front: Front):
    make_device(device_id="356307042441013")
    now = timezone.now().replace(microsecond=0)
    records = [
        teltonika.encode_record(
            teltonika.CODEC_8E, now - dt.timedelta(seconds=s), lat=54.6, lon=-5.9, io={239: 1}
        )
        for s in (30, 20, 10)
    ]
    good = teltonika.encode_packet(teltonika.CODEC_8E, records)
    bad = bytearray(teltonika.encode_packet(teltonika.CODEC_8E, [records[0]]))
    bad[-1] ^= 0xFF
    with front.connect() as sock:
        assert handshake(sock, "356307042441013") == teltonika.ACCEPT
        sock.sendall(bytes(bad))
        sock.sendall(good)  # the answer that comes is the good packet's, not the bad one's
        assert receive_exactly(sock, 4) == (3).to_bytes(4, "big")
    assert Position.objects.filter(device__device_id="356307042441013").count() == 3
    assert services.REJECTED["bad_crc"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_bad_crc_alone_is_not_acknowledged_and_not_stored(resettable_ledger, front: Front):
    make_device(device_id="356307042441014")
    record = teltonika.encode_record(
        teltonika.CODEC_8, timezone.now(), lat=54.6, lon=-5.9, io={}, priority=2
    )
    bad = bytearray(teltonika.encode_packet(teltonika.CODEC_8, [record]))
    bad[-2] ^= 0x01
    with front.connect() as sock:
        assert handshake(sock, "356307042441014") == teltonika.ACCEPT
        sock.sendall(bytes(bad))
        sock.settimeout(0.5)  # a bounded wait for an answer that must not come
        with pytest.raises(TimeoutError):
            sock.recv(4)
    assert not Position.objects.exists() and not Alert.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_unknown_imei_is_refused_with_zero(resettable_ledger, front: Front):
    with front.connect() as sock:
        assert handshake(sock, "999999999999999") == teltonika.REFUSE
        assert sock.recv(1) == b""  # and the connection closed
    assert services.REJECTED["unknown_device"] == 1


@pytest.mark.django_db(transaction=True)
def test_a_panic_record_alerts_before_it_is_acknowledged(resettable_ledger, front: Front):
    make_device(device_id="356307042441015")
    record = teltonika.encode_record(
        teltonika.CODEC_8, timezone.now(), lat=54.6, lon=-5.9, io={239: 0}, priority=2
    )
    with front.connect() as sock:
        assert handshake(sock, "356307042441015") == teltonika.ACCEPT
        sock.sendall(teltonika.encode_packet(teltonika.CODEC_8, [record]))
        assert receive_exactly(sock, 4) == (1).to_bytes(4, "big")
    event = Event.objects.get(type=EventType.ALARM)
    assert event.key == "sos" and Alert.objects.filter(event=event, severity="critical").exists()


@pytest.mark.django_db(transaction=True)
def test_frames_split_byte_by_byte_and_two_devices_at_once_are_each_acknowledged(
    resettable_ledger, front: Front
):
    """Frames are cut from whatever arrives: a handshake and a packet sent one byte at a time,
    and a packet sent before the handshake's answer, are each answered in turn."""
    imeis = ["356307042441016", "356307042441017"]
    for imei in imeis:
        make_device(device_id=imei)
    now = timezone.now().replace(microsecond=0)
    packets = [
        teltonika.encode_packet(
            teltonika.CODEC_8,
            [teltonika.encode_record(teltonika.CODEC_8, now, lat=54.6, lon=-5.9, io={239: 1})],
        )
        for _ in imeis
    ]
    slow, eager = front.connect(), front.connect()
    with slow, eager:
        hello = [len(imei).to_bytes(2, "big") + imei.encode() for imei in imeis]
        eager.sendall(hello[1] + packets[1])  # the packet before the handshake's answer
        for byte in hello[0]:
            slow.sendall(bytes([byte]))
        assert slow.recv(1) == teltonika.ACCEPT and eager.recv(1) == teltonika.ACCEPT
        for byte in packets[0]:
            slow.sendall(bytes([byte]))
        assert receive_exactly(slow, 4) == (1).to_bytes(4, "big")
        assert receive_exactly(eager, 4) == (1).to_bytes(4, "big")
    stored = Position.objects.filter(device__device_id__in=imeis)
    assert sorted(stored.values_list("device__device_id", flat=True)) == imeis


def _failing_store(messages, *, received_at):
    raise OperationalError("the database went away")


@pytest.mark.django_db(transaction=True)
def test_a_packet_whose_store_fails_is_not_acknowledged_and_the_connection_goes_on(
    resettable_ledger,
):
    make_device(device_id="356307042441018")
    front = Front(TeltonikaServer(BatchWriter(store=_failing_store)))
    try:
        record = teltonika.encode_record(
            teltonika.CODEC_8, timezone.now(), lat=54.6, lon=-5.9, io={}, priority=2
        )
        with front.connect() as sock:
            assert handshake(sock, "356307042441018") == teltonika.ACCEPT
            sock.sendall(teltonika.encode_packet(teltonika.CODEC_8, [record]))
            sock.settimeout(0.5)  # a bounded wait for an answer that must not come
            with pytest.raises(TimeoutError):
                sock.recv(4)
            front.server.writer._store = services.ingest_batch  # the database is back
            sock.settimeout(30)
            sock.sendall(teltonika.encode_packet(teltonika.CODEC_8, [record]))  # the resend
            assert receive_exactly(sock, 4) == (1).to_bytes(4, "big")
    finally:
        front.stop()
    assert Position.objects.count() == 1 and Alert.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_packet_not_answered_in_time_is_not_acknowledged_and_a_silent_device_is_dropped(
    resettable_ledger,
):
    make_device(device_id="356307042441019")
    answered = threading.Event()

    def stuck_store(messages, *, received_at):
        answered.wait(30)  # the database hangs until the test lets it go, then fails
        raise OperationalError("the database went away")

    server = TeltonikaServer(BatchWriter(store=stuck_store), wait_s=0.4)
    server.idle_s = 0.4
    front = Front(server)
    try:
        record = teltonika.encode_record(
            teltonika.CODEC_8, timezone.now(), lat=54.6, lon=-5.9, io={}
        )
        with front.connect() as sock:
            assert handshake(sock, "356307042441019") == teltonika.ACCEPT
            sock.sendall(teltonika.encode_packet(teltonika.CODEC_8, [record]))
            sock.settimeout(10)
            # No answer in time: none at all; then, silent, the connection is closed.
            assert sock.recv(4) == b""
            answered.set()
    finally:
        answered.set()
        front.stop()


def test_a_handshake_lookup_is_tried_again_after_a_transient_database_error(monkeypatch):
    """A table briefly locked by the batch writer must not cost the device a reconnect; a
    database that keeps failing still answers None (the connections are closed)."""
    from haven.telemetry import teltonika_server

    answers: list[object] = [OperationalError("database table is locked"), {"356307042441019"}]

    def registered(imeis):  # type: ignore[no-untyped-def]
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(teltonika_server, "LOOKUP_RETRY_DELAYS_S", (0.0, 0.0))
    monkeypatch.setattr(teltonika_server, "_registered", registered)
    assert teltonika_server._registered_retrying({"356307042441019"}) == {"356307042441019"}

    def locked(imeis):  # type: ignore[no-untyped-def]
        raise OperationalError("database table is locked")

    monkeypatch.setattr(teltonika_server, "_registered", locked)
    assert teltonika_server._registered_retrying({"356307042441019"}) is None
