"""The receiver's fence index, kept fresh off the alarm path.

A receiver evaluates every fix against the index it holds (:func:`FenceKeeper.current`), which
never waits for the database: when the index is due a look (every ``FENCE_CACHE_SECONDS``, or
at once after this process changed a fence) the look is made by a refresher thread of its own
and what it finds is swapped in whole (one reference assignment), so a batch always sees one
complete index, the old or the new.

The look is cheap: the stamps (id, version, active) of the fences whose ``updated_at`` moved
since the previous look began (less ``CHANGE_LAG``, since a transaction that stamped its row
earlier may commit later; not since the last stamp seen, or the fences of one bulk import, all
stamped at once, would be read again at every look for as long as no fence changed after them),
on the updated_at index, compared by version with the index in hand, plus a
count of the active fences; only the changed fences are read whole. One edited, added or retired
fence is applied incrementally (only it is decrypted and compiled; the tree is rebuilt from the
envelopes in hand, ~15 ms for 30,000). The whole index is rebuilt, still off the alarm path,
only when the count disagrees (a fence deleted outright, e.g. with its device), very many fences
changed at once, or every ``REBUILD_EVERY_S`` as a safety net. A rebuild reads plain rows
(``values_list``) and opens the areas with the
vault's bulk opener: no model instances.

Only a receiver with no index at all (the first batch of a process; the batch writer builds it
while its first devices connect) builds one in line. With ``settings.HAVEN_FENCE_BACKGROUND``
off (the test settings), looks are made in line, in the caller's transaction, so a test sees
the fences it has just made.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from haven.vault.crypto import VaultError
from haven.vault.fields import bulk_opener

from . import geofence as gf
from .models import Geofence

log = logging.getLogger("haven.telemetry")

FENCE_CACHE_SECONDS = 2.0  # how often a receiver looks for changed fences
# A change committed up to this long after it was stamped is seen by the next look (every look
# re-reads the stamps of the fences changed this recently: kept short, so a bulk import is not
# re-read for long); one committed later still is picked up by the periodic rebuild.
CHANGE_LAG = dt.timedelta(seconds=10)
REBUILD_AFTER_CHANGES = 2_000  # more changed fences than this in one look: rebuild them all
# A rebuild in the refresher thread lets the batch writer have the interpreter lock for a
# moment every this many rows (30,000 fences: 150 pauses, ~0.3 s longer in the background).
PACE_ROWS, PACE_S = 200, 0.002
_refresher_thread = threading.local()
REBUILD_EVERY_S = 300.0  # and rebuild them all this often anyway (in the background)

# id (text), kind, area (sealed), device id, deployment, hysteresis, dwell, version, updated,
# active
FenceRow = tuple[str, str, Any, str | None, Any, float | None, int, int, dt.datetime, bool]
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
        "id": pk,
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
    pace = getattr(_refresher_thread, "pacing", False)
    for number, row in enumerate(rows):
        if pace and number % PACE_ROWS == PACE_ROWS - 1:
            time.sleep(PACE_S)  # the batch writer's turn: this rebuild is not urgent
        try:
            area = opener(area_field, row[2], row[0])  # type: ignore[arg-type]
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
    # When the look (or rebuild) that made this state began, by this process's clock: every
    # change stamped more than CHANGE_LAG before it had committed and was seen then.
    looked_at: dt.datetime | None = None


def load_rows(ids: Iterable[Any] | None = None) -> list[FenceRow]:
    """Plain rows of every active fence, or of the active fences among ``ids``."""
    query = Geofence.objects.filter(active=True).order_by("name", "id")
    if ids is not None:
        query = query.filter(pk__in=list(ids))
    return [(str(row[0]), *row[1:]) for row in query.values_list(*COLUMNS)]  # type: ignore[misc]


# id, version, active, updated_at: enough to tell whether the index holds a fence's last state.
Stamp = tuple[Any, int, bool, dt.datetime]


def load_changes(since: dt.datetime) -> list[Stamp]:
    """The stamps of the fences changed since then (the updated_at index; nothing decrypted)."""
    query = Geofence.objects.filter(updated_at__gte=since)
    return list(query.values_list("id", "version", "active", "updated_at"))


def count_active() -> int:
    return Geofence.objects.filter(active=True).count()


def build_state(rows: Sequence[FenceRow], looked_at: dt.datetime | None = None) -> FenceState:
    """A whole index from plain rows of active fences (read from ``looked_at`` on)."""
    opened = open_fences(rows)
    fences = [fence for _, fence in opened if fence is not None]
    return FenceState(
        gf.FenceIndex.from_compiled(gf.compile_fences(fences)),
        {row[0]: row[7] for row in rows},
        max((row[8] for row in rows), default=None),
        looked_at,
    )


def look_since(state: FenceState) -> dt.datetime:
    """Where the next look starts reading stamps: CHANGE_LAG before the previous look began
    (the latest stamp seen, for a state made before any look)."""
    start = state.looked_at or state.seen_up_to
    assert start is not None
    return start - CHANGE_LAG


def unseen(state: FenceState, stamps: Sequence[Stamp]) -> list[Stamp]:
    """The stamps whose version the index does not hold (a retired fence it never held: none)."""
    return [
        stamp
        for stamp in stamps
        if state.versions.get(str(stamp[0])) != stamp[1]
        and (stamp[2] or str(stamp[0]) in state.versions)
    ]


def apply_changes(
    state: FenceState, stamps: Sequence[Stamp], rows: Sequence[FenceRow]
) -> FenceState | None:
    """``state`` with the changes applied (None when nothing changed): the fences of ``stamps``
    retired since, and ``rows`` (plain rows of the changed active ones) added or replaced.
    ``versions`` counts every active fence, a damaged one (left out of the index) too, so it
    agrees with the database's count."""
    latest = max((stamp[3] for stamp in stamps), default=None)
    seen_up_to = max(filter(None, (state.seen_up_to, latest)), default=None)
    changed = unseen(state, stamps)
    removed = [str(stamp[0]) for stamp in changed if not stamp[2]]
    wanted = {str(stamp[0]) for stamp in changed if stamp[2]}
    upserts = [row for row in rows if row[0] in wanted]
    if not upserts and not removed:
        if seen_up_to != state.seen_up_to:
            return FenceState(state.index, state.versions, seen_up_to, state.looked_at)
        return None
    opened = open_fences(upserts)
    broken = [row[0] for row, fence in opened if fence is None]
    versions = dict(state.versions)
    for fence_id in removed:
        versions.pop(fence_id, None)
    versions.update({row[0]: row[7] for row in upserts})
    index = state.index.changed(
        [fence for _, fence in opened if fence is not None], [*removed, *broken]
    )
    return FenceState(index, versions, seen_up_to, state.looked_at)


