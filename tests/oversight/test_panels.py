from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from haven.oversight import config, services
from haven.oversight.models import MemberKind, PanelAppointment
from tests.oversight.helpers import hearing, member, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
LEGAL = MemberKind.LEGAL


@pytest.mark.parametrize(
    ("referral", "model"),
    [
        (date(2020, 2, 1), "lqc_2020"),
        (date(2024, 5, 6), "lqc_2020"),
        (date(2024, 5, 7), "chief_officer_2024"),
        (date(2025, 1, 1), "chief_officer_2024"),
    ],
)
def test_panel_model_by_referral_date(referral, model):
    assert config.panel_model_for(referral).code == model


def test_no_panel_model_before_2020():
    with pytest.raises(ValidationError, match="no misconduct panel model"):
        hearing(officer(), date(2019, 12, 31))


def test_legacy_model_by_rota_skips_conflict_and_unavailability():
    user = officer()
    member(user, "Alma Chairfictional", LEGAL)
    member(user, "Basil Chairfictional", LEGAL)
    first = member(user, "Cora Lay")
    second = member(user, "Dev Lay")
    third = member(user, "Eli Lay")
    services.declare_interest(
        user, first.pk, subject="pc 0000 testforce", declared_on=date(2025, 1, 1)
    )
    services.record_unavailability(
        user, second.pk, starts_on=date(2025, 6, 1), ends_on=date(2025, 6, 30)
    )
    case = hearing(user, date(2024, 3, 1))
    with pytest.raises(ValidationError, match="police member"):
        services.appoint_panel(user, case.pk, method="rota", nominees={})
    appointed = services.appoint_panel(
        user, case.pk, method="rota", nominees={"police_member": "Supt Fictional"}
    )
    by_seat = {a.seat: a for a in appointed}
    assert by_seat["lqc_chair"].member.name == "Alma Chairfictional"
    assert by_seat["independent_member"].member == third
    explanation = by_seat["independent_member"].explanation
    assert "declared interest in pc 0000 testforce" in explanation
    assert "unavailable 2025-06-01 to 2025-06-30" in explanation
    assert by_seat["police_member"].nominee_name == "Supt Fictional"


def test_rota_moves_on_to_the_next_available_and_wraps():
    user = officer()
    member(user, "Alma Chairfictional", LEGAL)
    member(user, "Basil Chairfictional", LEGAL)
    for name in ("Cora Lay", "Dev Lay", "Eli Lay"):
        member(user, name)
    chairs = []
    for _ in range(3):
        case = hearing(user, date(2024, 3, 1))
        services.appoint_panel(user, case.pk, method="rota", nominees={"police_member": "Supt X"})
        chairs.append(case.appointments.get(seat="lqc_chair").member.name)
    assert chairs == ["Alma Chairfictional", "Basil Chairfictional", "Alma Chairfictional"]


def test_new_model_takes_two_different_independent_members_and_an_adviser():
    user = officer()
    member(user, "Alma Adviserfictional", LEGAL)
    for name in ("Cora Lay", "Dev Lay", "Eli Lay"):
        member(user, name, relevant_qualifications=name == "Dev Lay")
    case = hearing(user, date(2024, 6, 1))
    appointed = services.appoint_panel(
        user, case.pk, method="rota", nominees={"chief_officer_chair": "ACC Fictional"}
    )
    seats = {a.seat: a.appointee for a in appointed}
    assert seats == {
        "chief_officer_chair": "ACC Fictional",
        "independent_member_1": "Cora Lay",
        "independent_member_2": "Dev Lay",
        "legal_adviser": "Alma Adviserfictional",
    }


def test_seeded_random_draw_is_reproducible_and_recorded():
    user = officer()
    member(user, "Alma Adviserfictional", LEGAL)
    for index in range(8):
        member(user, f"Lay Member{index}", relevant_qualifications=index % 2 == 0)
    picks = []
    for _ in range(2):
        case = hearing(user, date(2024, 6, 1))
        appointed = services.appoint_panel(
            user, case.pk, method="random", seed=42, nominees={"chief_officer_chair": "ACC X"}
        )
        picks.append([a.appointee for a in appointed])
        assert all(a.seed == 42 for a in appointed if a.member)
        assert "seed 42" in appointed[1].explanation
    assert picks[0] == picks[1]


def test_no_one_available_saves_nothing():
    user = officer()
    member(user, "Alma Chairfictional", LEGAL)
    only = member(user, "Cora Lay")
    services.declare_interest(
        user, only.pk, subject="Fictional Constabulary", declared_on=date(2025, 1, 1)
    )
    case = hearing(user, date(2024, 3, 1))
    with pytest.raises(ValidationError, match="No independent panel member is available"):
        services.appoint_panel(user, case.pk, method="rota", nominees={"police_member": "Supt X"})
    assert not PanelAppointment.objects.exists()


def test_out_of_term_and_ineligible_members_are_skipped():
    user = officer()
    member(user, "Alma Chairfictional", LEGAL, term_end=date(2024, 12, 31))
    member(user, "Basil Chairfictional", LEGAL, eligible=False)
    member(user, "Cleo Chairfictional", LEGAL)
    member(user, "Cora Lay")
    case = hearing(user, date(2024, 3, 1))
    appointed = services.appoint_panel(
        user, case.pk, method="rota", nominees={"police_member": "S"}
    )
    chair = next(a for a in appointed if a.seat == "lqc_chair")
    assert chair.appointee == "Cleo Chairfictional"
    assert (
        "does not cover" in chair.explanation and "eligibility not confirmed" in chair.explanation
    )


def test_naming_a_conflicted_member_is_refused():
    user = officer()
    member(user, "Alma Chairfictional", LEGAL)
    member(user, "Cora Lay")
    conflicted = member(user, "Dev Lay")
    services.declare_interest(
        user, conflicted.pk, subject="PC 0000 Testforce", declared_on=date(2025, 1, 1)
    )
    case = hearing(user, date(2024, 3, 1))
    services.appoint_panel(user, case.pk, method="rota", nominees={"police_member": "S"})
    with pytest.raises(ValidationError, match="declared interest"):
        services.appoint_member(
            user, case.pk, seat="independent_member", member_id=conflicted.pk, reason="asked"
        )
    assert case.appointments.get(seat="independent_member").appointee == "Cora Lay"


def test_second_panel_refused_and_hearing_stage_needs_a_panel():
    user = officer()
    member(user, "Alma Chairfictional", LEGAL)
    member(user, "Cora Lay")
    case = hearing(user, date(2024, 3, 1))
    services.advance_hearing(user, case.pk, to="notice", on=date(2024, 4, 1))
    services.advance_hearing(user, case.pk, to="response_due", on=date(2024, 4, 2))
    with pytest.raises(ValidationError, match="Appoint the panel"):
        services.advance_hearing(user, case.pk, to="hearing", on=date(2024, 6, 1))
    services.appoint_panel(user, case.pk, method="rota", nominees={"police_member": "S"})
    with pytest.raises(ValidationError, match="already appointed"):
        services.appoint_panel(user, case.pk, method="rota", nominees={"police_member": "S"})
    with pytest.raises(ValidationError, match="cannot move"):
        services.advance_hearing(user, case.pk, to="final", on=date(2024, 6, 1))
