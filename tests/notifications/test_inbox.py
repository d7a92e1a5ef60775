"""The inbox: own notifications only, encrypted text, filters, mark read, header badge, API."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client

from haven.accounts import services as account_services
from haven.audit.models import LedgerEntry
from haven.concurrency.transactions import service_transaction
from haven.notifications import services
from haven.notifications.models import AlertCategory, Notification
from tests.factories import UserFactory, force_sign_in

pytestmark = pytest.mark.django_db

NAME = "Persephone Quillfeather"


def note(
    user, category=AlertCategory.REMINDER, reference="HVN-2026-00042", message=NAME, link="/cases/"
):  # type: ignore[no-untyped-def]
    with service_transaction():
        return services.notify(user, category, reference, message, link)


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    return force_sign_in(Client(), user)


def test_message_is_encrypted_at_rest_and_readable_through_the_model():
    item = note(UserFactory())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT message FROM notifications_notification WHERE id = %s",
            [item.pk.hex if connection.vendor == "sqlite" else item.pk],
        )
        (stored,) = cursor.fetchone()
    assert NAME not in stored and stored.startswith("hv1.")
    assert Notification.objects.get(pk=item.pk).message == NAME


def test_inbox_lists_own_items_with_links_and_never_anothers():
    me, other = UserFactory(), UserFactory()
    mine = note(me, message="Mine: check HVN-2026-00042", link="/cases/abc/")
    note(other, message=NAME)
    page = signed_in(me).get("/notifications/").content.decode()
    assert mine.message in page and 'href="/cases/abc/"' in page
    assert NAME not in page


def test_anothers_notification_answers_404_and_stays_unread():
    me, other = UserFactory(), UserFactory()
    theirs = note(other)
    response = signed_in(me).post(f"/notifications/{theirs.pk}/read/")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_filters_unread_all_and_category():
    me = UserFactory()
    reminder = note(me, AlertCategory.REMINDER, message="a reminder text")
    alert = note(me, AlertCategory.TELEMETRY, message="a telemetry text")
    with service_transaction():
        services.mark_read(me, reminder.pk)
    client = signed_in(me)
    unread = client.get("/notifications/").content.decode()
    assert alert.message in unread and reminder.message not in unread
    everything = client.get("/notifications/?show=all").content.decode()
    assert alert.message in everything and reminder.message in everything
    telemetry = client.get("/notifications/?show=all&category=telemetry").content.decode()
    assert alert.message in telemetry and reminder.message not in telemetry


def test_mark_read_and_mark_all_read_write_one_ledger_entry_each():
    me = UserFactory()
    first, _, _ = note(me), note(me), note(me)
    client = signed_in(me)
    before = LedgerEntry.objects.count()
    assert client.post(f"/notifications/{first.pk}/read/").status_code == 302
    assert LedgerEntry.objects.count() == before + 1
    assert client.post("/notifications/read-all/").status_code == 302
    assert LedgerEntry.objects.count() == before + 2
    assert not Notification.objects.filter(user=me, read_at__isnull=True).exists()


def test_mark_read_needs_csrf():
    me = UserFactory()
    item = note(me)
    client = force_sign_in(Client(enforce_csrf_checks=True), me)
    assert client.post(f"/notifications/{item.pk}/read/").status_code == 403
    item.refresh_from_db()
    assert item.read_at is None


def test_header_badge_is_a_polite_live_region_polled_by_htmx_on_every_page():
    me = UserFactory()
    note(me), note(me)
    client = signed_in(me)
    for path in ("/", "/accounts/profile/", "/notifications/"):
        page = client.get(path).content.decode()
        region = re.search(r'<span id="inbox-badge"[^>]*>', page)
        assert region, path
        tag = region.group(0)
        assert 'aria-live="polite"' in tag and 'hx-get="/notifications/badge/"' in tag
        assert 'hx-trigger="every' in tag and "autofocus" not in page
        assert 'data-testid="unread-count">2<' in page
    badge = client.get("/notifications/badge/").content.decode()
    assert 'data-testid="unread-count">2<' in badge and "<html" not in badge


def test_badge_polling_does_not_count_as_activity():
    from haven.accounts.middleware import LAST_SEEN

    me = UserFactory()
    client = signed_in(me)
    session = client.session
    session[LAST_SEEN] = 1
    session.save()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.SESSION_IDLE_SECONDS", 10**12)
        client.get("/notifications/badge/")
    assert client.session[LAST_SEEN] == 1


# ------------------------------------------------------------------------------ API


def api_client(user) -> Client:  # type: ignore[no-untyped-def]
    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_api_lists_own_notifications_with_filters():
    me, other = UserFactory(), UserFactory()
    note(me, AlertCategory.REMINDER, message="reminder one")
    note(me, AlertCategory.TELEMETRY, message="alert one")
    note(other, message=NAME)
    client = api_client(me)
    body = client.get("/api/notifications/").json()
    assert body["unread_count"] == 2 and len(body["items"]) == 2
    assert NAME not in str(body)
    only = client.get("/api/notifications/?category=telemetry").json()
    assert [i["message"] for i in only["items"]] == ["alert one"]


def test_api_mark_read_and_anothers_answers_404_problem_json():
    me, other = UserFactory(), UserFactory()
    mine, theirs = note(me), note(other)
    client = api_client(me)
    response = client.post(f"/api/notifications/{mine.pk}/read")
    assert response.status_code == 200 and response.json()["read_at"]
    refused = client.post(f"/api/notifications/{theirs.pk}/read")
    assert refused.status_code == 404
    assert refused["Content-Type"] == "application/problem+json"
    assert client.get("/api/notifications/?unread=true").json()["items"] == []
    note(me)
    assert client.post("/api/notifications/read-all").json() == {"marked_read": 1}
