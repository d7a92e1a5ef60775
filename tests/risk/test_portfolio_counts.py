"""The portfolio's counts are kept per user by triggers (PortfolioCount) instead of aggregated
over the caseload: they must stay exactly what the visibility rule lets the user see, after
approvals, returns, team changes and grants that start and expire."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from haven.access.models import AccessGrant, GrantKind, TeamMembership, TeamRole
from haven.accounts.models import User
from haven.accounts.roles import Clearance, Role
from haven.cases import services as case_services
from haven.risk import portfolio_counts, selectors, services
from haven.risk.models import PortfolioCount, RiskAssessment
from tests.factories import UserFactory, make_case

from .helpers import Team, approved, make_team

pytestmark = pytest.mark.django_db

HIGH = {"likelihood": 4, "impact": 5, "residual_likelihood": 2, "residual_impact": 5}
LOW = {"likelihood": 1, "impact": 2, "residual_likelihood": 1, "residual_impact": 1}


def reference(user: User) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    """The counts aggregated over every current assessment the rule lets `user` see (the
    query the portfolio ran before PortfolioCount)."""
    today = timezone.localdate()
    soon = today + timedelta(days=14)
    rows = (
        selectors.current_assessments_visible_to(user)
        .order_by()
        .values(*selectors.GROUP_KEY)
        .annotate(
            n=Count("pk"),
            o=Count("pk", filter=Q(next_review_on__lt=today)),
            d=Count("pk", filter=Q(next_review_on__gte=today, next_review_on__lte=soon)),
        )
    )
    return {tuple(r[k] for k in selectors.GROUP_KEY): (r["n"], r["o"], r["d"]) for r in rows}


def counted(user: User) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    today = timezone.localdate()
    rows = selectors.portfolio_groups(user, today, today + timedelta(days=14))
    return {
        tuple(r[k] for k in selectors.GROUP_KEY): (r["n"], r["n_overdue"], r["n_due_soon"])
        for r in rows
    }


def assessed(user: User) -> int:
    return sum(n for n, _, _ in counted(user).values())


def check(*users: User) -> None:
    for user in users:
        assert counted(user) == reference(user), user


def rebuilt_equals_kept() -> None:
    kept = sorted(PortfolioCount.objects.values_list("user", "band", "review_on", "n"))
    with connection.cursor() as cursor:
        portfolio_counts.rebuild(cursor.execute)
    assert sorted(PortfolioCount.objects.values_list("user", "band", "review_on", "n")) == kept


def second_case(team: Team, **scores: Any) -> Team:
    case = make_case(team.officer, name="Walter Secondcase")
    case_services.add_member(case, team.manager, TeamRole.MANAGER)
    case_services.add_member(case, team.authoriser, TeamRole.AUTHORISING)
    other = Team(team.officer, team.manager, team.authoriser, team.outsider, case)
    approved(other, **scores)
    return other


def test_a_managers_counts_exclude_the_cases_they_may_not_see():
    team = make_team()
    approved(team, **HIGH)
    elsewhere = make_team()  # another manager's case, never on this manager's team
    approved(elsewhere, **HIGH)
    assert assessed(team.manager) == 1 and assessed(elsewhere.manager) == 1
    assert assessed(team.outsider) == 0 and counted(team.outsider) == {}
    check(team.manager, team.officer, team.outsider, elsewhere.manager)
    view = selectors.portfolio(team.manager, "supervision")
    assert view.assessed == 1 and [a.case_id for a in view.page.object_list] == [team.case.pk]


def test_counts_move_when_a_new_version_is_approved():
    team = make_team()
    approved(team, **LOW)
    before = counted(team.manager)
    approved(team, **HIGH)
    after = counted(team.manager)
    assert before != after and sum(n for n, _, _ in after.values()) == 1
    assert [key[0] for key in before] != [key[0] for key in after]  # another band
    check(team.manager, team.officer, team.authoriser, team.outsider)
    rebuilt_equals_kept()


def test_counts_return_to_the_restored_version_when_an_approval_is_returned():
    team = make_team()
    approved(team, **LOW)
    low = counted(team.manager)
    newer = approved(team, **HIGH)
    services.return_assessment(team.authoriser, newer.pk, "Evidence for the score is missing")
    assert counted(team.manager) == low
    check(team.manager, team.officer, team.authoriser)


def test_a_removed_member_stops_counting_the_case_and_two_places_count_once():
    team = make_team()
    approved(team, **HIGH)
    colleague = UserFactory(roles=[Role.PROTECTION_MANAGER])
    case_services.add_member(team.case, colleague, TeamRole.MANAGER)
    case_services.add_member(team.case, colleague, TeamRole.OFFICER)
    assert assessed(colleague) == 1
    places = TeamMembership.objects.filter(user=colleague, object_id=team.case.pk)
    officer_place = places.get(team_role=TeamRole.OFFICER)
    case_services.remove_team_member(
        team.manager, team.case.pk, officer_place.pk, reason="Covering another case"
    )
    assert assessed(colleague) == 1  # still a manager of the case
    manager_place = places.get(team_role=TeamRole.MANAGER)
    case_services.remove_team_member(team.manager, team.case.pk, manager_place.pk, reason="Moved")
    assert assessed(colleague) == 0
    assert not PortfolioCount.objects.filter(user=colleague).exists()
    check(colleague, team.manager)


def test_two_places_removed_in_one_statement_take_the_case_off_once():
    team = make_team()
    approved(team, **HIGH)
    second_case(team, **HIGH)
    colleague = UserFactory(roles=[Role.PROTECTION_MANAGER])
    for case in (team.case,):
        case_services.add_member(case, colleague, TeamRole.MANAGER)
        case_services.add_member(case, colleague, TeamRole.OFFICER)
    TeamMembership.objects.bulk_create(
        [
            TeamMembership(object_type="case", object_id=a.case_id, user=colleague, team_role=r)
            for a in selectors.current_assessments_visible_to(team.manager).exclude(
                case_id=team.case.pk
            )
            for r in (TeamRole.LEAD, TeamRole.OFFICER)
        ]
    )  # two places on the second case in one INSERT: counted once
    assert assessed(colleague) == 2
    TeamMembership.objects.filter(user=colleague, object_id=team.case.pk)._raw_delete("default")
    assert assessed(colleague) == 1
    check(colleague, team.manager)
    rebuilt_equals_kept()


def test_a_grant_counts_while_it_lasts_and_never_twice():
    team = make_team()
    approved(team, **HIGH)
    reader = UserFactory(roles=[Role.PROTECTION_MANAGER])
    grant = case_services.grant_access(
        team.manager, team.case.pk, reader, reason="Covering leave", days=3
    )
    assert assessed(reader) == 1
    check(reader)
    AccessGrant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert assessed(reader) == 0 and counted(reader) == reference(reader) == {}
    # A live grant on a case the user is also on the team of counts the case once.
    AccessGrant.objects.create(
        object_type="case", object_id=team.case.pk, user=team.officer, kind=GrantKind.GRANT,
        granted_by=team.manager, expires_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    assert assessed(team.officer) == 1
    check(team.officer, reader)


def test_clearance_and_module_are_applied_when_the_counts_are_read():
    team = make_team()
    approved(team, **HIGH)
    uncleared = UserFactory(roles=[Role.PROTECTION_MANAGER], clearance=Clearance.OFFICIAL)
    no_module = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    for user in (uncleared, no_module):
        case_services.add_member(team.case, user, TeamRole.OFFICER)
    check(uncleared)
    RiskAssessment.objects.filter(case_id=team.case.pk).update(classification=Clearance.SECRET)
    assert assessed(uncleared) == 0 and assessed(team.manager) == 1
    assert assessed(no_module) == 0
    assert PortfolioCount.objects.filter(user=no_module).exists()  # kept, never shown
    check(uncleared, no_module)


def test_the_triggers_are_installed():
    assert portfolio_counts.missing(connection) == []


@pytest.mark.django_db(transaction=True)
def test_a_migrate_after_the_triggers_were_dropped_puts_them_back_and_recounts():
    from django.apps import apps
    from django.db.models.signals import post_migrate

    team = make_team()
    approved(team, **HIGH)
    table = "risk_riskassessment"  # what a SQLite table rebuild does to its triggers
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name in portfolio_counts.PG_TRIGGERS[table]:
                cursor.execute(f"DROP TRIGGER {name} ON {table}")
        else:
            for name in portfolio_counts.SQLITE_TRIGGERS[table]:
                cursor.execute(f"DROP TRIGGER {name}")
    second_case(team, **LOW)  # not counted: the trigger is gone
    assert counted(team.manager) != reference(team.manager)
    post_migrate.send(apps.get_app_config("risk"), app_config=apps.get_app_config("risk"),
                      verbosity=0, interactive=False, using=connection.alias)  # fmt: skip
    assert portfolio_counts.missing(connection) == []
    assert counted(team.manager) == reference(team.manager)


def test_reading_the_counts_is_two_queries_whatever_the_caseload():
    team = make_team()
    approved(team, **HIGH)
    second_case(team, **LOW)
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        counted(team.manager)
    assert len(queries.captured_queries) == 2
    assert "risk_portfoliocount" in queries.captured_queries[0]["sql"]


def teams_with_a_live_and_an_expired_grant() -> tuple[Team, Team, Team]:
    """A team with two cases; its manager also holds a live grant to a second team's case and
    an expired one to a third's."""
    team = make_team()
    approved(team, **HIGH)
    second_case(team, **LOW)
    elsewhere = make_team()
    approved(elsewhere, **HIGH)
    case_services.grant_access(
        elsewhere.manager, elsewhere.case.pk, team.manager, reason="Covering leave", days=3
    )
    expired = make_team()
    approved(expired, **HIGH)
    AccessGrant.objects.create(
        object_type="case", object_id=expired.case.pk, user=team.manager, kind=GrantKind.GRANT,
        granted_by=expired.manager, expires_at=timezone.now() - timedelta(minutes=1),
    )  # fmt: skip
    return team, elsewhere, expired


