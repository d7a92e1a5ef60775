"""A swap request lands in the colleague's inbox and "awaiting you" count; the answer goes back
to the requester; nobody else hears of it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from haven.notifications.models import AlertCategory, Notification
from haven.rota import selectors, services
from tests.equipment.helpers import supervisor, technician
from tests.factories import force_sign_in
from tests.rota.test_rota import UTC, daily_rota, local

pytestmark = pytest.mark.django_db


def swap_notes(user):
    return list(Notification.objects.filter(user=user, category=AlertCategory.SWAP))


@time_machine.travel(dt.datetime(2025, 3, 3, 12, tzinfo=UTC), tick=False)
def test_a_swap_request_reaches_the_colleague_and_the_answer_the_requester(client):
    boss, a, b, other = supervisor(), technician(), technician(), technician()
    rota = daily_rota(boss, [a, b])
    swap = services.request_swap(
        a, rota.pk, counterpart=b, starts_at=local(2025, 3, 5, 9), ends_at=local(2025, 3, 6, 9)
    )
    (asked,) = swap_notes(b)
    assert "05 Mar 09:00 to 06 Mar 09:00" in asked.message and a.get_full_name() in str(
        asked.message
    )
    assert [s.pk for s in selectors.pending_swaps_for(b)] == [swap.pk]
    body = force_sign_in(client, b).get("/").content.decode()
    assert "Shift swaps to answer" in body and 'data-testid="count">1<' in body

    services.decline_swap(b, swap.pk)
    (answer,) = swap_notes(a)
    assert "declined" in answer.message
    assert swap_notes(other) == [] and swap_notes(boss) == []
    assert selectors.pending_swaps_for(b).count() == 0
    body = client.get("/").content.decode()
    assert "Shift swaps to answer" not in body