@dataclass
class FenceKeeper:
    """One per process: the fence index a receiver evaluates against, and its refresher."""

    state: FenceState | None = None
    checked: float = 0.0  # time.monotonic() of the last look
    due: bool = True  # look at the next call, whatever the time
    rebuilds: int = 0  # statistics: whole rebuilds and incremental changes applied
    increments: int = 0
    rebuilt_at: float = 0.0  # time.monotonic() of the last whole rebuild
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
                    self.rebuild()
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
        _refresher_thread.pacing = True
        rebuilds = self.rebuilds
        try:
            self.refresh()
            if self.rebuilds != rebuilds and gc.get_freeze_count():
                # The batch writer froze the index it warmed up with (freeze_long_lived_objects):
                # freeze the new one too, or every full collection walks its 30,000 fences
                # again. (No collection first: that would hold the interpreter for a while; a
                # little cyclic garbage of the moment may be kept for good.)
                gc.freeze()
        except Exception:  # noqa: BLE001 - keep the index in hand; the next look tries again
            # (after FENCE_CACHE_SECONDS, not at the next batch: a database that is down
            # must not cost a thread per batch)
            log.exception("telemetry: fence index refresh failed; the index in hand is kept")
        finally:
            connection.close()  # this thread's own connection

    def refresh(self) -> None:
        """One look: apply the changed fences, or rebuild when the count disagrees."""
        state = self.state
        if state is None or state.seen_up_to is None:
            self.rebuild()  # nothing seen yet (no fences at all): cheap
            return
        began = timezone.now()
        stamps = load_changes(look_since(state))
        changed = unseen(state, stamps)
        if len(changed) > REBUILD_AFTER_CHANGES:
            self.rebuild()
            return
        wanted = [stamp[0] for stamp in changed if stamp[2]]
        updated = apply_changes(state, stamps, load_rows(wanted) if wanted else [])
        if count_active() != len((updated or state).versions):
            self.rebuild()  # a fence deleted outright (or added unseen): rebuild them all
        elif updated is not None:
            self._swap(replace(updated, looked_at=began), rebuilt=False)
        else:  # nothing new: only where the next look starts moves (no new index)
            self.state = replace(state, looked_at=began)
        if time.monotonic() - self.rebuilt_at >= REBUILD_EVERY_S:
            self.rebuild()  # the safety net: whatever a look could have missed

    def rebuild(self, rows: Iterable[FenceRow] | None = None) -> None:
        """Build the whole index from plain rows and swap it in."""
        began = timezone.now()
        state = build_state(list(rows) if rows is not None else load_rows(), began)
        self._swap(state, rebuilt=True)

    def _swap(self, state: FenceState, rebuilt: bool) -> None:
        if self.before_swap is not None:
            self.before_swap()
        self.state = state  # one assignment: a batch holds the old index or the new one
        if rebuilt:
            self.rebuilds += 1
            self.rebuilt_at = time.monotonic()
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
