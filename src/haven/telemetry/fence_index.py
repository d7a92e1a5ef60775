"""The receiver's fence index, kept fresh off the alarm path.

A receiver evaluates every fix against the index it holds (:func:`FenceKeeper.current`), which
never waits for the database: when the index is due a look (every ``FENCE_CACHE_SECONDS``, or
at once after this process changed a fence) the look is made by a refresher thread of its own
and what it finds is swapped in whole (one reference assignment), so a batch always sees one
complete index, the old or the new.

The look is cheap: the fences whose ``updated_at`` moved since the last look (a window of
``CHANGE_LAG`` before it, since a transaction that stamped its row earlier may commit later),
compared by ``version`` with the index in hand, plus a count of the active fences. One edited,
added or retired fence is applied incrementally (only it is decrypted and compiled; the tree is
rebuilt from the envelopes in hand). The whole index is rebuilt, still off the alarm path, only
when the count disagrees (a fence deleted outright, e.g. with its device) or very many fences
changed at once. A rebuild reads plain rows (``values_list``) and opens the areas with the
vault's bulk opener: no model instances.

Only a receiver with no index at all (the first batch of a process; the batch writer builds it
while its first devices connect) builds one in line. With ``settings.HAVEN_FENCE_BACKGROUND``
off (the test settings), looks are made in line, in the caller's transaction, so a test sees
the fences it has just made.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from haven.vault.crypto import VaultError
from haven.vault.fields import bulk_opener

from . import geofence as gf
from .models import Geofence

log = logging.getLogger("haven.telemetry")

FENCE_CACHE_SECONDS = 2.0  # how often a receiver looks for changed fences
CHANGE_LAG = dt.timedelta(seconds=60)  # a change stamped this long before it commits is seen
REBUILD_AFTER_CHANGES = 2_000  # more changed fences than this in one look: rebuild them all

# id, kind, area (sealed), device id, deployment, hysteresis, dwell, version, updated, active
FenceRow = tuple[Any, str, Any, str | None, Any, float | None, int, int, dt.datetime, bool]
COLUMNS = (
    "id",
    "kind",
    "area",
    "device__device_id",
    "deployment_id",
    "hysteresis_m",
    "dwell_s",
    "version",
    "updated_at",
    "active",
)


def fence_from_values(row: FenceRow, area: dict[str, Any] | None) -> gf.Fence:
    """A fence from one plain row and its opened area (as services.fence_from_row)."""
    pk, kind, _, device_id, deployment_id, hysteresis_m, dwell_s = row[:7]
    shared: dict[str, Any] = {
        "id": str(pk),
        "kind": kind,
        "device_id": device_id,
        "deployment_id": str(deployment_id) if deployment_id else None,
        "hysteresis_m": hysteresis_m,
        "dwell_s": float(dwell_s or 0),
    }
    area = area or {}
    if "polygon" in area:
        points = tuple((float(p[0]), float(p[1])) for p in area["polygon"])
        return gf.Fence(points=points, **shared)
    circle = area.get("circle") or {}
    return gf.Fence(
        centre=(float(circle["lat"]), float(circle["lon"])),
        radius_m=float(circle["radius_m"]),
        **shared,
    )


def open_fences(rows: Sequence[FenceRow]) -> list[tuple[FenceRow, gf.Fence | None]]:
    """The fences of plain rows, their areas opened in bulk. A row whose area cannot make a
    fence gets None and an error logged (it was checked when saved: a damaged row must not stop
    every other fence from working)."""
    if not rows:
        return []
    opener = bulk_opener(Geofence)
    area_field = Geofence._meta.get_field("area")
    fences: list[tuple[FenceRow, gf.Fence | None]] = []
    for row in rows:
        try:
            area = opener(area_field, row[2], str(row[0]))  # type: ignore[arg-type]
            fences.append((row, fence_from_values(row, area)))
        except (ValueError, KeyError, TypeError, VaultError) as error:
            # Tampered or damaged: say so loudly, and keep every other fence working.
            log.error("telemetry: fence %s left out of the index (%r)", row[0], error)
            fences.append((row, None))
    return fences


@dataclass(frozen=True)
class FenceState:
    """What a receiver holds: the index and, for each fence in it, its version."""

    index: gf.FenceIndex
    versions: dict[str, int]
    seen_up_to: dt.datetime | None  # the latest updated_at seen


def load_rows(since: dt.datetime | None = None) -> list[FenceRow]:
    """Plain rows: every active fence, or (``since``) every fence changed since then."""
    query = Geofence.objects.order_by("name", "id")
    if since is None:
        query = query.filter(active=True)
    else:
        query = query.filter(updated_at__gte=since)
    return list(query.values_list(*COLUMNS))  # type: ignore[arg-type]


def count_active() -> int:
    return Geofence.objects.filter(active=True).count()


def build_state(rows: Sequence[FenceRow]) -> FenceState:
    """A whole index from plain rows of active fences."""
    opened = open_fences(rows)
    fences = [fence for _, fence in opened if fence is not None]
    return FenceState(
        gf.FenceIndex.from_compiled(gf.compile_fences(fences)),
        {str(row[0]): row[7] for row in rows},
        max((row[8] for row in rows), default=None),
    )


def apply_changes(state: FenceState, rows: Sequence[FenceRow]) -> FenceState | None:
    """``state`` with the changed rows applied (None when nothing changed). A row whose version
    the index already holds is skipped before anything is decrypted. ``versions`` counts every
    active fence, a damaged one (left out of the index) too, so it agrees with the database."""
    latest = max((row[8] for row in rows), default=None)
    seen_up_to = max(filter(None, (state.seen_up_to, latest)), default=None)
    changed = [row for row in rows if state.versions.get(str(row[0])) != row[7]]
    upserts = [row for row in changed if row[9]]
    removed = [str(row[0]) for row in changed if not row[9] and str(row[0]) in state.versions]
    if not upserts and not removed:
        if seen_up_to != state.seen_up_to:
            return FenceState(state.index, state.versions, seen_up_to)
        return None
    opened = open_fences(upserts)
    broken = [str(row[0]) for row, fence in opened if fence is None]
    versions = dict(state.versions)
    for fence_id in removed:
        del versions[fence_id]
    versions.update({str(row[0]): row[7] for row in upserts})
    index = state.index.changed(
        [fence for _, fence in opened if fence is not None], [*removed, *broken]
    )
    return FenceState(index, versions, seen_up_to)


@dataclass
class FenceKeeper:
    """One per process: the fence index a receiver evaluates against, and its refresher."""

    state: FenceState | None = None
    checked: float = 0.0  # time.monotonic() of the last look
    due: bool = True  # look at the next call, whatever the time
    rebuilds: int = 0  # statistics: whole rebuilds and incremental changes applied
    increments: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _refresher: threading.Thread | None = None
    # Set in tests to hold a background rebuild at a point of their choosing.
    before_swap: Callable[[], None] | None = None

    def current(self) -> gf.FenceIndex:
        """The index in hand, now. Starts a look for changes when one is due."""
        state = self.state
        if state is None:
            with self._lock:  # a cold start: nothing to evaluate against yet
                if self.state is None:
                    self._swap(build_state(load_rows()), rebuilt=True)
                    self.checked, self.due = time.monotonic(), False
            assert self.state is not None
            return self.state.index
        if self.due or time.monotonic() - self.checked >= _cache_seconds():
            self.look()
        return state.index if self.state is None else self.state.index

    def look(self) -> None:
        """Look for changed fences: in a refresher thread (one at a time), or in line."""
        self.checked, self.due = time.monotonic(), False
        if not background():
            self.refresh()
            return
        with self._lock:
            if self._refresher is not None and self._refresher.is_alive():
                self.due = True  # look again once this one is done
                return
            self._refresher = threading.Thread(
                target=self._refresh_in_thread, name="haven-fence-refresh", daemon=True
            )
            self._refresher.start()

    def _refresh_in_thread(self) -> None:
        try:
            self.refresh()
        except Exception:  # noqa: BLE001 - keep the index in hand; the next look tries again
            log.exception("telemetry: fence index refresh failed; the index in hand is kept")
            self.due = True
        finally:
            connection.close()  # this thread's own connection

    def refresh(self) -> None:
        """One look: apply the changed fences, or rebuild when the count disagrees."""
        state = self.state
        if state is None:
            self._swap(build_state(load_rows()), rebuilt=True)
            return
        since = state.seen_up_to - CHANGE_LAG if state.seen_up_to is not None else None
        rows = load_rows(since) if since is not None else load_rows()
        if since is None or len(rows) > REBUILD_AFTER_CHANGES:
            self.rebuild()
            return
        updated = apply_changes(state, rows)
        active = count_active()
        if active != len((updated or state).versions):
            self.rebuild()  # a fence deleted outright (or added unseen): rebuild them all
        elif updated is not None:
            self._swap(updated, rebuilt=False)

    def rebuild(self, rows: Iterable[FenceRow] | None = None) -> None:
        """Build the whole index from plain rows and swap it in."""
        self._swap(build_state(list(rows) if rows is not None else load_rows()), rebuilt=True)

    def _swap(self, state: FenceState, rebuilt: bool) -> None:
        if self.before_swap is not None:
            self.before_swap()
        self.state = state  # one assignment: a batch holds the old index or the new one
        if rebuilt:
            self.rebuilds += 1
        else:
            self.increments += 1

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the refresher thread running now, if any (tests, the bench)."""
        refresher = self._refresher
        if refresher is not None:
            refresher.join(timeout)

    def mark_due(self) -> None:
        self.due = True

    def reset(self) -> None:
        """Forget the index (tests: a fresh database under the same process)."""
        self.wait()
        self.state, self.checked, self.due = None, 0.0, True
        self.rebuilds = self.increments = 0


def background() -> bool:
    return bool(getattr(settings, "HAVEN_FENCE_BACKGROUND", True))


def _cache_seconds() -> float:
    from . import services  # the interval lives there, where tests set it

    return float(services.FENCE_CACHE_SECONDS)


KEEPER = FenceKeeper()
