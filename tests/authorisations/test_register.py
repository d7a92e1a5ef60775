"""The covert authorisations register: recorded, reviewed, renewed, cancelled; a deployment
planned outside its authority is flagged; a linked tracker's reports outside the authorised
period are kept apart, flagged in the ledger, and only supervisors see them; expiry reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from haven.audit.models import LedgerEntry
from haven.authorisations import services
from haven.authorisations.models import QuarantinedPosition
from haven.equipment import services as equipment
from haven.notifications.models import Notification
from haven.telemetry import services as telemetry
from haven.telemetry.models import Position
from haven.telemetry.protocols import Message
from tests.factories import force_sign_in
from tests.telemetry.helpers import make_device

from .helpers import make_authorisation, officer, supervisor

pytestmark = pytest.mark.django_db
DAY = dt.timedelta(days=1)


def test_a_supervisor_records_reviews_renews_and_cancels_an_officer_cannot():
    boss, worker = supervisor(), officer()
    with pytest.raises(PermissionDenied):
        make_authorisation(worker)
    authorisation = make_authorisation(boss)
    now = timezone.now()
    services.record_review(boss, authorisation.pk, reviewed_at=now, note="still necessary")
    services.renew(boss, authorisation.pk, renewed_at=now, expires_at=now + 60 * DAY, version=2)
    with pytest.raises(ValidationError):
        services.cancel(boss, authorisation.pk, cancelled_at=now, reason="", version=3)
    services.cancel(boss, authorisation.pk, cancelled_at=now, reason="objective met", version=3)
    authorisation.refresh_from_db()
    assert authorisation.state() == "cancelled" and authorisation.ends_at == now
    assert authorisation.renewals.get().previous_expires_at < authorisation.expires_at
    whats = LedgerEntry.objects.filter(object_id=str(authorisation.pk)).values_list(
        "details", flat=True
    )
    assert {"recorded", "reviewed", "renewed", "cancelled"} <= {d.get("event") for d in whats}


def _deployment(boss, starts, ends):
    return equipment.create_deployment(
        boss, title="Vehicle tracker install", objective="Fit", starts_at=starts, ends_at=ends
    )


def test_a_deployment_outside_its_authorisation_is_flagged():
    boss = supervisor()
    authorisation = make_authorisation(boss)
    granted, expires = authorisation.granted_at, authorisation.expires_at
    inside = _deployment(boss, granted + DAY, granted + 2 * DAY)
    outside = _deployment(boss, granted + DAY, expires + DAY)
    services.link(boss, authorisation.pk, label=inside.reference, deployment_id=inside.pk)
    client = force_sign_in(Client(), boss)
    page = client.get(f"/operations/authorisations/{authorisation.pk}/").content.decode()
    assert "Outside authority" not in page and "Inside authority" in page
    assert (
        "Deployment outside authority"
        not in client.get("/operations/authorisations/").content.decode()
    )

    services.link(boss, authorisation.pk, label=outside.reference, deployment_id=outside.pk)
    page = client.get(f"/operations/authorisations/{authorisation.pk}/").content.decode()
    assert "continues after the authorisation expires" in page
    assert (
        "Deployment outside authority" in client.get("/operations/authorisations/").content.decode()
    )


def _report(device, at):
    return telemetry.ingest(
        Message(device_id=device.device_id, protocol="teltonika", fix_time=at, lat=54.6, lon=-5.9)
    )


def test_reports_outside_the_authorised_period_are_kept_apart_and_ledgered():
    boss = supervisor()
    authorisation = make_authorisation(boss)
    tracker = make_device(device_id="356000000000777")
    services.link(boss, authorisation.pk, label=tracker.device_id, device_pk=tracker.pk)
    before_grant = authorisation.granted_at - DAY
    assert _report(tracker, before_grant).quarantined
    assert _report(tracker, before_grant).quarantined  # a resend is kept once
    assert not _report(tracker, timezone.now() - dt.timedelta(minutes=1)).quarantined
    assert Position.objects.filter(device=tracker).count() == 1
    kept = QuarantinedPosition.objects.get()
    assert kept.fix_time == before_grant and kept.report["lat"] == 54.6
    flagged = LedgerEntry.objects.filter(object_type="quarantined_position")
    assert flagged.count() == 1 and flagged.get().details["event"] == "outside_authority"


def test_supervisors_are_told_once_per_tracker_and_unauthorised_period_not_per_fix():
    boss, other_boss, worker = supervisor(), supervisor(), officer()
    authorisation = make_authorisation(boss)
    tracker = make_device(device_id="356000000000776")
    services.link(boss, authorisation.pk, label=tracker.device_id, device_pk=tracker.pk)
    before_grant = authorisation.granted_at - DAY
    after_expiry = authorisation.expires_at + DAY

    def notices(user):  # type: ignore[no-untyped-def]
        return Notification.objects.filter(user=user, link="/operations/authorisations/quarantine/")

    for minutes in range(3):  # three fixes in the period before the grant: one notice
        assert _report(tracker, before_grant + dt.timedelta(minutes=minutes)).quarantined
    assert notices(boss).count() == 1 and notices(other_boss).count() == 1
    assert "356000000000776" in notices(boss).get().message
    assert not notices(worker).exists()  # a technical officer is not told
    assert _report(tracker, before_grant - DAY).quarantined  # same period, earlier: no notice
    assert notices(boss).count() == 1
    assert not _report(tracker, timezone.now()).quarantined  # inside the authority: no notice
    assert notices(boss).count() == 1
    assert _report(tracker, after_expiry).quarantined  # a second unauthorised period: told
    assert _report(tracker, after_expiry + dt.timedelta(hours=1)).quarantined
    assert notices(boss).count() == 2


def test_an_untracked_device_is_never_quarantined():
    tracker = make_device(device_id="356000000000778")
    assert not _report(tracker, timezone.now() - 400 * DAY).quarantined
    assert not QuarantinedPosition.objects.exists()


def test_only_a_supervisor_sees_positions_outside_authority():
    boss, worker = supervisor(), officer()
    authorisation = make_authorisation(boss)
    tracker = make_device(device_id="356000000000779")
    services.link(boss, authorisation.pk, label=tracker.device_id, device_pk=tracker.pk)
    _report(tracker, authorisation.expires_at + DAY)
    url = "/operations/authorisations/quarantine/"
    assert force_sign_in(Client(), worker).get(url).status_code == 403
    page = force_sign_in(Client(), boss).get(url)
    assert page.status_code == 200 and "356000000000779" in page.content.decode()
    assert LedgerEntry.objects.filter(
        object_type="quarantined_position", action="consultation"
    ).exists()


def test_expiry_reminder_goes_to_supervisors_once_per_expiry(settings):
    boss = supervisor()
    now = timezone.now()
    authorisation = make_authorisation(boss, expires_at=now + 3 * DAY)
    make_authorisation(boss, expires_at=now + 40 * DAY)  # not due yet
    assert [a.pk for a in services.remind_expiring(now)] == [authorisation.pk]
    assert services.remind_expiring(now) == []
    note = Notification.objects.get(user=boss)
    assert note.reference == authorisation.reference and "expires" in note.message
    services.renew(boss, authorisation.pk, renewed_at=now, expires_at=now + 5 * DAY, version=1)
    assert [a.pk for a in services.remind_expiring(now)] == [authorisation.pk]


def _api(user) -> Client:
    from haven.accounts import services as accounts

    _, secret = accounts.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_the_api_records_links_flags_and_keeps_the_quarantine_to_supervisors():
    boss, worker = supervisor(), officer()
    now = timezone.now()
    body = {
        "reference": "DS/2026/API",
        "kind": "directed_surveillance",
        "authorising_officer": "Supt Api Fictional",
        "granted_at": now.isoformat(),
        "expires_at": (now + 10 * DAY).isoformat(),
    }
    assert _api(worker).post("/api/authorisations", body, "application/json").status_code == 403
    made = _api(boss).post("/api/authorisations", body, "application/json")
    assert made.status_code == 201 and made.json()["state"] == "in force"
    late = _deployment(boss, now + DAY, now + 20 * DAY)
    linked = _api(boss).post(
        f"/api/authorisations/{made.json()['id']}/links",
        {"deployment_reference": late.reference},
        "application/json",
    )
    assert linked.json()["deployment_outside_authority"] is True
    [row] = _api(worker).get("/api/authorisations").json()
    assert row["deployment_outside_authority"] is True
    bad = _api(boss).post(
        f"/api/authorisations/{made.json()['id']}/renewals",
        {"renewed_at": now.isoformat(), "expires_at": now.isoformat(), "version": 1},
        "application/json",
    )
    assert bad.status_code == 422 and bad["Content-Type"] == "application/problem+json"
    assert _api(worker).get("/api/authorisations/quarantine").status_code == 403
    assert _api(boss).get("/api/authorisations/quarantine").json() == []


def test_an_officer_sees_the_register_but_its_change_forms_are_refused():
    boss, worker = supervisor(), officer()
    authorisation = make_authorisation(boss)
    client = force_sign_in(Client(), worker)
    page = client.get(f"/operations/authorisations/{authorisation.pk}/").content.decode()
    assert "Supt Ada Fictionalperson 0001" in page and "Record the cancellation" not in page
    refused = client.post(
        f"/operations/authorisations/{authorisation.pk}/",
        {
            "action": "cancel",
            "cancel-cancelled_at": "2026-12-01T10:00",
            "cancel-reason": "no",
            "cancel-version": "1",
        },
    )
    assert refused.status_code == 400
    authorisation.refresh_from_db()
    assert authorisation.cancelled_at is None
    assert client.get("/operations/authorisations/new/").status_code == 403


def test_a_supervisor_records_a_review_and_a_renewal_on_the_register_page():
    boss = supervisor()
    authorisation = make_authorisation(boss)
    client = force_sign_in(Client(), boss)
    url = f"/operations/authorisations/{authorisation.pk}/"
    an_hour_ago = timezone.localtime() - dt.timedelta(hours=1)
    reviewed = client.post(
        url,
        {"action": "review", "review-reviewed_at": an_hour_ago.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert "Review recorded." in reviewed.content.decode()
    authorisation.refresh_from_db()  # the version the renewal form was shown with
    new_expiry = timezone.localtime(authorisation.expires_at + dt.timedelta(days=30))
    renewed = client.post(
        url,
        {
            "action": "renew",
            "renew-renewed_at": an_hour_ago.strftime("%Y-%m-%dT%H:%M"),
            "renew-expires_at": new_expiry.strftime("%Y-%m-%dT%H:%M"),
            "renew-version": str(authorisation.version),
        },
        follow=True,
    )
    assert "Renewal recorded." in renewed.content.decode()
    authorisation.refresh_from_db()
    assert authorisation.reviews.count() == 1 and authorisation.renewals.count() == 1
