"""`haven audit verify --state`: access-control rows that no ledger entry explains (issue 17
item 6). The world is built through the services only, so that every row has its entry; each
attack then changes one row by SQL, as a DBA would, and must be named."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from haven.access.models import AccessGrant, TeamMembership, TeamRole
from haven.accounts import services as account_services
from haven.accounts.roles import Clearance, Role
from haven.audit import state
from haven.cases import services as case_services
from haven.equipment import services as equipment_services
from haven.equipment.models import TeamPlace
from tests.factories import PASSWORD

from .ledger_helpers import audit, checkpoint

pytestmark = pytest.mark.django_db


def account(username: str, *roles: str, clearance: int = Clearance.TOP_SECRET) -> Any:
    return account_services.create_user(username, PASSWORD, list(roles), clearance)


@pytest.fixture
def world() -> dict[str, Any]:
    officer = account("st-officer", Role.PROTECTION_OFFICER)
    manager = account("st-manager", Role.PROTECTION_MANAGER)
    outsider = account("st-outsider", Role.PROTECTION_MANAGER)
    colleague = account("st-colleague", Role.PROTECTION_OFFICER, clearance=Clearance.SECRET)
    boss = account("st-boss", Role.TECHNICAL_SUPERVISOR)
    tech = account("st-tech", Role.TECHNICAL_OFFICER)
    case = case_services.create_case(
        officer, subject_name="Stella Statecase", manager=manager, classification=Clearance.SECRET
    )
    case_services.add_team_member(manager, case.pk, colleague, TeamRole.OFFICER)
    case_services.grant_access(manager, case.pk, outsider, reason="cover", days=1)
    case_services.break_glass(outsider, case.reference, "urgent call")
    start = timezone.now() + timedelta(days=2)
    deployment = equipment_services.create_deployment(
        boss, title="Op State", objective="watch", starts_at=start, ends_at=start + timedelta(1)
    )
    equipment_services.add_team_member(boss, deployment.pk, tech, TeamPlace.TECHNICIAN)
    return {"officer": officer, "outsider": outsider, "case": case, "deployment": deployment}


def sql(statement: str, *params: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def uuid_param(value: Any) -> Any:
    return value.hex if connection.vendor == "sqlite" else value


def test_a_world_built_by_the_services_is_fully_explained(world, ledger_key):
    assert TeamMembership.objects.count() == 5 and AccessGrant.objects.count() == 2
    assert state.unexplained_rows() == []
    checkpoint()
    assert "explained by the ledger" in audit("verify", "--state", "--quiet")


def test_a_raw_team_membership_insert_is_named(world):
    sql(
        "INSERT INTO access_teammembership (object_type, object_id, user_id, team_role, added_at)"
        " VALUES ('case', %s, %s, 'officer', %s)",
        uuid_param(world["case"].pk),
        world["outsider"].pk,
        timezone.now(),
    )
    [line] = state.unexplained_rows()
    assert f"st-outsider as officer of case {world['case'].pk} has no ledger entry" in line


def test_a_classification_lowered_by_sql_is_named(world):
    sql(
        "UPDATE cases_case SET classification = %s WHERE id = %s",
        int(Clearance.OFFICIAL),
        uuid_param(world["case"].pk),
    )
    [line] = state.unexplained_rows()
    assert line.startswith(f"case {world['case'].pk}: classification 1 ")
    assert "differs from the ledger (2," in line


def test_a_deployment_classification_raised_out_of_band_is_named_too(world):
    sql(
        "UPDATE equipment_deployment SET sensitive = %s WHERE id = %s",
        False,
        uuid_param(world["deployment"].pk),
    )
    [line] = state.unexplained_rows()
    assert line.startswith(f"deployment {world['deployment'].pk}: ")


def test_a_role_changed_by_sql_is_named_and_verify_exits_non_zero(world, ledger_key):
    roles = '["protection_officer", "protection_manager"]'
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    sql(f"UPDATE accounts_user SET roles = %s{cast} WHERE id = %s", roles, world["officer"].pk)
    checkpoint()
    with pytest.raises(CommandError, match=r"1 access-control row\(s\) changed"):
        audit("verify", "--state", "--quiet")
    [line] = state.unexplained_rows()
    assert line == (
        f"account st-officer (#{world['officer'].pk}): roles protection_manager+protection_officer"
        " clearance 3 differ from the ledger (roles protection_officer clearance 3)"
    )


def test_a_clearance_raised_by_sql_is_named(world):
    colleague = TeamMembership.objects.get(team_role=TeamRole.OFFICER).user
    sql("UPDATE accounts_user SET clearance = 3 WHERE id = %s", colleague.pk)
    [line] = state.unexplained_rows()
    assert "st-colleague" in line and "clearance 3 differ" in line


def test_a_grant_extended_by_sql_is_named(world):
    grant = AccessGrant.objects.get(kind="grant")
    later = grant.expires_at + timedelta(days=30)
    sql("UPDATE access_accessgrant SET expires_at = %s WHERE id = %s", later, grant.pk)
    [line] = state.unexplained_rows()
    assert line.startswith(f"access grant #{grant.pk}: grant for st-outsider") and "differs" in line


def test_a_user_inserted_with_roles_is_named_but_one_without_roles_opens_nothing(world):
    account_services.User.objects.create(username="st-raw", roles=[Role.AUDITOR])
    account_services.User.objects.create(username="st-bare", roles=[])
    [line] = state.unexplained_rows()
    assert line.startswith("account st-raw ") and "have no ledger entry" in line
