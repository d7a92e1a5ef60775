"""What a web process does once set up: the objects it lives on are kept out of later
garbage collections (gc.freeze), once at start and once after its first request."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from django.core.signals import request_finished

from haven.runtime.serving import freeze_startup_objects


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process goes on collecting everything, as before
    request_finished.disconnect(dispatch_uid="haven.runtime.serving.first_request")


@pytest.mark.django_db  # Django closes connections when a request finishes
def test_the_startup_objects_are_frozen_and_again_after_the_first_request(unfrozen):
    freeze_startup_objects()
    at_start = gc.get_freeze_count()
    assert at_start > 0

    built_by_the_first_request = [[] for _ in range(100)]
    request_finished.send(sender=None)
    after_first = gc.get_freeze_count()
    assert after_first >= at_start + len(built_by_the_first_request)

    built_later = [[] for _ in range(100)]
    request_finished.send(sender=None)
    # Only the first request's end freezes (a frozen object may still be freed meanwhile).
    assert gc.get_freeze_count() < after_first + len(built_later)
