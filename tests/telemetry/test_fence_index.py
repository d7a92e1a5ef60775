"""The receiver's fence index: changes applied one fence at a time, rebuilds off the alarm
path, and an alarm evaluated against the index in hand while a rebuild runs."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.utils import timezone

from haven.accounts.roles import Role
from haven.telemetry import fence_index, services
from haven.telemetry import geofence as gf
from haven.telemetry.geofence import M_PER_DEG_LAT
from haven.telemetry.models import Geofence
from haven.vault.keyring import get_keyring
from tests.factories import UserFactory

from .helpers import make_circle, make_device, message

pytestmark = pytest.mark.django_db
HOME = (51.5, -0.12)
KEEPER = fence_index.KEEPER


def north(metres: float) -> float:
    return HOME[0] + metres / M_PER_DEG_LAT


def test_changing_one_fence_recompiles_only_that_fence():
    supervisor = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    fences = [make_circle(None, 52.0 + n / 10, 0.0, 100, kind="exclusion") for n in range(3)]
    before = services.fence_index()
    assert KEEPER.rebuilds == 1 and len(before) == 3
    moved = services.update_geofence(
        supervisor,
        fences[1].pk,
        version=fences[1].version,
        name="Moved",
        kind="exclusion",
        area=services.fence_area(lat=53.5, lon=0.0, radius_m=100),
    )
    after = services.fence_index()
    assert (KEEPER.rebuilds, KEEPER.increments) == (1, 1)
    assert after is not before and before.by_id[str(moved.pk)].fence.centre == (52.1, 0.0)
    assert after.by_id[str(moved.pk)].fence.centre == (53.5, 0.0)
    for unchanged in (fences[0], fences[2]):  # the same compiled objects, not rebuilt
        assert after.by_id[str(unchanged.pk)] is before.by_id[str(unchanged.pk)]
    assert [c.fence.id for c in after.near(53.5, 0.0, 10)] == [str(moved.pk)]
    assert after.near(52.1, 0.0, 10) == []
    assert services.fence_index() is after  # nothing changed since: the same index


def test_a_zone_moved_under_a_device_alerts_at_its_next_fix():
    supervisor = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    device = make_device()
    zone = make_circle(device, *HOME, 200, kind="safe")
    start = timezone.now() - dt.timedelta(minutes=5)
    services.ingest(message(device, fix_time=start, lat=HOME[0], lon=HOME[1], accuracy=5))
    services.update_geofence(
        supervisor,
        zone.pk,
        version=zone.version,
        name="Moved home",
        kind="safe",
        area=services.fence_area(lat=north(2000), lon=HOME[1], radius_m=200),
        device=device,
    )
    result = services.ingest(
        message(device, fix_time=start + dt.timedelta(seconds=10), lat=HOME[0], lon=HOME[1])
    )
    assert [e.type for e in result.events] == ["geofence_exit"]
    assert KEEPER.rebuilds == 1 and KEEPER.increments == 1


def test_retiring_one_fence_removes_it_without_a_rebuild():
    supervisor = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    keep = make_circle(None, 52.0, 0.0, 100, kind="exclusion")
    gone = make_circle(None, 52.1, 0.0, 100, kind="exclusion")
    assert len(services.fence_index()) == 2
    services.retire_geofence(supervisor, gone.pk, version=gone.version)
    index = services.fence_index()
    assert set(index.by_id) == {str(keep.pk)}
    assert (KEEPER.rebuilds, KEEPER.increments) == (1, 1)
    device = make_device()
    result = services.ingest(message(device, lat=52.1, lon=0.0, accuracy=5))
    assert result.events == [] and result.alerts == []  # the retired zone raises nothing


def test_a_fence_deleted_outright_is_caught_by_the_count_and_rebuilt():
    keep = make_circle(None, 52.0, 0.0, 100, kind="exclusion")
    gone = make_circle(None, 52.1, 0.0, 100, kind="exclusion")
    assert len(services.fence_index()) == 2
    Geofence.objects.filter(pk=gone.pk).delete()  # e.g. with its device: no version moves
    services.invalidate_fences()
    assert set(services.fence_index().by_id) == {str(keep.pk)}
    assert KEEPER.rebuilds == 2


def test_a_new_fence_is_added_incrementally_and_a_resent_change_is_not_applied_twice():
    make_circle(None, 52.0, 0.0, 100, kind="exclusion")
    services.fence_index()
    added = make_circle(None, 52.5, 0.0, 100, kind="exclusion")
    assert str(added.pk) in services.fence_index().by_id
    assert KEEPER.increments == 1
    services.invalidate_fences()  # the same rows again (the look-back window): no new index
    index = services.fence_index()
    assert KEEPER.increments == 1 and services.fence_index() is index


def test_a_look_reads_only_stamps_since_the_previous_look_not_a_past_bulk_import(monkeypatch):
    """Fences imported in bulk an hour ago share one stamp; a look made after the index was
    built must not read all their stamps again (it did at every look, every 2 s, for as long
    as no fence changed after them), yet a fence changed since is still found."""
    for n in range(5):
        make_circle(None, 52.0 + n / 10, 0.0, 100, kind="exclusion")
    Geofence.objects.update(updated_at=timezone.now() - dt.timedelta(hours=1))
    index = services.fence_index()
    read: list[list[fence_index.Stamp]] = []
    load_changes = fence_index.load_changes

    def counted(since: dt.datetime) -> list[fence_index.Stamp]:
        stamps = load_changes(since)
        read.append(stamps)
        return stamps

    monkeypatch.setattr(fence_index, "load_changes", counted)
    services.invalidate_fences()
    assert services.fence_index() is index and read == [[]]
    added = make_circle(None, 53.0, 0.0, 100, kind="exclusion")
    assert str(added.pk) in services.fence_index().by_id
    assert [str(stamp[0]) for stamp in read[-1]] == [str(added.pk)]
    assert KEEPER.rebuilds == 1


def test_a_damaged_fence_is_left_out_without_stopping_the_others(caplog):
    good = make_circle(None, 52.0, 0.0, 100, kind="exclusion")
    bad = make_circle(None, 52.1, 0.0, 100, kind="exclusion")
    rows = [
        row if row[0] != str(bad.pk) else (*row[:2], "hv1.nokey.AAAA", *row[3:])
        for row in fence_index.load_rows()
    ]
    state = fence_index.build_state(rows)
    assert set(state.index.by_id) == {str(good.pk)}
    assert set(state.versions) == {str(good.pk), str(bad.pk)}  # still counted: no rebuild loop
    assert "left out of the index" in caplog.text


def test_an_alarm_during_a_rebuild_is_judged_by_the_index_in_hand_and_alerts(
    monkeypatch: pytest.MonkeyPatch, settings
):
    UserFactory(roles=[Role.TECHNICAL_SUPERVISOR])
    device = make_device(kind="panic_alarm")
    zone = make_circle(device, *HOME, 200, kind="safe")
    start = timezone.now() - dt.timedelta(minutes=5)
    services.ingest(message(device, fix_time=start, lat=HOME[0], lon=HOME[1], accuracy=5))
    other = make_circle(None, north(1000), HOME[1], 100, kind="exclusion")
    # What the background rebuild will read: the zone gone (deleted outright), the other there.
    rows = [row for row in fence_index.load_rows() if row[0] != str(zone.pk)]
    get_keyring()  # cached for the refresher thread, which reads nothing else
    settings.HAVEN_FENCE_BACKGROUND = True
    stamps = [(row[0], row[7], row[9], row[8]) for row in rows]
    monkeypatch.setattr(fence_index, "load_rows", lambda ids=None: rows)
    monkeypatch.setattr(fence_index, "load_changes", lambda since: stamps)
    monkeypatch.setattr(fence_index, "count_active", lambda: len(rows))
    started, release = threading.Event(), threading.Event()

    def hold_the_rebuild() -> None:
        if threading.current_thread().name == "haven-fence-refresh":
            started.set()
            assert release.wait(30)

    monkeypatch.setattr(KEEPER, "before_swap", hold_the_rebuild)
    in_hand = services.fence_index()
    services.invalidate_fences()
    try:
        sos = services.ingest(
            message(
                device,
                fix_time=start + dt.timedelta(seconds=10),
                lat=north(1000),
                lon=HOME[1],
                accuracy=5,
                alarms=("sos",),
            )
        )
        assert started.wait(30)
        refresher = KEEPER._refresher
        assert refresher is not None and refresher.is_alive()  # the rebuild is still held
        # Judged by the index in hand: left the zone (which the rebuild drops), and the other
        # zone (which only the rebuild knows) is not entered; both alerts raised at once.
        assert sorted(e.type for e in sos.events) == ["alarm", "geofence_exit"]
        assert len(sos.alerts) == 2
        assert services.fence_index() is in_hand
    finally:
        release.set()
        KEEPER.wait(30)
    assert set(services.fence_index().by_id) == {str(other.pk)}
    assert KEEPER.rebuilds == 2


def test_changed_index_keeps_order_and_shares_unchanged_fences():
    fences = [gf.Fence(id=f"f{n}", centre=(52.0, n / 100), radius_m=50) for n in range(4)]
    index = gf.FenceIndex(fences)
    moved = gf.Fence(id="f1", centre=(53.0, 0.0), radius_m=50)
    added = gf.Fence(id="f9", centre=(54.0, 0.0), radius_m=50)
    after = index.changed([moved, added], removed=["f2"])
    assert [c.fence.id for c in after.compiled] == ["f0", "f1", "f3", "f9"]
    assert after.by_id["f0"] is index.by_id["f0"] and after.by_id["f1"].fence is moved
    assert [c.fence.id for c in after.near(54.0, 0.0, 5)] == ["f9"]
    assert len(index) == 4  # the old index is untouched


def test_compiled_in_bulk_matches_one_by_one():
    fences = [
        gf.Fence(id="c", centre=(51.5, -0.1), radius_m=120),
        gf.Fence(id="p", points=((51.0, 0.0), (51.0, 0.01), (51.01, 0.0))),
    ]
    for bulk, fence in zip(gf.compile_fences(fences), fences, strict=True):
        single = gf.CompiledFence.build(fence)
        assert bulk.envelope.equals_exact(single.envelope, 1e-12)
        assert bulk.signed_distance_m(51.5, -0.1) == single.signed_distance_m(51.5, -0.1)


def test_a_failed_background_look_keeps_the_index_in_hand(
    monkeypatch: pytest.MonkeyPatch, settings, caplog
):
    zone = make_circle(None, 52.0, 0.0, 100, kind="exclusion")
    in_hand = services.fence_index()
    settings.HAVEN_FENCE_BACKGROUND = True

    def database_down(since):
        raise OSError("connection refused")

    monkeypatch.setattr(fence_index, "load_changes", database_down)
    services.invalidate_fences()
    assert services.fence_index() is in_hand  # answered at once, the look goes on behind
    KEEPER.wait(30)
    assert "refresh failed" in caplog.text
    assert not KEEPER.due  # tried again after FENCE_CACHE_SECONDS, not at every batch
    assert KEEPER.state is not None and KEEPER.state.index is in_hand
    assert set(in_hand.by_id) == {str(zone.pk)}
