"""The checkpoint job keeps the unsigned tail of the ledger under two minutes."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from haven.audit.models import Checkpoint
from haven.runtime import health, scheduler
from tests.audit.conftest import ledger_key  # noqa: F401  (fixture)
from tests.audit.ledger_helpers import write_entries
from tests.factories import UserFactory

STEP = dt.timedelta(seconds=5)  # the real loop ticks every second; 5 s is coarser, not kinder


@pytest.mark.django_db
@pytest.mark.usefixtures("ledger_key")
def test_entries_arriving_for_ten_minutes_are_never_unsigned_for_two():
    actor = UserFactory(username="ledger-writer")
    start = timezone.now()
    worst = 0.0
    with time_machine.travel(start, tick=False) as clock:
        for step in range(120):
            if step % 3 == 0:  # an entry every 15 s
                write_entries(actor, 1, start=step)
            scheduler.run_pass()  # tests run tasks in-line: enqueue == run
            age = health.snapshot().oldest_unsigned_age_seconds or 0.0
            worst = max(worst, age)
            assert age < 120, f"unsigned for {age:.0f} s at step {step}"
            clock.shift(STEP)
    assert Checkpoint.objects.count() >= 9  # about one a minute, not one per pass
    assert worst > 0  # entries did wait for a checkpoint: the assertion above was exercised


@pytest.mark.django_db
@pytest.mark.usefixtures("ledger_key")
def test_no_checkpoint_is_signed_when_nothing_was_added():
    write_entries(UserFactory(username="ledger-writer"), 2)
    now = timezone.now()
    scheduler.run_pass(now)
    scheduler.run_pass(now + dt.timedelta(minutes=5))
    assert Checkpoint.objects.count() == 1
