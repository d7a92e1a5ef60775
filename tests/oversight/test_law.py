"""Issue 21: which facts the statutory clocks count from and whom the rules apply to, each
test written from the wording of the provision it cites."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from haven.accounts import services as account_services
from haven.accounts.models import User
from haven.accounts.roles import Role
from haven.oversight import config, selectors, services, statistics
from haven.oversight.models import (
    Complaint,
    MemberKind,
    MisconductHearing,
    Reg4Criterion,
    ReviewBody,
)
from tests.factories import UserFactory, force_sign_in
from tests.oversight.helpers import complaint, hearing, member, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]
LEGAL = MemberKind.LEGAL


def later(clock, on: date) -> None:
    clock.move_to(datetime(on.year, on.month, on.day, 12, tzinfo=UTC), tick=False)


def deadlines(item: MisconductHearing) -> dict[str, date]:
    return {view.rule_code: view.due for view in selectors.hearing_deadlines(item)}


def registers(user: User, qualified: tuple[bool, ...] = (True, False)) -> None:
    member(user, "Alma Adviserfictional", LEGAL)
    for index, has_them in enumerate(qualified):
        member(user, f"Lay Fictional{index}", relevant_qualifications=has_them)


def to_stage(user: User, case: MisconductHearing, *stages: tuple[str, date]) -> MisconductHearing:
    for to, on in stages:
        case = services.advance_hearing(user, case.pk, to=to, on=on, outcome="Dismissed")
    return case


# --------------------------------------------------------------------- clocks and facts


def test_witness_lists_run_from_the_officers_actual_response(clock):
    """Conduct Regs 2020 reg 31(4): "before the end of 3 working days beginning with the first
    working day after the date on which the officer concerned has complied with paragraph (2)".
    Documents supplied Mon 2 June 2025 (response due 23 June); the officer responds early, on
    Wed 4 June: the lists are due Mon 9 June (5, 6, 9 June), not three days after 23 June."""
    user = officer()
    case = hearing(user, date(2025, 1, 6))
    case = to_stage(user, case, ("notice", date(2025, 6, 2)))
    assert "conduct_witness_list" not in deadlines(case)  # no date until the officer responds
    later(clock, date(2025, 6, 4))
    case = services.record_hearing_fact(user, case.pk, fact="response", on=date(2025, 6, 4))
    assert deadlines(case)["conduct_witness_list"] == date(2025, 6, 9)
    assert deadlines(case)["conduct_response"] == date(2025, 6, 23)


def test_the_response_cannot_predate_the_notice_nor_be_in_the_future(clock):
    user = officer()
    case = to_stage(user, hearing(user, date(2025, 1, 6)), ("notice", date(2025, 6, 2)))
    with pytest.raises(ValidationError, match="before the notice"):
        services.record_hearing_fact(user, case.pk, fact="response", on=date(2025, 5, 30))
    with pytest.raises(ValidationError, match="future"):
        services.record_hearing_fact(user, case.pk, fact="response", on=date(2025, 6, 3))


def test_appeal_notice_runs_from_the_written_decision_not_the_hearing(clock):
    """The appellant's time runs from being supplied with the written decision: outcome given
    at the hearing on 2 June 2025, written decision supplied Mon 16 June; 10 working days
    (17 June to 30 June) end on Mon 30 June, where counting from the hearing gave 16 June."""
    user = officer()
    registers(user)
    case = hearing(user, date(2025, 1, 6))
    services.appoint_panel(user, case.pk, method="rota", nominees={"chief_officer_chair": "ACC X"})
    case = to_stage(
        user,
        case,
        ("notice", date(2025, 4, 1)),
        ("response_due", date(2025, 4, 2)),
        ("hearing", date(2025, 6, 2)),
        ("outcome", date(2025, 6, 2)),
        ("appeal_window", date(2025, 6, 2)),
    )
    assert "pat_appeal_notice" not in deadlines(case)
    later(clock, date(2025, 6, 16))
    case = services.record_hearing_fact(
        user, case.pk, fact="decision_supplied", on=date(2025, 6, 16)
    )
    assert deadlines(case)["pat_appeal_notice"] == date(2025, 6, 30)


def test_overdue_investigation_reports_only_for_a_complaint_being_investigated():
    """PCMR 2020 reg 13 applies "where an investigation of a complaint ... has not been
    completed" within 12 months: none for a complaint handled outside Schedule 3 or otherwise
    than by investigation."""
    user = officer()
    recorded = complaint(user, received_on=date(2024, 5, 1))
    outside = complaint(user, received_on=date(2024, 5, 1), schedule3=False)
    for item in (recorded, outside):
        codes = {view.rule_code for view in selectors.complaint_deadlines(item)}
        assert "overdue_investigation_report" not in codes
        assert selectors.overdue_reports(item, date(2025, 6, 2)) == []
    assert statistics._overdue(date(2025, 6, 2))["12-month investigation report due"] == {
        "Chief officer (force professional standards)": 0,
        "Local policing body (complaint about the chief)": 0,
    }
    with pytest.raises(ValidationError, match="recorded under Schedule 3"):
        services.record_investigation(user, outside.pk, started_on=date(2024, 5, 10))
    services.record_investigation(user, recorded.pk, started_on=date(2024, 5, 10))
    recorded = Complaint.objects.get(pk=recorded.pk)
    assert selectors.overdue_reports(recorded, date(2025, 6, 2)) == [date(2025, 5, 1)]


def test_investigation_is_recorded_through_page_and_api():
    user = officer()
    item = complaint(user, received_on=date(2025, 1, 6))
    page = force_sign_in(Client(), user)
    body = page.get(f"/oversight/complaints/{item.pk}/").content.decode()
    assert f"/oversight/complaints/{item.pk}/investigation/" in body
    page.post(
        f"/oversight/complaints/{item.pk}/investigation/",
        {"started_on": "2025-01-10"},
    )
    token = account_services.issue_api_token(user, "t", modules=user.modules, can_write=True)[1]
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
        f"/api/oversight/complaints/{item.pk}/investigation",
        json.dumps({"started_on": "2025-01-10"}),
        content_type="application/json",
    )
    assert Complaint.objects.get(pk=item.pk).investigation_started_on == date(2025, 1, 10)
    assert response.status_code == 422  # already recorded through the page


def test_other_roles_cannot_record_an_investigation():
    outsider = UserFactory(roles=[Role.PROTECTION_OFFICER])
    item = complaint(officer())
    token = account_services.issue_api_token(
        outsider, "t", modules=outsider.modules, can_write=True
    )[1]
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").post(
        f"/api/oversight/complaints/{item.pk}/investigation",
        json.dumps({"started_on": "2025-01-10"}),
        content_type="application/json",
    )
    assert response.status_code in (401, 403, 404)
    assert Complaint.objects.get(pk=item.pk).investigation_started_on is None


# --------------------------------------------------------------------- whom the rules apply to


@pytest.mark.parametrize(
    ("referral", "senior", "chief", "model", "chair"),
    [
        (date(2024, 6, 1), True, False, "senior_2024", "other_force_chair"),
        (date(2024, 6, 1), True, True, "chief_rank_2024", "hmic_chair"),
        (date(2024, 6, 1), False, False, "chief_officer_2024", "chief_officer_chair"),
        (date(2023, 6, 1), True, False, "lqc_2020_senior", "hmic_member"),
    ],
)
def test_senior_officer_panels_follow_the_officers_rank(referral, senior, chief, model, chair):
    """Conduct Regs 2020 reg 28 as amended by the Police (Conduct) (Amendment) Regulations
    2024: a senior officer's panel is not chaired by their own chief officer; for a chief
    officer, Deputy Commissioner or Assistant Commissioner HMCIC or an HMI chairs."""
    case = hearing(officer(), referral, senior_officer=senior, chief_rank=chief)
    assert case.panel_model == model
    assert chair in {seat.code for seat in config.panel_model(model).nominated_seats}


def test_a_senior_officer_cannot_be_given_their_own_chief_as_chair():
    user = officer()
    registers(user)
    case = hearing(user, date(2024, 6, 1), senior_officer=True)
    with pytest.raises(ValidationError) as refused:
        services.appoint_panel(
            user, case.pk, method="rota", nominees={"chief_officer_chair": "CC Own Force"}
        )
    assert "other_force_chair" in refused.value.message_dict
    assert not case.appointments.exists()


def test_one_independent_member_must_have_relevant_qualifications():
    """S.I. 2024/521: of the two independent members, one must have relevant qualifications or
    experience. Two members without them cannot fill the panel."""
    user = officer()
    registers(user, qualified=(False, False))
    case = hearing(user, date(2024, 6, 1))
    with pytest.raises(ValidationError, match="relevant qualifications"):
        services.appoint_panel(user, case.pk, method="rota", nominees={"chief_officer_chair": "X"})
    qualified = member(user, "Lay Qualified", relevant_qualifications=True)
    appointed = services.appoint_panel(
        user, case.pk, method="rota", nominees={"chief_officer_chair": "X"}
    )
    assert qualified.pk in {a.member_id for a in appointed}
    unqualified = member(user, "Lay Unqualified")
    seat = next(a.seat for a in appointed if a.member_id == qualified.pk)
    with pytest.raises(ValidationError, match="relevant qualifications"):
        services.appoint_member(
            user, case.pk, seat=seat, member_id=unqualified.pk, reason="availability"
        )


def test_the_legacy_model_has_no_qualification_seat():
    user = officer()
    member(user, "Chair Fictional", LEGAL)
    member(user, "Lay Plain")
    case = hearing(user, date(2023, 6, 1))
    appointed = services.appoint_panel(
        user, case.pk, method="rota", nominees={"police_member": "Supt X"}
    )
    assert len(appointed) == 3


def test_panel_model_follows_the_reg30_notice_date_the_amendment_keys_on(clock):
    """Transitional key (config.PANEL_MODEL_KEY, unconfirmed): a case referred before 7 May
    2024 whose reg 30(1) notice is given after it takes the amended model."""
    user = officer()
    case = hearing(user, date(2024, 5, 1))
    assert case.panel_model == "lqc_2020"
    case = services.advance_hearing(user, case.pk, to="notice", on=date(2024, 5, 10))
    assert case.panel_model == "chief_officer_2024"
    assert config.PANEL_MODEL_KEY.confirmed is False


def test_the_amendment_is_cited_by_its_title():
    model = config.panel_model("chief_officer_2024")
    assert "Police (Conduct) (Amendment) Regulations 2024 (S.I. 2024/521)" in model.citation


def test_senior_officer_tribunal_needs_its_home_office_member():
    """Police Act 1996 Sch 6 para 1(1): a senior officer's tribunal has three members, the
    third "the permanent secretary to the Home Office or a Home Office director nominated by
    the permanent secretary"."""
    user = officer()
    tribunal = services.create_tribunal(
        user,
        appellant_reference="ACC Fictional",
        notice_received_on=date(2025, 3, 3),
        senior_officer_appellant=True,
        chair_name="Chair Fictional",
        senior_member_name="HMI Fictional",
    )
    with pytest.raises(ValidationError, match="Home Office member"):
        services.determine_tribunal(
            user, tribunal.pk, determination="dismissed", determined_on=date(2025, 5, 1)
        )
    tribunal.home_office_member_name = "Director Fictional"
    tribunal.save()
    done = services.determine_tribunal(
        user, tribunal.pk, determination="dismissed", determined_on=date(2025, 5, 1)
    )
    assert done.determination == "dismissed"


