from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import override_settings
from django.utils import timezone

from haven.audit.models import LedgerEntry
from haven.cases import selectors as case_selectors
from haven.cases.selectors import CaseNotFound
from haven.risk import config, selectors, services
from haven.risk.models import Notice, RiskAssessment, Status, Threat

from .helpers import OSMAN, SCORES, approved, draft, make_team

pytestmark = pytest.mark.django_db


def test_a_draft_is_scored_and_banded_from_the_configured_scheme():
    team = make_team()
    assessment = draft(team)
    assert (assessment.score, assessment.band) == (20, "high")
    assert (assessment.residual_score, assessment.residual_band) == (10, "medium")
    assert (assessment.scheme_code, assessment.scheme_version) == ("haven-5x5", 1)
    assert assessment.status == Status.DRAFT and assessment.number == 1
    assert assessment.classification == team.case.classification


@override_settings(HAVEN_RISK_BAND_SCHEME="three-band")
def test_the_band_scheme_is_configuration_not_code():
    team = make_team()
    assessment = draft(team)
    assert (assessment.scheme_code, assessment.band, assessment.residual_band) == (
        "three-band",
        "high",
        "medium",
    )


def test_every_scheme_covers_each_score_once_and_names_its_source():
    for scheme in config.SCHEMES.values():
        assert scheme.source and scheme.valid_from
        assert [scheme.band_for(s).code for s in (1, 25)] != [None, None]
    with pytest.raises(ValueError, match="cover 1-25"):
        config.BandScheme("bad", 1, "t", "s", timezone.localdate(), (), 7)


@pytest.mark.parametrize("field", ["likelihood", "impact", "residual_likelihood"])
@pytest.mark.parametrize("value", [0, 6, "high", None])
def test_scores_outside_one_to_five_are_refused_and_nothing_is_saved(field, value):
    team = make_team()
    with pytest.raises(ValidationError) as error:
        draft(team, **{field: value})
    assert "1 to 5" in str(error.value) or "from 1 to 5" in str(error.value)
    assert not RiskAssessment.objects.exists()


def test_threat_to_life_needs_each_osman_element():
    team = make_team()
    with pytest.raises(ValidationError) as error:
        draft(team, threat_to_life=True, osman_real_immediate="Contract taken out")
    assert set(error.value.message_dict) == {"osman_identified_individual", "osman_third_party"}
    assert not RiskAssessment.objects.exists()
    assessment = draft(team, threat_to_life=True, **OSMAN)
    assert assessment.osman_third_party == OSMAN["osman_third_party"]


def test_narrative_is_encrypted_at_rest():
    from django.db import connection

    team = make_team()
    draft(team)
    with connection.cursor() as cursor:
        cursor.execute("SELECT thrive_threat FROM risk_riskassessment")
        (stored,) = cursor.fetchone()
    assert "Zebedee" not in stored and stored.startswith("hv1.")


def test_the_author_cannot_approve_and_an_officer_cannot_approve():
    team = make_team()
    mine = services.start_assessment(team.manager, team.case.pk, **SCORES)
    services.submit_assessment(team.manager, mine.pk)
    with pytest.raises(ValidationError, match="another manager must approve"):
        services.approve_assessment(team.manager, mine.pk)
    with pytest.raises(PermissionDenied):
        services.approve_assessment(team.officer, mine.pk)
    mine.refresh_from_db()
    assert mine.status == Status.SUBMITTED and mine.approved_by is None


def test_endorsement_before_approval_is_refused():
    team = make_team()
    assessment = draft(team)
    services.submit_assessment(team.officer, assessment.pk)
    with pytest.raises(ValidationError, match="must approve this assessment before"):
        services.endorse_assessment(team.authoriser, assessment.pk)
    with pytest.raises(PermissionDenied):
        services.endorse_assessment(team.manager, assessment.pk)
    assessment.refresh_from_db()
    assert assessment.status == Status.SUBMITTED


def test_approval_sets_the_review_date_by_band_and_a_review_task():
    team = make_team()
    assessment = approved(team)
    today = timezone.localdate()
    assert assessment.status == Status.APPROVED and assessment.is_current
    assert assessment.next_review_on == today + timedelta(days=28)  # high band
    tasks = case_selectors.case_records(team.officer, team.case.pk, "task", "risk_review")
    review = next(t for t in tasks if t.pk == assessment.review_task_id)
    assert review.kind == "review" and review.due_on == assessment.next_review_on
    assert review.owner == team.officer
    endorsed = services.endorse_assessment(team.authoriser, assessment.pk, "Agreed")
    assert endorsed.status == Status.ENDORSED and endorsed.endorsed_by == team.authoriser


