from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from haven.rota import selectors, services
from haven.rota.models import AllowanceTier, Rotation, SwapStatus
from tests.equipment.helpers import supervisor, technician
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


def daily_rota(boss, people, *, starts_on=dt.date(2025, 3, 1), handover=dt.time(9), **kwargs):
    rota = services.create_rota(
        boss, name=kwargs.pop("name", "Tech on call"), starts_on=starts_on, **kwargs
    )
    services.add_layer(
        boss,
        rota.pk,
        name="Primary",
        members=people,
        handover_time=handover,
        rotation=Rotation.DAILY,
    )
    return rota


def test_spring_changeover_keeps_the_0900_handover_and_makes_a_23_hour_shift():
    boss, a, b = supervisor(), technician(), technician()
    rota = daily_rota(boss, [a, b])
    segments = selectors.resolve(rota, local(2025, 3, 29, 9), local(2025, 4, 1, 9))
    assert [s.starts_at.astimezone(LONDON).hour for s in segments] == [9, 9, 9]
    assert [s.hours for s in segments] == [23.0, 24.0, 24.0]  # clocks go forward 30 March
    assert segments[0].starts_at == dt.datetime(2025, 3, 29, 9, tzinfo=UTC)
    assert segments[1].starts_at == dt.datetime(2025, 3, 30, 8, tzinfo=UTC)


def test_autumn_changeover_keeps_the_0900_handover_and_makes_a_25_hour_shift():
    boss, a, b = supervisor(), technician(), technician()
    rota = daily_rota(boss, [a, b], starts_on=dt.date(2025, 10, 1))
    segments = selectors.resolve(rota, local(2025, 10, 25, 9), local(2025, 10, 28, 9))
    assert [s.starts_at.astimezone(LONDON).hour for s in segments] == [9, 9, 9]
    assert [s.hours for s in segments] == [25.0, 24.0, 24.0]  # clocks go back 26 October
    assert segments[1].starts_at == dt.datetime(2025, 10, 26, 9, tzinfo=UTC)


def test_a_handover_inside_the_spring_gap_is_read_one_hour_later_on_the_clock():
    boss, a = supervisor(), technician()
    rota = daily_rota(boss, [a, technician()], handover=dt.time(1, 30))
    starts = [
        s.starts_at for s in selectors.resolve(rota, local(2025, 3, 29, 0), local(2025, 4, 1, 0))
    ]
    # 01:30 does not exist on 30 March: the hand-over happens at 02:30 BST (01:30 UTC)
    assert dt.datetime(2025, 3, 30, 1, 30, tzinfo=UTC) in starts
    assert dt.datetime(2025, 3, 31, 0, 30, tzinfo=UTC) in starts  # 01:30 BST next day


def test_weekly_rotation_alternates_people_and_on_call_now_follows():
    boss, a, b = supervisor(), technician(), technician()
    rota = services.create_rota(boss, name="Weekly", starts_on=dt.date(2025, 1, 6))
    services.add_layer(
        boss,
        rota.pk,
        name="Week",
        members=[a, b],
        handover_time=dt.time(9),
        rotation=Rotation.WEEKLY,
    )
    assert selectors.on_call_now(rota, local(2025, 1, 7, 12)) == a
    assert selectors.on_call_now(rota, local(2025, 1, 13, 8, 59)) == a
    assert selectors.on_call_now(rota, local(2025, 1, 13, 9)) == b
    assert selectors.on_call_now(rota, local(2025, 1, 20, 10)) == a
    assert selectors.on_call_now(rota, local(2025, 1, 1, 10)) is None  # before the rota


def test_higher_priority_layers_and_overrides_win_and_the_chain_lists_both():
    boss, a, b, c = supervisor(), technician(), technician(), technician()
    rota = daily_rota(boss, [a])
    services.add_layer(
        boss,
        rota.pk,
        name="Weekend",
        members=[b],
        handover_time=dt.time(9),
        rotation=Rotation.DAILY,
        priority=5,
        days_of_week=[5, 6],
    )
    assert selectors.on_call_now(rota, local(2025, 3, 5, 12)) == a  # Wednesday
    assert selectors.on_call_now(rota, local(2025, 3, 8, 12)) == b  # Saturday
    assert selectors.escalation_chain(rota, local(2025, 3, 8, 12)) == [b, a]
    services.add_override(
        boss,
        rota.pk,
        user=c,
        starts_at=local(2025, 3, 8, 10),
        ends_at=local(2025, 3, 8, 14),
        reason="cover",
    )
    assert selectors.on_call_now(rota, local(2025, 3, 8, 12)) == c
    assert selectors.escalation_chain(rota, local(2025, 3, 8, 12)) == [c, b, a]


