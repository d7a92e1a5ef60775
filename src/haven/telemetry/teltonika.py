"""Teltonika Codec 8 and Codec 8 Extended (FMB/FMC vehicle trackers), a pure decoder.

The framing, from Teltonika's public "Codec" description (wiki.teltonika-gps.com/view/Codec):

- handshake: 2-byte length, then the IMEI in ASCII; the server answers one byte, 0x01 to
  accept the device, 0x00 to refuse it;
- AVL data packet: 4 zero bytes (preamble), 4-byte data field length, codec id (0x08 or 0x8E),
  record count, the records, the record count again, a 4-byte CRC-16/IBM of the data field
  (codec id .. second count); the server acknowledges with the record count as 4 bytes;
- a record: 8-byte time (ms since the epoch), priority (0 low, 1 high, 2 panic), GPS element
  (longitude, latitude: signed 1e-7 degrees; altitude m; angle deg; satellites; speed km/h),
  IO element: event IO id, total count, then groups of 1-, 2-, 4- and 8-byte values; Codec 8E
  uses 2-byte ids and counts and adds a group of variable-length values.

No Django here: bytes in, :class:`Packet` of :class:`protocols.Message` out, or :class:`Rejected`.
IO elements are kept as attributes ("io<id>", as Traccar names unknown ones); the ones that
drive events are named: 239 ignition, 240 movement ("motion"), 66 external voltage ("power", V).
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass
from typing import Any

from .protocols import Message, OsmAndOptions, Rejected, finish_message

PROTOCOL = "teltonika"
CODEC_8 = 0x08
CODEC_8E = 0x8E
HEADER_BYTES = 8  # preamble + data field length
CRC_BYTES = 4
MAX_DATA_BYTES = 64 * 1024  # an FMB packet is at most a few KiB; refuse anything absurd
MAX_IMEI_BYTES = 32
ACCEPT = b"\x01"
REFUSE = b"\x00"
PANIC_PRIORITY = 2

# IO ids read into named attributes (value → attribute value). The rest stay "io<id>".
IGNITION_IO = 239
MOVEMENT_IO = 240
EXTERNAL_VOLTAGE_IO = 66
BATTERY_VOLTAGE_IO = 67


class Reader:
    """A cursor over a byte string; running past the end is a malformed packet."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def take(self, count: int) -> bytes:
        end = self.offset + count
        if end > len(self.data):
            raise Rejected("malformed_packet", f"truncated at byte {self.offset}")
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk

    def unsigned(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def unpack(self, layout: struct.Struct) -> tuple[Any, ...]:
        """Several fixed-width fields in one call (a record's GPS element: one unpack instead
        of eight takes)."""
        end = self.offset + layout.size
        if end > len(self.data):
            raise Rejected("malformed_packet", f"truncated at byte {self.offset}")
        values = layout.unpack_from(self.data, self.offset)
        self.offset = end
        return values

    def signed(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big", signed=True)


def _crc_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC_TABLE = _crc_table()


def _crc_pair_table() -> tuple[int, ...]:
    """The register after two bytes, by (register XOR the two bytes as a little-endian
    16-bit word): for a 16-bit reflected CRC that value alone decides it. 65,536 entries."""
    table = _CRC_TABLE
    pairs = []
    for x in range(0x10000):
        low = table[x & 0xFF]
        pairs.append((low >> 8) ^ table[((x >> 8) ^ low) & 0xFF])
    return tuple(pairs)


_CRC_PAIRS = _crc_pair_table()
_WORDS = struct.Struct("<H")


def crc16_ibm(data: bytes) -> int:
    """CRC-16/IBM (also called CRC-16/ARC): polynomial 0x8005 reflected (0xA001), initial 0.
    Two bytes at a time from a table (per byte costs twice as much; a bit at a time ~10x),
    for every packet."""
    crc = 0
    pairs = _CRC_PAIRS
    even = len(data) & ~1
    for (word,) in _WORDS.iter_unpack(data[:even]):
        crc = pairs[crc ^ word]
    if even != len(data):
        crc = (crc >> 8) ^ _CRC_TABLE[(crc ^ data[-1]) & 0xFF]
    return crc


def parse_imei(frame: bytes) -> str:
    """The IMEI of a handshake frame (the 2-byte length already read off, `frame` its body)."""
    try:
        imei = frame.decode("ascii")
    except UnicodeDecodeError as error:
        raise Rejected("malformed_packet", "IMEI is not ASCII") from error
    if not imei.isdigit():
        raise Rejected("missing_device_id", "IMEI is not digits")
    return imei


@dataclass
class IoElement:
    event_io: int
    values: dict[int, int | bytes]


@dataclass
class Record:
    time: dt.datetime
    priority: int
    lon: float
    lat: float
    altitude: int
    angle: int
    satellites: int
    speed_kmh: int
    io: IoElement


@dataclass
class Packet:
    codec: int
    records: list[Record]

    @property
    def count(self) -> int:
        return len(self.records)


def data_length(header: bytes) -> int:
    """The data field length from the 8-byte header; refuses a wrong preamble or size."""
    if len(header) != HEADER_BYTES or header[:4] != b"\x00\x00\x00\x00":
        raise Rejected("malformed_packet", "no preamble")
    length = int.from_bytes(header[4:], "big")
    if not 3 <= length <= MAX_DATA_BYTES:
        raise Rejected("malformed_packet", f"data length {length}")
    return length


def check_crc(data: bytes, crc_field: bytes) -> None:
    if int.from_bytes(crc_field, "big") != crc16_ibm(data):
        raise Rejected("bad_crc")


def parse_packet(packet: bytes) -> Packet:
    """A whole AVL data packet (header, data field, CRC)."""
    length = data_length(packet[:HEADER_BYTES])
    if len(packet) != HEADER_BYTES + length + CRC_BYTES:
        raise Rejected("malformed_packet", "length does not match the data field length")
    data = packet[HEADER_BYTES : HEADER_BYTES + length]
    check_crc(data, packet[HEADER_BYTES + length :])
    return parse_data(data)


def parse_data(data: bytes) -> Packet:
    """The data field (codec id .. second record count), its CRC already checked."""
    reader = Reader(data)
    codec = reader.unsigned(1)
    if codec not in (CODEC_8, CODEC_8E):
        raise Rejected("unsupported_codec", hex(codec))
    count = reader.unsigned(1)
    records = [_record(reader, codec) for _ in range(count)]
    if reader.unsigned(1) != count or reader.offset != len(data):
        raise Rejected("malformed_packet", "record counts or length disagree")
    return Packet(codec, records)


# Timestamp (ms), priority, then the GPS element: longitude, latitude (1e-7 degrees, signed),
# altitude (signed), angle, satellites, speed; big-endian, 24 bytes.
_RECORD_HEAD = struct.Struct(">QBiihHBH")


def _record(reader: Reader, codec: int) -> Record:
    millis, priority, lon, lat, altitude, angle, satellites, speed = reader.unpack(_RECORD_HEAD)
    try:
        time = dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise Rejected("bad_timestamp", str(millis)) from error
    return Record(
        time, priority, lon / 1e7, lat / 1e7, altitude, angle, satellites, speed, _io(reader, codec)
    )


# Per codec: the IO element's head (event IO id, total count), a group's count, and an
# (id, value) pair of each fixed width (1, 2, 4, 8 bytes): one unpack per value instead of two
# slices and two int.from_bytes (the IO element is most of a record's bytes).
_IO_HEAD = {CODEC_8: struct.Struct(">BB"), CODEC_8E: struct.Struct(">HH")}
_IO_COUNT = {CODEC_8: struct.Struct(">B"), CODEC_8E: struct.Struct(">H")}
_IO_PAIRS = {
    codec: tuple(struct.Struct(f">{id_format}{value_format}") for value_format in "BHIQ")
    for codec, id_format in ((CODEC_8, "B"), (CODEC_8E, "H"))
}


def _io(reader: Reader, codec: int) -> IoElement:
    data, offset = reader.data, reader.offset
    head, count = _IO_HEAD[codec], _IO_COUNT[codec]
    values: dict[int, int | bytes] = {}
    try:
        event_io, total = head.unpack_from(data, offset)
        offset += head.size
        for pair in _IO_PAIRS[codec]:
            (entries,) = count.unpack_from(data, offset)
            offset += count.size
            for _ in range(entries):
                io_id, value = pair.unpack_from(data, offset)
                offset += pair.size
                values[io_id] = value
    except struct.error:
        raise Rejected("malformed_packet", f"truncated at byte {offset}") from None
    reader.offset = offset
    if codec == CODEC_8E:
        for _ in range(reader.unsigned(2)):
            io_id = reader.unsigned(2)
            values[io_id] = reader.take(reader.unsigned(2))
    if len(values) != total:
        raise Rejected("malformed_packet", f"IO count {len(values)} != {total}")
    return IoElement(event_io, values)


def io_attributes(io: IoElement) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    for io_id, value in io.values.items():
        if isinstance(value, bytes):
            attributes[f"io{io_id}"] = value.hex()
        elif io_id == IGNITION_IO:
            attributes["ignition"] = value == 1
        elif io_id == MOVEMENT_IO:
            attributes["motion"] = value == 1
        elif io_id == EXTERNAL_VOLTAGE_IO:
            attributes["power"] = value / 1000  # mV → V
        elif io_id == BATTERY_VOLTAGE_IO:
            attributes["batteryVoltage"] = value / 1000
        else:
            attributes[f"io{io_id}"] = value
    return attributes


def record_message(imei: str, record: Record, options: OsmAndOptions) -> Message:
    """One record as the Message every receiver stores. No satellites and a zero position is
    "no fix" (the device sends its last IO state without GPS); a panic record is an SOS."""
    message = Message(device_id=imei[:80], protocol=PROTOCOL, fix_time=record.time)
    if record.satellites or record.lat or record.lon:
        message.lat, message.lon = record.lat, record.lon
        message.valid = record.satellites > 0
        message.altitude = float(record.altitude)
        message.course = float(record.angle)
        message.speed_mps = record.speed_kmh / 3.6
    message.attributes = io_attributes(record.io)
    message.attributes["sat"] = record.satellites
    message.attributes["priority"] = record.priority
    if record.io.event_io:
        message.event = str(record.io.event_io)
    if record.priority == PANIC_PRIORITY:
        message.alarms = ("sos",)
    # The device waits for the acknowledgement before sending more: never refuse it for
    # flooding (a refusal would be acknowledged, and the records lost).
    message.back_pressure = True
    finish_message(message, options)
    return message


def acknowledgement(count: int) -> bytes:
    return struct.pack(">I", count)


def encode_packet(codec: int, records: list[bytes]) -> bytes:
    """Frame encoded records as a device does (for tests, the bench and replaying recordings)."""
    data = bytes([codec, len(records)]) + b"".join(records) + bytes([len(records)])
    crc = crc16_ibm(data)
    return b"\x00\x00\x00\x00" + struct.pack(">I", len(data)) + data + struct.pack(">I", crc)


def encode_record(
    codec: int,
    time: dt.datetime,
    *,
    lat: float,
    lon: float,
    io: dict[int, int],
    event_io: int = 0,
    priority: int = 0,
    satellites: int = 8,
    speed_kmh: int = 0,
) -> bytes:
    """One record with 1-byte IO values (enough for ignition, movement; 2-byte for voltage)."""
    size = 2 if codec == CODEC_8E else 1
    head = struct.pack(
        ">QBiihHBH",
        int(time.timestamp() * 1000),
        priority,
        round(lon * 1e7),
        round(lat * 1e7),
        0,
        0,
        satellites,
        speed_kmh,
    )
    groups: dict[int, list[tuple[int, int]]] = {1: [], 2: [], 4: [], 8: []}
    for io_id, value in io.items():
        width = 1 if value < 0x100 else 2 if value < 0x10000 else 4
        groups[width].append((io_id, value))
    body = event_io.to_bytes(size, "big") + len(io).to_bytes(size, "big")
    for width, entries in groups.items():
        body += len(entries).to_bytes(size, "big")
        for io_id, value in entries:
            body += io_id.to_bytes(size, "big") + value.to_bytes(width, "big")
    if codec == CODEC_8E:
        body += b"\x00\x00"  # no variable-length values
    return head + body