def test_the_index_walk_for_a_large_caseload_lists_exactly_the_same_pages(monkeypatch):
    team, elsewhere, expired = teams_with_a_live_and_an_expired_grant()

    def listed(user: User, **filters: Any) -> list[Any]:
        return [
            a.case_id for a in selectors.portfolio(user, "supervision", **filters).page.object_list
        ]

    shown = {
        (u.pk, f): listed(u, show=f)
        for u in (team.manager, team.outsider)
        for f in ("all", "overdue")
    }
    monkeypatch.setattr(selectors, "WALK_FROM", 0)
    for (user_pk, show), cases in shown.items():
        assert listed(User.objects.get(pk=user_pk), show=show) == cases
    assert set(shown[(team.manager.pk, "all")]) == {team.case.pk, elsewhere.case.pk} | {
        a.case_id for a in selectors.current_assessments_visible_to(team.manager)
    }
    assert expired.case.pk not in shown[(team.manager.pk, "all")]


def test_the_page_reads_the_visible_set_in_two_parts_whose_union_is_the_rule():
    """PostgreSQL lists a page from the team part and the grant part separately (so it can plan
    each as a semi-join): together they must be exactly what the rule lets each user see."""
    team, elsewhere, expired = teams_with_a_live_and_an_expired_grant()
    secret = make_team()
    case_services.add_member(secret.case, team.manager, TeamRole.MANAGER)
    approved(secret, **HIGH)
    RiskAssessment.objects.filter(case_id=secret.case.pk).update(
        classification=Clearance.TOP_SECRET
    )
    no_module = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    case_services.add_member(team.case, no_module, TeamRole.OFFICER)

    def ids(assessments: Any) -> set[Any]:
        return set(assessments.values_list("pk", flat=True))

    users = (team.manager, team.outsider, elsewhere.manager, expired.manager, no_module)
    for user in User.objects.filter(pk__in=[u.pk for u in users]):
        parts = selectors._team_and_granted(user)
        assert set().union(*map(ids, parts)) == ids(
            selectors.current_assessments_visible_to(user)
        ), user
    manager = User.objects.get(pk=team.manager.pk)
    team_part, grant_part = map(ids, selectors._team_and_granted(manager))
    assert team_part and grant_part  # both parts are exercised, and the secret case is not
    assert not ids(RiskAssessment.objects.filter(case_id=secret.case.pk)) & (team_part | grant_part)
    assert selectors._team_and_granted(User.objects.get(pk=no_module.pk))[0].count() == 0
