"""The hourly clean-up deletes expired sessions from the table Haven's session store uses
(accounts_session, keyed by hash), once they are past a grace period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from haven.accounts.models import HashedSession
from haven.runtime.tasks import EXPIRED_SESSION_GRACE, clear_expired_sessions

pytestmark = pytest.mark.django_db


def session_row(key: str, expires_in: timedelta) -> HashedSession:
    return HashedSession.objects.create(
        session_key=key, session_data="", expire_date=timezone.now() + expires_in
    )


def test_expired_sessions_are_deleted_after_the_grace_and_live_ones_kept():
    session_row("live", timedelta(minutes=10))
    session_row("just-expired", -timedelta(minutes=5))
    session_row("long-expired", -(EXPIRED_SESSION_GRACE + timedelta(minutes=1)))
    assert clear_expired_sessions.call() == 1
    assert set(HashedSession.objects.values_list("session_key", flat=True)) == {
        "live",
        "just-expired",
    }
