"""Correcting and ending (withdrawing) a risk assessment's threats and vulnerabilities: only while
the assessment may be edited, with the version read and a reason; what a change replaced stays
readable as the record's history, an ended one stays on its version, shown apart."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from haven.audit.models import Action, LedgerEntry
from haven.concurrency.locking import ConflictError
from haven.notifications.models import Notification
from haven.risk import selectors, services
from haven.risk.models import RiskRevision, Threat, Vulnerability
from haven.risk.selectors import RiskRecordNotFound
from tests.cases.test_corrections import api_headers, web
from tests.risk.helpers import approved, draft, make_team

pytestmark = pytest.mark.django_db
PURPOSE = "case_management"


@pytest.fixture
def team():
    return make_team()


@pytest.fixture
def assessment(team):
    return draft(team)


@pytest.fixture
def threat(team, assessment):
    return services.add_threat(
        team.officer, assessment.pk, source="OCG enforcer", likelihood=4, impact=5
    )


@pytest.fixture
def vulnerability(team, assessment):
    return services.add_vulnerability(team.officer, assessment.pk, description="Walks to school")


def test_correcting_a_threat_keeps_the_old_values_bound_to_the_case_and_ledgers_it(
    team, assessment, threat
):
    services.correct_threat(
        team.officer, assessment.pk, threat.pk, version=1, reason="misheard", intent="Revenge",
        likelihood="5",
    )  # fmt: skip
    threat.refresh_from_db()
    assert (threat.intent, threat.likelihood, threat.version) == ("Revenge", 5, 2)
    revision = RiskRevision.objects.get(record_id=threat.pk)
    assert revision.case_id == team.case.pk and revision.kind == "threat"
    assert revision.previous == {"intent": "", "likelihood": 4}
    assert revision.reason == "misheard" and revision.changed_by == team.officer
    entry = LedgerEntry.objects.filter(action=Action.ALTERATION, object_type="threat").last()
    assert entry is not None and entry.object_id == str(threat.pk)


def test_a_stale_version_is_a_conflict_and_changes_nothing(team, assessment, threat):
    services.correct_threat(
        team.officer, assessment.pk, threat.pk, version=1, reason="typo", source="OCG fixer"
    )
    with pytest.raises(ConflictError):
        services.correct_threat(
            team.manager, assessment.pk, threat.pk, version=1, reason="late", source="Other"
        )
    threat.refresh_from_db()
    assert (threat.source, threat.version) == ("OCG fixer", 2)
    assert RiskRevision.objects.filter(record_id=threat.pk).count() == 1


def test_bad_values_and_a_missing_reason_are_refused_with_nothing_changed(team, assessment, threat):
    with pytest.raises(ValidationError) as bad_score:
        services.correct_threat(
            team.officer, assessment.pk, threat.pk, version=1, reason="x", impact=9
        )
    assert "impact" in bad_score.value.message_dict
    with pytest.raises(ValidationError) as no_reason:
        services.correct_threat(
            team.officer, assessment.pk, threat.pk, version=1, reason=" ", source="New"
        )
    assert "reason" in no_reason.value.message_dict
    threat.refresh_from_db()
    assert threat.version == 1 and not RiskRevision.objects.exists()


def test_an_approved_assessments_threat_cannot_be_corrected_or_withdrawn(team):
    done = approved(team)
    threat = done.threats.get()
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.correct_threat(
            team.officer, done.pk, threat.pk, version=1, reason="x", source="Other"
        )
    with pytest.raises(ValidationError, match="cannot be changed"):
        services.end_risk_item(team.manager, done.pk, "threat", threat.pk, version=1, reason="x")
    threat.refresh_from_db()
    assert threat.version == 1 and threat.ended_at is None


def test_someone_outside_the_case_cannot_correct_or_read_the_history(team, assessment, threat):
    with pytest.raises(RiskRecordNotFound):
        services.correct_threat(
            team.outsider, assessment.pk, threat.pk, version=1, reason="x", source="Other"
        )
    with pytest.raises(RiskRecordNotFound):
        selectors.get_risk_item(
            team.outsider, assessment.pk, "threat", threat.pk, PURPOSE, history=True
        )
    assert Threat.objects.get(pk=threat.pk).version == 1


def test_an_ended_threat_is_kept_apart_left_out_of_the_matrix_and_the_next_version(
    team, assessment, threat
):
    services.end_risk_item(
        team.officer, assessment.pk, "threat", threat.pk, version=1, reason="arrested"
    )
    full = selectors.get_assessment(team.officer, assessment.pk, PURPOSE)
    assert full.current_threats == [] and full.ended_threats == [threat]
    before, _ = selectors.assessment_matrices(full)
    assert "R1" not in str(before.rows)
    with pytest.raises(ValidationError, match="ended"):
        services.correct_threat(
            team.officer, assessment.pk, threat.pk, version=2, reason="x", source="Other"
        )
    services.submit_assessment(team.officer, assessment.pk)
    services.approve_assessment(team.manager, assessment.pk)
    newer = services.start_assessment(team.officer, team.case.pk)
    assert not newer.threats.exists()


def test_a_vulnerability_is_corrected_and_ended_with_its_history(team, assessment, vulnerability):
    services.correct_vulnerability(
        team.officer, assessment.pk, vulnerability.pk, version=1, reason="typo",
        description="Walks to college",
    )  # fmt: skip
    services.end_risk_item(
        team.officer, assessment.pk, "vulnerability", vulnerability.pk, version=2, reason="moved"
    )
    _, item, revisions = selectors.get_risk_item(
        team.manager, assessment.pk, "vulnerability", vulnerability.pk, PURPOSE, history=True
    )
    assert item.version == 3 and item.ended_at is not None
    assert [r.action for r in revisions] == ["ended", "corrected"]
    assert revisions[1].previous == {"description": "Walks to school"}
    assert Vulnerability.objects.filter(pk=vulnerability.pk).exists()


def test_the_case_team_is_told_of_a_correction_but_not_the_person_who_made_it(
    team, assessment, threat
):
    services.correct_threat(
        team.manager, assessment.pk, threat.pk, version=1, reason="typo", source="OCG fixer"
    )
    told = {n.user_id for n in Notification.objects.all() if "corrected a threat" in n.message}
    assert team.officer.pk in told and team.manager.pk not in told


# --------------------------------------------------------------------------- web and API


def test_assessment_page_offers_corrections_only_while_editable(client, team, assessment, threat):
    page = web(client, team.officer).get(f"/risk/assessments/{assessment.pk}/").content.decode()
    assert f"/threats/{threat.pk}/edit/" in page and f"/threats/{threat.pk}/end/" in page
    services.submit_assessment(team.officer, assessment.pk)
    services.approve_assessment(team.manager, assessment.pk)
    page = client.get(f"/risk/assessments/{assessment.pk}/").content.decode()
    assert f"/threats/{threat.pk}/edit/" not in page and f"/threats/{threat.pk}/end/" not in page
    assert f"/threats/{threat.pk}/history/" in page
    refused = client.get(f"/risk/assessments/{assessment.pk}/threats/{threat.pk}/edit/")
    assert refused.status_code == 302


def test_web_correction_with_history_and_a_stale_form(client, team, assessment, threat):
    url = f"/risk/assessments/{assessment.pk}/threats/{threat.pk}/edit/"
    form = web(client, team.officer).get(url)
    assert form.status_code == 200 and "OCG enforcer" in form.content.decode()
    data = {"version": 1, "source": "OCG fixer", "likelihood": "4", "impact": "5", "reason": "typo"}
    missing_reason = client.post(url, {**data, "reason": ""})
    assert missing_reason.status_code == 400
    assert client.post(url, data).status_code == 302
    stale = client.post(url, {**data, "source": "Someone else"})
    assert stale.status_code == 400 and "changed" in stale.content.decode().lower()
    history = client.get(f"/risk/assessments/{assessment.pk}/threats/{threat.pk}/history/")
    text = history.content.decode()
    assert "OCG enforcer" in text and "typo" in text and "Version 1" in text
    end = f"/risk/assessments/{assessment.pk}/threats/{threat.pk}/end/"
    assert client.post(end, {"version": 2, "reason": "arrested"}).status_code == 302
    page = client.get(f"/risk/assessments/{assessment.pk}/").content.decode()
    assert "Withdrawn threats" in page


def test_api_corrects_ends_and_lists_history_with_conflicts_as_409(
    client, team, assessment, threat
):
    headers = api_headers(team.officer)
    url = f"/api/risk/assessments/{assessment.pk}/threats/{threat.pk}"
    fixed = client.patch(
        url,
        {"version": 1, "reason": "typo", "capability": "Firearms"},
        content_type="application/json",
        **headers,
    )
    assert fixed.status_code == 200 and fixed.json()["version"] == 2
    stale = client.patch(
        url,
        {"version": 1, "reason": "late", "capability": "Knives"},
        content_type="application/json",
        **headers,
    )
    assert stale.status_code == 409
    ended = client.post(
        f"{url}/ending", {"version": 2, "reason": "charged"}, content_type="application/json",
        **headers,
    )  # fmt: skip
    assert ended.status_code == 200 and ended.json()["ended_at"] is not None
    history = client.get(f"{url}/history", **headers).json()
    assert history["version"] == 3
    assert [v["action"] for v in history["earlier"]] == ["ended", "corrected"]
    outsider = client.patch(
        url,
        {"version": 3, "reason": "x", "capability": "None"},
        content_type="application/json",
        **api_headers(team.outsider),
    )
    assert outsider.status_code == 404
