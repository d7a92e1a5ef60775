"""Every workflow is declared as a haven.workflow.TransitionTable, and its service refuses an
illegal move with the table's TransitionError (one test per workflow)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

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


@pytest.fixture
def oversight_clock(time_machine):  # type: ignore[no-untyped-def]
    time_machine.move_to(datetime(2025, 6, 2, 12, 0, tzinfo=UTC), tick=False)
    return time_machine


@pytest.mark.django_db
@pytest.mark.usefixtures("oversight_clock")
def test_complaint():
    from haven.oversight import services, workflow
    from tests.oversight.helpers import complaint, officer

    assert isinstance(workflow.COMPLAINT_TRANSITIONS, TransitionTable)
    assert workflow.COMPLAINT_TRANSITIONS.targets_from("closed") == []
    user = officer()
    item = complaint(user)  # recorded under Schedule 3
    with pytest.raises(TransitionError) as refused:
        services.act_on_complaint(user, item.pk, "close")
    assert refused.value.messages == [
        "A complaint cannot move from 'Recorded under Schedule 3' to 'Closed'"
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("oversight_clock")
def test_misconduct_hearing():
    from haven.oversight import services, workflow
    from tests.oversight.helpers import hearing, officer

    assert isinstance(workflow.HEARING_TRANSITIONS, TransitionTable)
    user = officer()
    item = hearing(user, date(2025, 1, 6))
    with pytest.raises(TransitionError, match="A misconduct case cannot move from 'Referred'"):
        services.advance_hearing(user, item.pk, to="final", on=date(2025, 2, 3))


@pytest.mark.django_db
@pytest.mark.usefixtures("oversight_clock")
def test_pension_forfeiture():
    from haven.oversight import services, workflow
    from tests.oversight.helpers import officer

    assert isinstance(workflow.FORFEITURE_TRANSITIONS, TransitionTable)
    user = officer()
    case = services.create_forfeiture(
        user,
        officer_reference="PC 1",
        offence="Fictional",
        ground="treason",
        conviction_on=date(2024, 1, 10),
    )
    with pytest.raises(TransitionError, match="A forfeiture case cannot move"):
        services.forfeiture_step(user, case.pk, to="implemented", on=date(2024, 6, 1))


@pytest.mark.django_db
def test_asset_state():
    from haven.equipment import services
    from haven.equipment.models import MANUAL_TRANSITIONS, Asset
    from tests.equipment.helpers import make_asset, supervisor

    assert isinstance(MANUAL_TRANSITIONS, TransitionTable)
    assert MANUAL_TRANSITIONS.targets_from("deployed") == []  # only through the custody chain
    boss = supervisor()
    asset = make_asset(boss)  # in stock
    with pytest.raises(TransitionError) as refused:
        services.change_state(boss, asset.pk, "deployed", "try to skip the custody chain")
    assert refused.value.message_dict == {
        "state": ["An asset that is in stock cannot be set to deployed"]
    }
    assert Asset.objects.get(pk=asset.pk).state == "in_stock"


@pytest.mark.django_db
def test_deployment_status():
    from haven.equipment import services
    from tests.equipment.helpers import make_deployment, supervisor

    assert isinstance(services.STATUS_MOVES, TransitionTable)
    boss = supervisor()
    deployment = make_deployment(boss)
    with pytest.raises(TransitionError) as refused:
        services.set_status(boss, deployment.pk, "completed", outcome="done")
    assert refused.value.message_dict == {
        "status": ["A planned deployment cannot become completed"]
    }


@pytest.mark.django_db
def test_risk_assessment():
    from haven.risk import services
    from haven.risk.models import ASSESSMENT_TRANSITIONS
    from tests.risk.helpers import draft, make_team

    assert isinstance(ASSESSMENT_TRANSITIONS, TransitionTable)
    assert ASSESSMENT_TRANSITIONS.targets_for({Role.PROTECTION_MANAGER}, "approved") == [
        "superseded"
    ]
    team = make_team()
    assessment = draft(team)
    with pytest.raises(TransitionError) as refused:
        services.approve_assessment(team.manager, assessment.pk)
    assert refused.value.messages == [
        "Only a submitted assessment can be approved; version 1 is draft"
    ]


@pytest.mark.django_db
def test_protective_measure():
    from django.core.exceptions import ValidationError

    from haven.risk import services
    from haven.risk.models import MEASURE_TRANSITIONS
    from tests.risk.helpers import make_team

    assert isinstance(MEASURE_TRANSITIONS, TransitionTable)
    assert MEASURE_TRANSITIONS.targets_from("ended") == []
    with pytest.raises(TransitionError):
        MEASURE_TRANSITIONS.check("proposed", "agreed", roles={Role.PROTECTION_OFFICER})
    team = make_team()
    measure = services.add_measure(team.officer, team.case.pk, measure_type="tracker")
    with pytest.raises(ValidationError, match="Only a manager records a measure as agreed"):
        services.change_measure_status(
            team.officer, measure.pk, status="agreed", reason="agreed", version=measure.version
        )
    measure = services.change_measure_status(
        team.manager, measure.pk, status="declined", reason="not needed", version=measure.version
    )
    with pytest.raises(ValidationError, match="declined: add a new one"):
        services.change_measure_status(
            team.manager, measure.pk, status="proposed", reason="again", version=measure.version
        )


@pytest.mark.django_db
@pytest.mark.usefixtures("oversight_clock")
def test_complaint_review_application():
    from haven.oversight import services, workflow
    from haven.oversight.models import ReviewApplication, ReviewStatus
    from tests.oversight.helpers import handled_with_outcome, officer

    table = workflow.REVIEW_TRANSITIONS
    assert isinstance(table, TransitionTable)
    assert table.targets_from(ReviewStatus.RECEIVED) == ["refused_out_of_time", "determined"]
    assert table.targets_from(ReviewStatus.DETERMINED) == []
    user = officer()
    item = handled_with_outcome(user, notice_on=date(2025, 6, 2))
    review = services.record_review_application(user, item.pk, received_on=date(2025, 6, 2))
    services.determine_review(
        user, review.pk, determined_on=date(2025, 6, 2), reasonable_and_proportionate=True
    )
    before = ReviewApplication.objects.values().get(pk=review.pk)
    with pytest.raises(TransitionError) as refused:
        services.determine_review(
            user, review.pk, determined_on=date(2025, 6, 2), reasonable_and_proportionate=False
        )
    assert refused.value.messages == ["This application has already been dealt with"]
    assert ReviewApplication.objects.values().get(pk=review.pk) == before


@pytest.mark.django_db
def test_shift_swap(time_machine):
    from haven.rota import services, workflow
    from haven.rota.models import Rotation, ShiftSwap, SwapStatus
    from tests.equipment.helpers import supervisor, technician

    table = workflow.SWAP_TRANSITIONS
    assert isinstance(table, TransitionTable)
    assert table.targets_from(SwapStatus.REQUESTED) == ["accepted", "declined", "cancelled"]
    assert table.targets_from(SwapStatus.DECLINED) == []
    time_machine.move_to(datetime(2025, 3, 3, 12, tzinfo=UTC), tick=False)
    boss, asker, colleague = supervisor(), technician(), technician()
    rota = services.create_rota(boss, name="On call", starts_on=date(2025, 3, 1))
    services.add_layer(
        boss,
        rota.pk,
        name="Primary",
        members=[asker, colleague],  # the asker is on call on odd days
        handover_time=time(9),
        rotation=Rotation.DAILY,
    )
    swap = services.request_swap(
        asker,
        rota.pk,
        counterpart=colleague,
        starts_at=datetime(2025, 3, 5, 9, tzinfo=UTC),
        ends_at=datetime(2025, 3, 6, 9, tzinfo=UTC),
    )
    services.decline_swap(colleague, swap.pk)
    with pytest.raises(TransitionError) as refused:
        services.accept_swap(colleague, swap.pk)
    assert refused.value.messages == ["This swap is already declined"]
    swap.refresh_from_db()
    assert swap.status == SwapStatus.DECLINED and swap.override is None
    assert not ShiftSwap.objects.exclude(status=SwapStatus.DECLINED).exists()
