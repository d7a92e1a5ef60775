"""Evidential exports of a device's track (pure: rows in, file bytes out).

CSV through haven.csvfiles (formulas neutralised), GPX 1.1 and KML 2.2 written with ElementTree
(two small, fixed vocabularies: a dependency would add nothing), and a printable PDF route
(WeasyPrint, an HTML template with the route drawn as SVG). The selector that reads the rows
records the SHA-256 of the bytes made here in the ledger as a disclosure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import xml.etree.ElementTree as ET  # noqa: S405 - we write XML here, never parse untrusted input
from collections.abc import Sequence
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone

from haven import csvfiles

GPX_NS = "http://www.topografix.com/GPX/1/1"
KML_NS = "http://www.opengis.net/kml/2.2"
FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "gpx": ("application/gpx+xml", "gpx"),
    "kml": ("application/vnd.google-earth.kml+xml", "kml"),
    "pdf": ("application/pdf", "pdf"),
}


@dataclass(frozen=True)
class TrackPoint:
    time: dt.datetime
    lat: float
    lon: float
    altitude: float | None
    speed_mps: float | None
    course: float | None
    accuracy: float | None
    valid: bool


@dataclass(frozen=True)
class TrackEvent:
    time: dt.datetime
    type: str
    label: str
    key: str
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class Track:
    device_id: str
    device_name: str
    start: dt.datetime
    end: dt.datetime
    points: Sequence[TrackPoint]
    events: Sequence[TrackEvent]


@dataclass(frozen=True)
class Export:
    filename: str
    content_type: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.7f}".rstrip("0").rstrip(".")


CSV_HEADER = [
    "record",
    "time_utc",
    "latitude",
    "longitude",
    "altitude_m",
    "speed_kmh",
    "course_deg",
    "accuracy_m",
    "valid_fix",
    "event",
    "detail",
]


def track_csv(track: Track) -> bytes:
    rows: list[list[object]] = [
        [
            "position",
            _iso(p.time),
            _number(p.lat),
            _number(p.lon),
            _number(p.altitude),
            "" if p.speed_mps is None else round(p.speed_mps * 3.6, 1),
            _number(p.course),
            _number(p.accuracy),
            "yes" if p.valid else "no",
            "",
            "",
        ]
        for p in track.points
    ]
    rows += [
        ["event", _iso(e.time), _number(e.lat), _number(e.lon), "", "", "", "", "", e.label, e.key]
        for e in track.events
    ]
    rows.sort(key=lambda row: str(row[1]))
    return csvfiles.csv_bytes(CSV_HEADER, rows)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _title(track: Track) -> str:
    return f"{track.device_name} ({track.device_id}) {_iso(track.start)} to {_iso(track.end)}"


def track_gpx(track: Track) -> bytes:
    """GPX 1.1: events as waypoints (where they had a position), the fixes as one segment."""
    ET.register_namespace("", GPX_NS)
    root = ET.Element(f"{{{GPX_NS}}}gpx", {"version": "1.1", "creator": "Haven"})
    metadata = _sub(root, f"{{{GPX_NS}}}metadata")
    _sub(metadata, f"{{{GPX_NS}}}name", _title(track))
    _sub(metadata, f"{{{GPX_NS}}}time", _iso(timezone.now()))
    for event in track.events:
        if event.lat is None or event.lon is None:
            continue
        point = _sub(root, f"{{{GPX_NS}}}wpt", lat=_number(event.lat), lon=_number(event.lon))
        _sub(point, f"{{{GPX_NS}}}time", _iso(event.time))
        _sub(point, f"{{{GPX_NS}}}name", event.label)
        _sub(point, f"{{{GPX_NS}}}type", event.type)
    trk = _sub(root, f"{{{GPX_NS}}}trk")
    _sub(trk, f"{{{GPX_NS}}}name", track.device_name)
    segment = _sub(trk, f"{{{GPX_NS}}}trkseg")
    for fix in track.points:
        point = _sub(segment, f"{{{GPX_NS}}}trkpt", lat=_number(fix.lat), lon=_number(fix.lon))
        if fix.altitude is not None:
            _sub(point, f"{{{GPX_NS}}}ele", _number(fix.altitude))
        _sub(point, f"{{{GPX_NS}}}time", _iso(fix.time))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def track_kml(track: Track) -> bytes:
    """KML 2.2: the route as a LineString, each fix and event as a time-stamped Point."""
    ET.register_namespace("", KML_NS)
    root = ET.Element(f"{{{KML_NS}}}kml")
    document = _sub(root, f"{{{KML_NS}}}Document")
    _sub(document, f"{{{KML_NS}}}name", _title(track))
    route = _sub(document, f"{{{KML_NS}}}Placemark")
    _sub(route, f"{{{KML_NS}}}name", f"Route of {track.device_name}")
    line = _sub(route, f"{{{KML_NS}}}LineString")
    _sub(line, f"{{{KML_NS}}}tessellate", "1")
    _sub(
        line,
        f"{{{KML_NS}}}coordinates",
        " ".join(
            f"{_number(p.lon)},{_number(p.lat)},{_number(p.altitude) or 0}" for p in track.points
        ),
    )
    fixes = _sub(document, f"{{{KML_NS}}}Folder")
    _sub(fixes, f"{{{KML_NS}}}name", "Fixes")
    for fix in track.points:
        _point(fixes, _iso(fix.time), fix.time, fix.lat, fix.lon)
    events = _sub(document, f"{{{KML_NS}}}Folder")
    _sub(events, f"{{{KML_NS}}}name", "Events")
    for event in track.events:
        if event.lat is not None and event.lon is not None:
            _point(events, event.label, event.time, event.lat, event.lon)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _point(parent: ET.Element, name: str, when: dt.datetime, lat: float, lon: float) -> None:
    placemark = _sub(parent, f"{{{KML_NS}}}Placemark")
    _sub(placemark, f"{{{KML_NS}}}name", name)
    stamp = _sub(placemark, f"{{{KML_NS}}}TimeStamp")
    _sub(stamp, f"{{{KML_NS}}}when", _iso(when))
    point = _sub(placemark, f"{{{KML_NS}}}Point")
    _sub(point, f"{{{KML_NS}}}coordinates", f"{_number(lon)},{_number(lat)}")


SVG_WIDTH, SVG_HEIGHT, SVG_MARGIN = 640.0, 400.0, 16.0


def route_svg_points(points: Sequence[TrackPoint]) -> str:
    """The fixes scaled into the drawing box (equirectangular, scaled by latitude: fine at the
    scale of one route), as an SVG polyline's points."""
    if not points:
        return ""
    import math

    middle = math.cos(math.radians(sum(p.lat for p in points) / len(points)))
    xs = [p.lon * middle for p in points]
    ys = [p.lat for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1e-9
    scale = min(SVG_WIDTH, SVG_HEIGHT) - 2 * SVG_MARGIN
    return " ".join(
        f"{SVG_MARGIN + (x - min(xs)) / span * scale:.1f},"
        f"{SVG_HEIGHT - SVG_MARGIN - (y - min(ys)) / span * scale:.1f}"
        for x, y in zip(xs, ys, strict=True)
    )


def track_pdf(track: Track, marking: str, recipient: str) -> bytes:
    from weasyprint import HTML

    html = render_to_string(
        "telemetry/pdf/route.html",
        {
            "track": track,
            "title": _title(track),
            "marking": marking,
            "recipient": recipient,
            "route": route_svg_points(track.points),
            "width": SVG_WIDTH,
            "height": SVG_HEIGHT,
            "generated_at": timezone.localtime(),
        },
    )
    return HTML(string=html).write_pdf()  # type: ignore[no-any-return]


def render(track: Track, fmt: str, marking: str, recipient: str) -> Export:
    content_type, extension = FORMATS[fmt]
    if fmt == "csv":
        content = track_csv(track)
    elif fmt == "gpx":
        content = track_gpx(track)
    elif fmt == "kml":
        content = track_kml(track)
    else:
        content = track_pdf(track, marking, recipient)
    stamp = track.start.astimezone(dt.UTC).strftime("%Y%m%dT%H%M")
    return Export(f"track-{track.device_id}-{stamp}.{extension}", content_type, content)
