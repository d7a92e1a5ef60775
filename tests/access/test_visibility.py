"""The visibility registry (haven.access.visibility): one rule per protected model."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured

from haven.access import visibility
from haven.access.models import Classified, TeamMembership, TeamRole
from haven.access.visibility import NOTHING, Access, NotRegistered, restrict
from haven.accounts.roles import Clearance, Role
from haven.cases.models import Case
from haven.cases.selectors import cases_visible_to
from haven.equipment import services as equipment_services
from haven.equipment.models import DEPLOYMENT, AssetType, Deployment, TeamPlace
from tests.equipment.helpers import make_deployment, supervisor, technician
from tests.factories import UserFactory, make_case
from tests.vault.probe.models import Probe

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("target", [AssetType, Probe, Probe.objects.all(), TeamMembership])
def test_a_model_with_no_rule_cannot_be_listed_through_restrict(target):
    user = UserFactory(roles=[Role.TECHNICAL_SUPERVISOR, Role.PROTECTION_MANAGER])
    with pytest.raises(NotRegistered):
        restrict(target, user)
    with pytest.raises(NotRegistered):  # not an empty answer, even for nobody
        restrict(target, AnonymousUser())


def test_every_classified_model_states_its_visible_set():
    classified = {model for model in apps.get_models() if issubclass(model, Classified)}
    assert {Case, Deployment} <= classified
    assert classified <= visibility.registered()


@pytest.mark.parametrize("model", sorted(visibility.registered(), key=str), ids=str)
def test_no_registered_model_is_open_to_a_user_without_its_module(model):
    nobody = UserFactory(roles=[], clearance=Clearance.TOP_SECRET)
    assert visibility.visible(model, nobody) is NOTHING
    assert visibility.visible(model, AnonymousUser()) is NOTHING
    assert not restrict(model, AnonymousUser()).exists()


def test_a_model_states_its_rule_once():
    rule = visibility.rule_for(Case)
    assert visibility.register(Case, rule) is rule  # the same rule again: no change
    with pytest.raises(ImproperlyConfigured, match="already has a visibility rule"):
        visibility.register(Case, lambda user, action: NOTHING)
    assert visibility.rule_for(Case) is rule


def test_cases_come_from_the_team_and_grant_rule():
    lead, stranger = UserFactory(), UserFactory()
    case = make_case(lead)
    assert list(restrict(Case, lead)) == [case] == list(cases_visible_to(lead))
    assert not restrict(Case, stranger).exists()
    below = UserFactory(clearance=Clearance.OFFICIAL)
    TeamMembership.objects.create(
        object_type="case", object_id=case.pk, user=below, team_role=TeamRole.OFFICER
    )
    assert not restrict(Case, below).exists()  # on the team, but not cleared to SECRET


def test_deployments_come_from_the_team_and_clearance():
    boss, tech, stranger = supervisor(), technician(), technician()
    deployment = make_deployment(boss, classification=Clearance.SECRET)
    equipment_services.add_team_member(boss, deployment.pk, tech, TeamPlace.TECHNICIAN)
    assert list(restrict(Deployment, tech)) == [deployment]
    assert not restrict(Deployment, stranger).exists()
    uncleared = technician(clearance=Clearance.OFFICIAL)
    TeamMembership.objects.create(
        object_type=DEPLOYMENT,
        object_id=deployment.pk,
        user=uncleared,
        team_role=TeamRole.TECHNICIAN,
    )
    assert not restrict(Deployment, uncleared).exists()


def test_changing_a_deployment_needs_the_supervising_place_and_role():
    boss, tech, other_boss = supervisor(), technician(), supervisor()
    deployment = make_deployment(boss)
    equipment_services.add_team_member(boss, deployment.pk, tech, TeamPlace.LEAD)
    equipment_services.add_team_member(boss, deployment.pk, other_boss, TeamPlace.LEAD)
    assert list(restrict(Deployment, boss, Access.CHANGE)) == [deployment]
    for on_the_team in (tech, other_boss):
        assert list(restrict(Deployment, on_the_team)) == [deployment]
        assert not restrict(Deployment, on_the_team, Access.CHANGE).exists()
    with pytest.raises(ValueError):
        restrict(Deployment, boss, "delete")
