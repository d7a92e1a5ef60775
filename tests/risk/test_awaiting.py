"""Risk hand-offs: a submitted assessment waits for the case manager, an approved one for the
authorising officer; each is told, the author hears of approval, endorsement and return, and
nobody without need-to-know sees or hears anything."""

from __future__ import annotations

from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haven.access.models import TeamRole
from haven.cases import services as case_services
from haven.notifications.models import AlertCategory, Notification
from haven.risk import selectors, services
from tests.factories import force_sign_in, make_case
from tests.risk.helpers import draft, make_team

pytestmark = pytest.mark.django_db

PURPOSE = "case_management"


def told(user):
    return list(Notification.objects.filter(user=user, category=AlertCategory.ASSESSMENT))


def queue(user):
    return [a.pk for a in selectors.assessments_awaiting(user, PURPOSE)]


def submitted(team):
    assessment = draft(team)
    services.add_threat(
        team.officer, assessment.pk, source="OCG enforcer", likelihood=4, impact=5,
        residual_likelihood=2, residual_impact=4,
    )  # fmt: skip
    return services.submit_assessment(team.officer, assessment.pk)


def test_a_submitted_assessment_waits_for_the_case_manager_and_tells_them():
    team = make_team()
    assessment = submitted(team)

    assert queue(team.manager) == [assessment.pk]
    (note,) = told(team.manager)
    assert note.reference == team.case.reference and "approve or return" in note.message
    assert note.link == f"/risk/assessments/{assessment.pk}/"
    # The authorising officer's turn has not come; the outsider manager has no need-to-know.
    assert queue(team.authoriser) == [] and told(team.authoriser) == []
    assert (
        queue(team.outsider) == [] and Notification.objects.filter(user=team.outsider).count() == 0
    )
    assert queue(team.officer) == []  # nobody approves their own work


def test_approval_moves_it_to_the_authorising_officer_and_tells_the_author():
    team = make_team()
    assessment = submitted(team)
    services.approve_assessment(team.manager, assessment.pk)

    assert queue(team.manager) == []
    assert queue(team.authoriser) == [assessment.pk]
    assert "endorse or return" in told(team.authoriser)[0].message
    assert any("was approved" in n.message for n in told(team.officer))
    assert queue(team.outsider) == [] and told(team.outsider) == []

    services.endorse_assessment(team.authoriser, assessment.pk)
    assert queue(team.authoriser) == []
    assert any("was endorsed" in n.message for n in told(team.officer))


def test_a_returned_assessment_goes_back_to_its_author_with_the_comments():
    team = make_team()
    assessment = submitted(team)
    services.return_assessment(team.manager, assessment.pk, "Add the second threat")

    assert queue(team.manager) == []
    (note,) = [n for n in told(team.officer) if "returned" in n.message]
    assert "Add the second threat" in note.message
    assert told(team.outsider) == []


def test_my_work_lists_assessments_awaiting_in_a_fixed_number_of_queries(client):
    team = make_team()
    submitted(team)
    force_sign_in(client, team.manager)
    session = client.session
    session["haven_purpose"] = PURPOSE
    session.save()
    client.get("/cases/my-work/")
    with CaptureQueriesContext(connection) as few:
        body = client.get("/cases/my-work/").content.decode()
    assert body.count("Approve or return") == 1
    for index in range(3):  # more cases managed by the same manager, one submitted on each
        case = make_case(team.officer, name=f"Risk Fictional{index}")
        case_services.add_member(case, team.manager, TeamRole.MANAGER)
        submitted(replace(team, case=case))
    with CaptureQueriesContext(connection) as many:
        body = client.get("/cases/my-work/").content.decode()
    assert body.count("Approve or return") == 4
    assert len(many) == len(few)
    home = client.get("/").content.decode()
    assert "Risk assessments to approve or endorse" in home and 'data-testid="count">4<' in home