def test_threat_to_life_shortens_the_review_interval():
    team = make_team()
    assessment = approved(team, threat_to_life=True, **OSMAN)
    assert assessment.next_review_on == timezone.localdate() + timedelta(days=7)


def test_an_approved_version_cannot_be_edited_and_a_new_version_supersedes_it():
    team = make_team()
    first = approved(team)
    with pytest.raises(ValidationError, match="start a new version"):
        services.update_assessment(team.officer, first.pk, version=first.version, likelihood=1)
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.add_threat(team.officer, first.pk, source="x", likelihood=1, impact=1)
    second = services.start_assessment(team.officer, team.case.pk, likelihood=2)
    assert second.number == 2 and second.supersedes == first
    assert [t.ref for t in second.threats.all()] == ["R1"]  # carried over with its reference
    assert second.impact == first.impact and second.score == 10
    with pytest.raises(ValidationError, match="still draft"):
        services.start_assessment(team.officer, team.case.pk)
    services.submit_assessment(team.officer, second.pk)
    services.approve_assessment(team.manager, second.pk)
    first.refresh_from_db()
    assert first.status == Status.SUPERSEDED and not first.is_current
    assert first.likelihood == 4 and first.thrive_threat == "Threat narrative Zebedee"
    assert RiskAssessment.objects.get(is_current=True) == second
    old_task = case_selectors.get_record(
        team.officer, team.case.pk, "task", first.review_task_id, "risk_review"
    )
    assert old_task.status == "done"


def test_a_manager_returns_a_submitted_version_with_comments():
    team = make_team()
    assessment = draft(team)
    services.submit_assessment(team.officer, assessment.pk)
    with pytest.raises(ValidationError, match="Say what needs to change"):
        services.return_assessment(team.manager, assessment.pk, "")
    returned = services.return_assessment(team.manager, assessment.pk, "Score the school run")
    assert returned.status == Status.RETURNED
    services.update_assessment(team.officer, assessment.pk, version=returned.version, impact=3)
    services.submit_assessment(team.officer, assessment.pk)
    comments = [e.comments for e in assessment.events.all() if e.action == "returned"]
    assert comments == ["Score the school run"]


def test_an_authorising_officer_return_restores_the_previous_version():
    team = make_team()
    first = approved(team)
    second = services.start_assessment(team.officer, team.case.pk, impact=2)
    services.submit_assessment(team.officer, second.pk)
    services.approve_assessment(team.manager, second.pk)
    services.return_assessment(team.authoriser, second.pk, "Impact is understated")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_current and first.status == Status.APPROVED
    assert second.status == Status.RETURNED and not second.is_current


def test_notices_need_who_and_when_or_why_not():
    team = make_team()
    assessment = draft(team, threat_to_life=True, **OSMAN)
    with pytest.raises(ValidationError) as error:
        services.record_notice(
            team.officer, assessment.pk, kind="warning", decision="served", recipient="Witness"
        )
    assert set(error.value.message_dict) == {"served_by", "served_at"}
    with pytest.raises(ValidationError, match="why the notice was not served"):
        services.record_notice(
            team.officer, assessment.pk, kind="disruption", decision="withheld", recipient="X"
        )
    assert not Notice.objects.exists()
    services.record_notice(
        team.officer,
        assessment.pk,
        kind="warning",
        decision="served",
        recipient="Witness",
        served_by="DS Example",
        served_at=timezone.now(),
    )
    services.record_notice(
        team.officer,
        assessment.pk,
        kind="disruption",
        decision="withheld",
        recipient="Suspect",
        withheld_reason="Serving would reveal the source",
    )
    assert Notice.objects.count() == 2


def test_a_notice_needs_a_threat_to_life_assessment():
    team = make_team()
    assessment = draft(team)
    with pytest.raises(ValidationError, match="set the flag first"):
        services.record_notice(
            team.officer, assessment.pk, kind="warning", decision="withheld",
            recipient="Witness", withheld_reason="x",
        )  # fmt: skip


