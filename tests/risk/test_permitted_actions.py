"""Only the risk actions a user may take are offered (issue 20 item 2): the page asks the same
functions (haven.risk.permissions) that the services refuse with."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from haven.risk import services as risk_services
from tests.cases.test_casework import web
from tests.risk.helpers import approved, make_team

pytestmark = pytest.mark.django_db


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_agreed_is_offered_for_a_measure_only_to_a_manager(client):
    team = make_team()
    measure = risk_services.add_measure(
        team.manager, team.case.pk, measure_type="alarm", details="Alarm"
    )
    web(client, team.officer)
    assert 'value="agreed"' not in page(client, f"/risk/cases/{team.case.pk}/measures/new/")
    assert 'value="agreed"' not in page(client, f"/risk/measures/{measure.pk}/status/")
    with pytest.raises(ValidationError, match="Only a manager"):
        risk_services.change_measure_status(
            team.officer, measure.pk, status="agreed", reason="agreed", version=measure.version
        )
    web(client, team.manager)
    assert 'value="agreed"' in page(client, f"/risk/cases/{team.case.pk}/measures/new/")
    assert 'value="agreed"' in page(client, f"/risk/measures/{measure.pk}/status/")


def test_an_approved_assessment_opens_no_edit_form(client):
    team = make_team()
    assessment = approved(team)
    web(client, team.officer)
    assert f"/risk/assessments/{assessment.pk}/edit/" not in page(
        client, f"/risk/assessments/{assessment.pk}/"
    )
    for path in ("edit/", "threats/new/"):
        response = client.get(f"/risk/assessments/{assessment.pk}/{path}")
        assert response.status_code == 302
        assert response["Location"] == f"/risk/assessments/{assessment.pk}/"


def test_scores_are_five_radios_with_none_chosen(client):
    team = make_team()
    web(client, team.officer)
    html = page(client, f"/risk/cases/{team.case.pk}/assessments/new/")
    assert '<select name="likelihood"' not in html and '<select name="impact"' not in html
    for score in range(1, 6):
        assert f'name="likelihood" type="radio" value="{score}"' in html
    assert not re.search(r'name="(likelihood|impact)" type="radio" value="\d" checked', html)
