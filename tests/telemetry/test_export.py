"""Evidential export: a device's positions and events as CSV, GPX, KML and a PDF route; each
file parses back, and its SHA-256 and recipient are in the ledger as a disclosure."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import xml.etree.ElementTree as ET
import zlib

import pytest
from django.test import Client
from django.utils import timezone

from haven.accounts import services as accounts
from haven.accounts.roles import Role
from haven.audit.models import LedgerEntry
from haven.telemetry import services
from haven.telemetry.exports import GPX_NS, KML_NS
from haven.telemetry.protocols import Message
from tests.factories import UserFactory, force_sign_in

from .helpers import make_device

pytestmark = pytest.mark.django_db
START = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)


@pytest.fixture
def tracked():
    device = make_device(device_id="exp-1", name="Blue van")
    for minute, lat in ((0, 54.60), (5, 54.61), (10, 54.62)):
        services.ingest(
            Message(
                device_id="exp-1",
                protocol="teltonika",
                fix_time=START + dt.timedelta(minutes=minute),
                lat=lat,
                lon=-5.93,
                altitude=20.0,
                speed_mps=10.0,
            )
        )
    services.ingest(
        Message(
            device_id="exp-1",
            protocol="teltonika",
            fix_time=START + dt.timedelta(minutes=10),
            lat=54.62,
            lon=-5.93,
            alarms=("sos",),
        )
    )
    return device


def export(client: Client, device, fmt: str, recipient: str = "CPS file 2026/77"):
    return client.post(
        f"/operations/alerts/devices/{device.pk}/export/",
        {
            "fmt": fmt,
            "start": (START - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
            "end": (START + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "recipient": recipient,
        },
    )


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF's objects, its compressed object streams inflated (WeasyPrint writes PDF 1.7)."""
    inflated = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            inflated.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue  # not Flate (an image, a font): nothing to read in it
    return b"\n".join([pdf, *inflated])


def disclosed(content: bytes) -> LedgerEntry:
    digest = hashlib.sha256(content).hexdigest()
    entry = LedgerEntry.objects.get(action="disclosure", details__sha256=digest)
    assert "sealed" in entry.details  # the recipient: free text, sealed by the ledger
    return entry


def test_csv_gpx_kml_and_pdf_parse_back_and_each_is_a_ledgered_disclosure(tracked):
    client = force_sign_in(Client(), UserFactory(roles=[Role.TECHNICAL_SUPERVISOR]))

    response = export(client, tracked, "csv")
    assert response["X-Haven-SHA256"] == hashlib.sha256(response.content).hexdigest()
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["record"] for r in rows].count("position") == 3
    assert [r["event"] for r in rows if r["record"] == "event"] == ["Alarm"]
    assert disclosed(response.content).details["format"] == "csv"

    gpx = ET.fromstring(export(client, tracked, "gpx").content)  # noqa: S314 - our own output
    points = gpx.findall(f".//{{{GPX_NS}}}trkpt")
    assert [p.get("lat") for p in points] == ["54.6", "54.61", "54.62"]
    assert gpx.find(f"{{{GPX_NS}}}wpt/{{{GPX_NS}}}name").text == "Alarm"  # type: ignore[union-attr]

    response = export(client, tracked, "kml")
    kml = ET.fromstring(response.content)  # noqa: S314
    line = kml.find(f".//{{{KML_NS}}}LineString/{{{KML_NS}}}coordinates")
    assert line is not None and line.text.split()[0] == "-5.93,54.6,20"  # type: ignore[union-attr]
    disclosed(response.content)

    response = export(client, tracked, "pdf")
    assert response.content.startswith(b"%PDF") and response["Content-Type"] == "application/pdf"
    objects = pdf_objects(response.content)
    assert len(re.findall(rb"/Type\s*/Page\b", objects)) >= 1
    assert b"(Route of Blue van \\(exp-1\\)" in objects  # the document's title
    assert disclosed(response.content).details["format"] == "pdf"


def test_the_recipient_is_required(tracked):
    client = force_sign_in(Client(), UserFactory(roles=[Role.TECHNICAL_SUPERVISOR]))
    response = export(client, tracked, "csv", recipient="")
    assert response.status_code == 400 and b"Enter recipient" in response.content
    assert not LedgerEntry.objects.filter(action="disclosure").exists()


def test_no_export_of_a_protected_persons_alarm_by_an_officer_it_never_reached():
    alarm = make_device(device_id="exp-2", protects_person=True, kind="panic_alarm")
    officer = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    assert export(force_sign_in(Client(), officer), alarm, "csv").status_code == 404
    _, secret = accounts.issue_api_token(officer, "t", modules=officer.modules, can_write=True)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = {
        "format": "gpx",
        "start": START.isoformat(),
        "end": timezone.now().isoformat(),
        "recipient": "x",
    }
    url = f"/api/telemetry/devices/{alarm.pk}/export"
    assert api.post(url, body, "application/json").status_code == 404


def test_the_api_exports_with_the_hash_and_refuses_a_blank_recipient(tracked):
    boss = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    _, secret = accounts.issue_api_token(boss, "t", modules=boss.modules, can_write=True)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    url = f"/api/telemetry/devices/{tracked.pk}/export"
    body = {"format": "kml", "start": START.isoformat(), "end": timezone.now().isoformat()}
    response = api.post(url, {**body, "recipient": "Defence disclosure"}, "application/json")
    assert response.status_code == 200
    assert response["X-Haven-SHA256"] == disclosed(response.content).details["sha256"]
    refused = api.post(url, {**body, "recipient": " "}, "application/json")
    assert refused.status_code == 422 and refused["Content-Type"] == "application/problem+json"