def test_a_senior_officers_tribunal_has_no_lay_member():
    with pytest.raises(ValidationError, match="no lay member"):
        services.create_tribunal(
            officer(),
            appellant_reference="ACC Fictional",
            notice_received_on=date(2025, 3, 3),
            senior_officer_appellant=True,
            lay_member_name="Lay Fictional",
            lay_member_never_police=True,
        )


def _forfeiture(user: User, ground: str, scheme: str = "pps_1987"):
    case = services.create_forfeiture(
        user,
        officer_reference="PC 9999 Fictional",
        offence="Fictional offence",
        ground=ground,
        conviction_on=date(2024, 1, 10),
        scheme=scheme,
    )
    services.forfeiture_step(user, case.pk, to="psa_decision", on=date(2024, 2, 1))
    return case


def test_treason_needs_no_home_office_certificate():
    """1987 Regs K5 / 2006 reg 55 / 2015 Part 13 Ch 5: the certificate that the offence was
    gravely injurious to the State or liable to lead to serious loss of confidence is a
    condition of the ground "offence connected with service" only."""
    user = officer()
    case = _forfeiture(user, "treason")
    with pytest.raises(ValidationError, match="No Home Office certificate"):
        services.forfeiture_step(user, case.pk, to="ho_certificate", on=date(2024, 3, 1))
    decided = services.forfeiture_step(
        user,
        case.pk,
        to="forfeiture_decision",
        on=date(2024, 3, 1),
        percentage="50",
        gmp_preserved=True,
    )
    assert decided.status == "forfeiture_decision" and decided.certificate_issued_on is None


