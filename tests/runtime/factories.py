from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from haven.runtime.models import Heartbeat


class HeartbeatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Heartbeat

    part = "web"
    instance = factory.Sequence(lambda n: f"host-{n}:{1000 + n}")
    beat_at = factory.LazyFunction(timezone.now)


def every_expected_part_beats(seconds_ago: float = 0) -> None:
    from haven.runtime.health import expected_parts

    at = timezone.now() - dt.timedelta(seconds=seconds_ago)
    for part in expected_parts():
        HeartbeatFactory(part=part, beat_at=at)
