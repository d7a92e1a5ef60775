"""Every workflow is declared as a haven.workflow.TransitionTable, and its service refuses an
illegal move with the table's TransitionError (one test per workflow)."""

from __future__ import annotations

import pytest

from haven.accounts.roles import Role
from haven.workflow import TransitionError, TransitionTable
from tests.factories import make_case


@pytest.mark.django_db
def test_protection_arrangement(make_user):
    from haven.cases import config, services

    assert isinstance(config.TRANSITIONS, TransitionTable)
    rule = config.TRANSITIONS.rule("assessed", "accepted")
    assert rule is not None and rule.citation == "SOCPA 2005 s.82(4)"
    assert rule.required_fields == config.FACTOR_FIELDS
    assert rule.roles == {Role.AUTHORISING_OFFICER}
    manager = make_user(Role.PROTECTION_MANAGER)
    case = make_case(make_user(Role.PROTECTION_OFFICER), manager=manager)
    with pytest.raises(TransitionError) as refused:
        services.change_status(
            manager, case.pk, to_status="active", version=case.version, reason="x"
        )
    assert "Referred cannot become Active" in refused.value.message_dict["to_status"][0]