def test_an_override_outside_the_rota_or_ending_before_it_starts_is_refused():
    boss, a = supervisor(), technician()
    rota = daily_rota(boss, [a], ends_on=dt.date(2025, 3, 31))
    with pytest.raises(ValidationError, match="outside the rota"):
        services.add_override(
            boss,
            rota.pk,
            user=a,
            starts_at=local(2025, 4, 2, 9),
            ends_at=local(2025, 4, 2, 10),
            reason="x",
        )
    with pytest.raises(ValidationError, match="after the start"):
        services.add_override(
            boss,
            rota.pk,
            user=a,
            starts_at=local(2025, 3, 2, 9),
            ends_at=local(2025, 3, 2, 8),
            reason="x",
        )
    assert rota.overrides.count() == 0


@time_machine.travel(dt.datetime(2025, 3, 3, 12, tzinfo=UTC), tick=False)
def test_a_swap_takes_effect_only_when_the_colleague_accepts():
    boss, a, b = supervisor(), technician(), technician()
    rota = daily_rota(boss, [a, b])  # a on odd days from 1 March
    start, end = local(2025, 3, 5, 9), local(2025, 3, 6, 9)
    assert selectors.on_call_now(rota, local(2025, 3, 5, 12)) == a
    swap = services.request_swap(a, rota.pk, counterpart=b, starts_at=start, ends_at=end)
    assert selectors.on_call_now(rota, local(2025, 3, 5, 12)) == a  # nobody accepted yet
    with pytest.raises(ValidationError, match="Only the colleague"):
        services.accept_swap(a, swap.pk)
    services.accept_swap(b, swap.pk)
    assert selectors.on_call_now(rota, local(2025, 3, 5, 12)) == b
    swap.refresh_from_db()
    assert swap.status == SwapStatus.ACCEPTED
    with pytest.raises(ValidationError, match="already accepted"):
        services.accept_swap(b, swap.pk)


@time_machine.travel(dt.datetime(2025, 3, 3, 12, tzinfo=UTC), tick=False)
def test_a_swap_of_someone_elses_shift_is_refused():
    boss, a, b = supervisor(), technician(), technician()
    rota = daily_rota(boss, [a, b])
    with pytest.raises(ValidationError, match="not on call"):
        services.request_swap(
            b, rota.pk, counterpart=a, starts_at=local(2025, 3, 5, 9), ends_at=local(2025, 3, 6, 9)
        )


def test_gaps_are_flagged_in_the_next_30_days():
    boss, a = supervisor(), technician()
    rota = services.create_rota(boss, name="Gappy", starts_on=dt.date(2025, 3, 1))
    services.add_layer(
        boss,
        rota.pk,
        name="Weekdays",
        members=[a],
        handover_time=dt.time(9),
        rotation=Rotation.DAILY,
        days_of_week=[0, 1, 2, 3, 4],
    )
    found = selectors.gaps(rota, now=local(2025, 3, 3, 12))
    assert found and all(g.user is None for g in found)
    assert found[0].starts_at == local(2025, 3, 8, 9)  # Saturday morning
    assert all(g.starts_at < local(2025, 4, 3, 12) for g in found)


def test_allowance_summary_counts_days_on_call_and_prices_daily_tiers():
    boss, a, b = supervisor(), technician(), technician()
    tier = AllowanceTier.objects.get(code="officer-daily")
    daily_rota(boss, [a, b], allowance_tier=tier)
    rows = {row.person: row for row in selectors.allowance_summary(boss, 2025, 3)}
    # a covers 1, 3, 5 ... 31 March from 09:00: touches every calendar day of March
    assert rows[a].days == 31 and rows[b].days == 30
    assert rows[a].amount == 31 * tier.daily_amount
    assert rows[a].hours + rows[b].hours == pytest.approx(31 * 24 - 1 - 9)  # BST; from 1 Mar 09:00
    own = selectors.allowance_summary(a, 2025, 3)
    assert {row.person for row in own} == {a}


def test_rota_bad_input():
    boss = supervisor()
    with pytest.raises(ValidationError, match="IANA"):
        services.create_rota(boss, name="Bad", starts_on=dt.date(2025, 1, 1), time_zone="Mars/Base")
    rota = services.create_rota(boss, name="Good", starts_on=dt.date(2025, 1, 1))
    with pytest.raises(ValidationError):
        services.add_layer(boss, rota.pk, name="L", members=[], handover_time=dt.time(9))
    with pytest.raises(ValidationError):
        services.add_layer(
            boss,
            rota.pk,
            name="L",
            members=[UserFactory(roles=["auditor"])],
            handover_time=dt.time(9),
        )
    assert rota.layers.count() == 0


def test_feed_tokens_are_revocable():
    a = technician()
    _, secret = services.issue_feed_token(a)
    assert selectors.feed_user(secret) == a
    _, newer = services.issue_feed_token(a)
    assert selectors.feed_user(secret) is None and selectors.feed_user(newer) == a
    services.revoke_feed_token(a)
    assert selectors.feed_user(newer) is None