def test_service_connected_offence_still_needs_the_certificate():
    user = officer()
    case = _forfeiture(user, "connected_with_service")
    with pytest.raises(ValidationError, match="certificate first"):
        services.forfeiture_step(
            user, case.pk, to="forfeiture_decision", on=date(2024, 3, 1), percentage="10"
        )


def test_forfeiture_leaves_the_guaranteed_minimum_pension():
    user = officer()
    case = _forfeiture(user, "treason")
    with pytest.raises(ValidationError, match="guaranteed minimum pension"):
        services.forfeiture_step(
            user, case.pk, to="forfeiture_decision", on=date(2024, 3, 1), percentage="10"
        )


def test_forfeiture_ceiling_is_per_scheme_and_versioned_with_its_source():
    limits = {limit.scheme: limit for limit in config.FORFEITURE_LIMITS}
    assert set(limits) == {"pps_1987", "npps_2006", "pps_2015"}
    assert "2015" in limits["pps_2015"].citation and "K5" in limits["pps_1987"].citation
    with pytest.raises(LookupError):
        config.forfeiture_limit("pps_2015", date(2014, 12, 31))  # before that scheme existed
    assert all(not limit.confirmed for limit in limits.values())  # figure not yet re-checked


def test_mandatory_referral_includes_the_same_incident_and_the_met_deputy_commissioner():
    """PCMR 2020 reg 4(1)(b): "any complaint arising from the same incident as one in which
    any conduct falling within sub-paragraph (a) ... is alleged"; reg 4(1)(c): "a chief
    officer or the Deputy Commissioner of Police of the Metropolis"."""
    user = officer()
    item = complaint(user, reg4_criteria=["same_incident"])
    assert (item.review_body, item.review_body_limb) == (ReviewBody.IOPC, "c")
    with pytest.raises(ValidationError, match="refer it to the IOPC"):
        services.act_on_complaint(user, item.pk, "handled")
    assert "Deputy Commissioner" in Reg4Criterion.CHIEF_OFFICER.label