def test_threat_details_are_validated():
    team = make_team()
    assessment = draft(team)
    with pytest.raises(ValidationError) as error:
        services.add_threat(team.officer, assessment.pk, source="", likelihood=9, impact=2)
    assert set(error.value.message_dict) == {"source", "likelihood"}
    threat = services.add_threat(
        team.officer, assessment.pk, source="Gang", linked_people="Bob Example, Person 7",
        likelihood=3, impact=4,
    )  # fmt: skip
    assert threat.ref == "R1" and threat.linked_people == ["Bob Example", "Person 7"]
    assert (threat.residual_likelihood, threat.residual_impact) == (3, 4)
    assert Threat.objects.count() == 1


def test_outsiders_get_not_found_and_reads_are_logged_with_the_purpose():
    team = make_team()
    assessment = draft(team)
    with pytest.raises(CaseNotFound):
        selectors.get_assessment(team.outsider, assessment.pk, "risk_review")
    with pytest.raises(CaseNotFound):
        services.start_assessment(team.outsider, team.case.pk, **SCORES)
    with pytest.raises(ValueError, match="purpose"):
        selectors.get_assessment(team.manager, assessment.pk, None)
    selectors.get_assessment(team.manager, assessment.pk, "supervision")
    entry = LedgerEntry.objects.filter(object_type="risk_assessment", action="consultation").get()
    assert entry.justification == "supervision" and entry.object_id == str(assessment.pk)


def test_the_heat_map_places_risks_before_and_after_controls():
    team = make_team()
    assessment = approved(team)
    before, after = selectors.assessment_matrices(assessment)
    top_row = dict(before.rows)[5]
    assert top_row[3].items == ["Overall", "R1"] and top_row[3].colour == "amber"
    assert dict(after.rows)[5][1].items == ["Overall"]
    assert dict(after.rows)[4][1].items == ["R1"]


def test_a_review_comes_due_and_shows_as_overdue():
    team = make_team()
    assessment = approved(team)
    due = assessment.next_review_on
    view = selectors.portfolio(team.manager, "supervision")
    assert (view.assessed, view.overdue) == (1, 0)
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert timezone.localdate() > due
        view = selectors.portfolio(team.manager, "supervision", show="overdue")
        assert view.overdue == 1 and [a.pk for a in view.page.object_list] == [assessment.pk]
        work = case_selectors.my_work(team.officer, "case_management")
        assert [t.pk for t in work if t.overdue] == [assessment.review_task_id]


def test_the_portfolio_shows_only_cases_the_user_may_see():
    team = make_team()
    approved(team)
    assert selectors.portfolio(team.outsider, "supervision").assessed == 0
    view = selectors.portfolio(team.manager, "supervision")
    assert dict((b.code, n) for b, n in view.bands)["high"] == 1


def test_the_portfolio_costs_a_fixed_number_of_queries(django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    team = make_team()
    approved(team)
    with CaptureQueriesContext(connection) as small:
        selectors.portfolio(team.manager, "supervision")
    for _ in range(4):
        other = make_team()
        other.manager = team.manager
        from haven.access.models import TeamRole
        from haven.cases import services as case_services

        case_services.add_member(other.case, team.manager, TeamRole.MANAGER)
        approved(other)
    with django_assert_num_queries(len(small.captured_queries)):
        view = selectors.portfolio(team.manager, "supervision")
    assert view.assessed == 5 and len(view.page.object_list) == 5


def test_the_portfolio_follows_grants_and_module_roles():
    from haven.accounts.roles import Role
    from haven.cases import services as case_services
    from tests.factories import UserFactory

    team = make_team()
    approved(team)
    colleague = UserFactory(roles=[Role.PROTECTION_OFFICER])
    auditor = UserFactory(roles=[Role.AUDITOR])
    assert selectors.portfolio(colleague, "supervision").assessed == 0
    case_services.grant_access(team.manager, team.case.pk, colleague, reason="cover", days=1)
    assert selectors.portfolio(colleague, "supervision").assessed == 1
    assert selectors.portfolio(auditor, "supervision").assessed == 0
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert selectors.portfolio(colleague, "supervision").assessed == 0
    view = selectors.portfolio(team.manager, "supervision", band="low")
    assert view.page.count == 0 and not view.page.object_list
