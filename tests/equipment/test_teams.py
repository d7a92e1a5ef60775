"""Deployment teams are access.TeamMembership rows, the team model cases use."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from haven.access import policy
from haven.access.models import TeamMembership, TeamRole
from haven.equipment import reports, selectors, services
from haven.equipment.models import DEPLOYMENT, Deployment, TeamPlace
from tests.equipment.helpers import make_deployment, supervisor, technician

pytestmark = pytest.mark.django_db

BEFORE = [
    ("access", "0002_deployment_team_roles"),
    ("equipment", "0002_custody_append_only_and_asset_types"),
]
AFTER = [("equipment", "0003_deployment_teams_in_access")]


def test_deployment_places_are_team_roles():
    assert set(TeamPlace.values) <= set(TeamRole.values)


def test_adding_to_a_deployment_team_writes_a_team_membership():
    boss, tech = supervisor(), technician()
    deployment = make_deployment(boss)
    services.add_team_member(boss, deployment.pk, tech, TeamPlace.LEAD)
    rows = TeamMembership.objects.filter(object_type=DEPLOYMENT, object_id=deployment.pk)
    assert sorted(rows.values_list("user__username", "team_role")) == sorted(
        [(boss.username, TeamPlace.SUPERVISOR), (tech.username, TeamPlace.LEAD)]
    )
    team = Deployment.objects.get(pk=deployment.pk).team
    assert [(m.user, m.get_place_display()) for m in team] == [
        (tech, "Lead technician"),
        (boss, "Supervising officer"),
    ]


def test_a_team_membership_opens_the_deployment_and_nothing_else_does():
    boss, member, stranger = supervisor(), technician(), technician()
    deployment = make_deployment(boss)
    other = make_deployment(boss, start=deployment.ends_at + timedelta(days=1))
    with pytest.raises(selectors.NotFound):
        selectors.get_deployment(member, deployment.pk)

    TeamMembership.objects.create(
        object_type=DEPLOYMENT, object_id=deployment.pk, user=member, team_role=TeamRole.TECHNICIAN
    )
    assert selectors.get_deployment(member, deployment.pk) == deployment
    assert list(selectors.deployments_visible_to(member)) == [deployment]
    assert selectors.team_place(member, deployment) == TeamPlace.TECHNICIAN
    assert not selectors.may_manage(member, deployment)
    with pytest.raises(selectors.NotFound):
        selectors.get_deployment(member, other.pk)
    with pytest.raises(selectors.NotFound):
        selectors.get_deployment(stranger, deployment.pk)
    assert not selectors.deployments_visible_to(stranger).exists()


def test_a_case_team_place_with_the_same_id_does_not_open_a_deployment():
    boss, officer = supervisor(), technician()
    deployment = make_deployment(boss)
    TeamMembership.objects.create(
        object_type="case", object_id=deployment.pk, user=officer, team_role=TeamRole.LEAD
    )
    with pytest.raises(selectors.NotFound):
        selectors.get_deployment(officer, deployment.pk)


def test_team_places_feed_double_booking_welfare_windows_and_the_log():
    boss, tech = supervisor(), technician()
    first = make_deployment(boss)
    services.add_team_member(boss, first.pk, tech, TeamPlace.TECHNICIAN)
    windows = selectors.deployment_windows(None, first.starts_at, first.ends_at)
    # The supervising officer plans; only the people on the ground are in the windows.
    assert windows == [(tech.pk, first.starts_at, first.ends_at, first.reference)]
    assert selectors.deployment_windows([boss.pk], first.starts_at, first.ends_at) == []
    log = reports.log_rows(
        selectors.export_deployment_log(boss, selectors.DeploymentSearch(), "csv")
    )
    assert f"{tech} (Technician)" in log[0][7] and f"{boss} (Supervising officer)" in log[0][7]


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_deployment_members_into_teams(resettable_ledger):
    boss, tech = supervisor(), technician()
    deployment = make_deployment(boss)
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        members = old.get_model("equipment", "DeploymentMember")
        # Going back moved the supervising officer's place into the old table.
        assert list(members.objects.values_list("user_id", "place")) == [
            (boss.pk, TeamPlace.SUPERVISOR)
        ]
        assert not TeamMembership.objects.filter(object_type=DEPLOYMENT).exists()
        members.objects.create(deployment_id=deployment.pk, user_id=tech.pk, place="lead")
        executor = MigrationExecutor(connection)
        executor.migrate(AFTER)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    copied = TeamMembership.objects.filter(object_type=DEPLOYMENT, object_id=deployment.pk)
    assert sorted(copied.values_list("user_id", "team_role")) == sorted(
        [(boss.pk, TeamRole.SUPERVISOR), (tech.pk, TeamRole.LEAD)]
    )
    assert "equipment_deploymentmember" not in connection.introspection.table_names()
    assert list(policy.team_object_ids(tech, DEPLOYMENT).values_list("object_id", flat=True)) == [
        deployment.pk
    ]