# --------------------------------------------------------------------- panel-member register


def test_a_member_whose_training_has_lapsed_is_skipped_by_the_draw(clock):
    user = officer()
    lapsed = member(user, "Chair Lapsed", LEGAL)
    current = member(user, "Chair Current", LEGAL)
    later(clock, date(2025, 6, 2))
    services.record_training(
        user, lapsed.pk, completed_on=date(2022, 1, 10), expires_on=date(2024, 1, 10)
    )
    services.record_training(
        user, current.pk, completed_on=date(2024, 3, 1), expires_on=date(2027, 3, 1)
    )
    member(user, "Lay Fictional")
    case = hearing(user, date(2023, 6, 1))
    appointed = services.appoint_panel(
        user, case.pk, method="rota", nominees={"police_member": "X"}
    )
    chair = next(a for a in appointed if a.seat == "lqc_chair")
    assert chair.member_id == current.pk and "training expired on 2024-01-10" in chair.explanation
    with pytest.raises(ValidationError, match="expire after"):
        services.record_training(
            user, current.pk, completed_on=date(2025, 1, 1), expires_on=date(2025, 1, 1)
        )


def test_training_is_recorded_on_the_member_page():
    user = officer()
    item = member(user, "Lay Trainee")
    page = force_sign_in(Client(), user)
    page.post(
        f"/oversight/panel-members/{item.pk}/",
        {
            "form": "training",
            "training-completed_on": "2025-01-06",
            "training-expires_on": "2028-01-06",
        },
    )
    body = page.get(f"/oversight/panel-members/{item.pk}/").content.decode()
    assert "expires 6 Jan 2028" in body
