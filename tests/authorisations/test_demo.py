"""The demo has a Teltonika tracker on a covert deployment under an authorisation near expiry:
its reminder is in the supervisor's inbox, its track replays, and the one report from before
the authority is in quarantine (issue 19)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from haven.accounts.models import User
from haven.authorisations.models import Authorisation, QuarantinedPosition
from haven.demo.accounts import create_demo_accounts
from haven.demo.covert import DEMO_AUTHORISATION, TELTONIKA_IMEI
from haven.demo.operations import create_demo_operations
from haven.notifications.models import Notification
from haven.telemetry.models import Position, TelemetryDevice
from tests.factories import force_sign_in

pytestmark = pytest.mark.django_db


def test_demo_covert_tracker_authorisation_reminder_track_and_quarantine():
    create_demo_accounts()
    create_demo_operations()
    create_demo_operations()  # safe to run twice
    authorisation = Authorisation.objects.get(reference=DEMO_AUTHORISATION)
    assert timezone.now() < authorisation.expires_at < timezone.now() + dt.timedelta(days=7)
    tracker = TelemetryDevice.objects.get(device_id=TELTONIKA_IMEI)
    assert tracker.deployment_id is not None and len(TELTONIKA_IMEI) == 15
    links = authorisation.links.all()
    assert {link.device_pk for link in links} == {tracker.pk, None}
    assert tracker.deployment_id in {link.deployment_id for link in links}
    track = Position.objects.filter(device=tracker).order_by("fix_time")
    assert track.count() == 40 and {p.protocol for p in track} == {"teltonika"}
    assert [p.attributes["ignition"] for p in track].count(True) == 30  # decoded IO 239
    assert QuarantinedPosition.objects.filter(device_pk=tracker.pk).count() == 1
    boss = User.objects.get(username="supervisor")
    inbox = Notification.objects.filter(user=boss, reference=DEMO_AUTHORISATION)
    assert inbox.count() == 1 and "renew or cancel" in inbox.get().message
    page = force_sign_in(Client(), boss).get(f"/operations/authorisations/{authorisation.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Inside authority" in text and "continues after" not in text
