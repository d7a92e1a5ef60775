"""The health of Haven's parts, for /healthz, `haven status` and the administrators' banner.

Nothing here names a person, case or device: part names, ages, counts and tree sizes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from haven.audit.models import Checkpoint, LedgerEntry

from .models import Heartbeat


@dataclass(frozen=True)
class PartHealth:
    name: str
    last_beat: datetime | None
    age_seconds: float | None
    fresh: bool

    @property
    def state(self) -> str:
        if self.last_beat is None:
            return "missing"
        return "up" if self.fresh else "stale"


@dataclass(frozen=True)
class Health:
    parts: list[PartHealth]
    queue_depth: int
    oldest_unsigned_age_seconds: float | None
    checkpoint_at: str | None
    checkpoint_tree_size: int | None

    @property
    def ok(self) -> bool:
        return all(part.fresh for part in self.parts)

    @property
    def down(self) -> list[str]:
        return [part.name for part in self.parts if not part.fresh]

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "degraded",
            "parts": {
                part.name: {
                    "state": part.state,
                    "age_seconds": _rounded(part.age_seconds),
                }
                for part in self.parts
            },
            "queue_depth": self.queue_depth,
            "ledger": {
                "oldest_unsigned_age_seconds": _rounded(self.oldest_unsigned_age_seconds),
                "last_checkpoint_at": self.checkpoint_at,
                "last_checkpoint_tree_size": self.checkpoint_tree_size,
            },
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def expected_parts() -> list[str]:
    return list(settings.HAVEN_EXPECTED_PARTS)


def part_health(now: datetime | None = None) -> list[PartHealth]:
    now = now or timezone.now()
    stale_after = settings.HAVEN_HEARTBEAT_STALE_SECONDS
    beats = dict(
        Heartbeat.objects.values("part").annotate(last=Max("beat_at")).values_list("part", "last")
    )
    names = expected_parts() + sorted(set(beats) - set(expected_parts()))
    parts = []
    for name in names:
        last = beats.get(name)
        age = None if last is None else max((now - last).total_seconds(), 0.0)
        parts.append(PartHealth(name, last, age, age is not None and age <= stale_after))
    return parts


def oldest_unsigned_entry_time() -> datetime | None:
    """When the first ledger entry no checkpoint covers was recorded (None: all signed)."""
    signed = Checkpoint.objects.order_by("-id").values_list("tree_size", flat=True).first() or 0
    # A checkpoint of tree size N covers the first N entries in id order.
    first_unsigned = LedgerEntry.objects.order_by("id").values_list("recorded_at", flat=True)
    return next(iter(first_unsigned[signed : signed + 1]), None)


def snapshot(now: datetime | None = None) -> Health:
    now = now or timezone.now()
    unsigned_since = oldest_unsigned_entry_time()
    checkpoint = Checkpoint.objects.order_by("-id").values("signed_at", "tree_size").first()
    return Health(
        parts=part_health(now),
        queue_depth=DBTaskResult.objects.ready().count(),
        oldest_unsigned_age_seconds=(
            None if unsigned_since is None else max((now - unsigned_since).total_seconds(), 0.0)
        ),
        checkpoint_at=None if checkpoint is None else checkpoint["signed_at"],
        checkpoint_tree_size=None if checkpoint is None else checkpoint["tree_size"],
    )


BANNER_CACHE_KEY = "haven.runtime.down_parts"
BANNER_CACHE_SECONDS = 5


def down_parts_cached() -> list[str]:
    """The parts that are down, looked up at most every few seconds (for every admin page)."""
    down: list[str] | None = cache.get(BANNER_CACHE_KEY)
    if down is None:
        down = snapshot().down
        cache.set(BANNER_CACHE_KEY, down, BANNER_CACHE_SECONDS)
    return down
