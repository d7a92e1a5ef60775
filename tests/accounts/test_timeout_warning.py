"""The timeout warning: a static module with a dialog, and the keep-alive it posts to."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from tests.factories import UserFactory, force_sign_in

pytestmark = pytest.mark.django_db


def test_signed_in_pages_carry_the_warning_dialog_and_its_module(client):
    page = force_sign_in(client, UserFactory()).get("/").content.decode()
    assert 'id="timeout-warning"' in page and "haven/timeout.mjs" in page
    assert f'data-warning-seconds="{settings.SESSION_WARNING_SECONDS}"' in page
    assert 'action="/accounts/keep-alive/"' in page
    assert "timeout.mjs" not in Client().get("/accounts/login/").content.decode()


def test_stay_signed_in_keeps_an_idle_session_alive(client):
    force_sign_in(client, UserFactory())
    client.get("/")
    warned = timezone.now() + timedelta(seconds=settings.SESSION_IDLE_SECONDS - 100)
    with mock.patch("django.utils.timezone.now", return_value=warned):
        assert client.post("/accounts/keep-alive/").status_code == 204
    later = warned + timedelta(seconds=settings.SESSION_IDLE_SECONDS - 100)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert client.get("/").status_code == 200
    assert client.get("/accounts/keep-alive/").status_code == 405


@override_settings(SESSION_ABSOLUTE_SECONDS=3600)
def test_the_absolute_lifetime_ends_even_an_active_session(client):
    force_sign_in(client, UserFactory())
    start = timezone.now()
    for minutes in (14, 28, 42, 56):
        with mock.patch(
            "django.utils.timezone.now", return_value=start + timedelta(minutes=minutes)
        ):
            assert client.get("/").status_code == 200
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(minutes=61)):
        assert client.get("/").status_code == 302


def test_production_cookies_use_the_host_prefix():
    from haven import settings as production

    secure = production.SESSION_COOKIE_SECURE
    assert production.SESSION_ABSOLUTE_SECONDS == 12 * 3600
    assert (production.SESSION_COOKIE_NAME == "__Host-sessionid") is secure
    assert (getattr(production, "CSRF_COOKIE_NAME", "") == "__Host-csrftoken") is secure
