from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from haven.accounts.roles import Role
from haven.audit.models import LedgerEntry
from haven.cases.selectors import CaseNotFound
from haven.risk import reports, selectors, services, triggers
from haven.risk.models import AssessmentEvent, DecisionLogEntry, ProtectiveMeasure
from tests.factories import UserFactory

from .helpers import OSMAN, approved, make_team

pytestmark = pytest.mark.django_db


def test_a_measure_is_linked_to_the_risks_it_controls():
    team = make_team()
    approved(team)
    with pytest.raises(ValidationError) as error:
        services.add_measure(
            team.officer, team.case.pk, measure_type="nonsense", controls="R9",
            owner=team.outsider, cost_pence=-1,
        )  # fmt: skip
    assert set(error.value.message_dict) == {"measure_type", "controls", "owner", "cost_pence"}
    assert not ProtectiveMeasure.objects.exists()
    measure = services.add_measure(
        team.officer, team.case.pk, measure_type="alarm", controls="r1", details="Panic alarm",
        cost_pence=125050,
    )  # fmt: skip
    assert measure.controls == ["R1"] and measure.cost == "£1,250.50"
    assert measure.status == "proposed" and measure.owner == team.officer


def test_a_status_change_needs_a_reason_and_is_kept():
    team = make_team()
    approved(team)
    measure = services.add_measure(team.officer, team.case.pk, measure_type="tracker")
    with pytest.raises(ValidationError, match="reason"):
        services.change_measure_status(
            team.manager, measure.pk, status="agreed", reason="", version=measure.version
        )
    with pytest.raises(ValidationError, match="Only a manager"):
        services.change_measure_status(
            team.officer, measure.pk, status="agreed", reason="x", version=measure.version
        )
    measure = services.change_measure_status(
        team.manager, measure.pk, status="agreed", reason="Agreed at panel", version=1
    )
    with pytest.raises(services.ConflictError):
        services.change_measure_status(
            team.officer, measure.pk, status="in_place", reason="Fitted", version=1
        )
    measure = services.change_measure_status(
        team.officer, measure.pk, status="in_place", reason="Fitted", version=measure.version
    )
    assert measure.starts_on == timezone.localdate()
    history = [(c.from_status, c.to_status, c.reason) for c in measure.status_changes.all()]
    assert history == [
        ("", "proposed", "Measure added to the package"),
        ("proposed", "agreed", "Agreed at panel"),
        ("agreed", "in_place", "Fitted"),
    ]


def test_only_managers_extend_the_catalogue():
    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    manager = UserFactory(roles=[Role.PROTECTION_MANAGER])
    with pytest.raises(PermissionDenied):
        services.add_catalogue_measure(officer, code="drone", name="Drone cover")
    services.add_catalogue_measure(manager, code="", name="Drone cover")
    assert "drone-cover" in [m.code for m in selectors.catalogue()]
    with pytest.raises(ValidationError, match="already"):
        services.add_catalogue_measure(manager, code="drone-cover", name="Drone cover")


def decide(team, **extra):  # type: ignore[no-untyped-def]
    data = {
        "decided_at": timezone.now() - timedelta(hours=1),
        "decision_maker": team.manager,
        "ndm_stage": "options",
        "decision": "Relocate the family",
        "rationale": "Address compromised",
        "options_rejected": "Target hardening only",
        **extra,
    }
    return services.record_decision(team.officer, team.case.pk, **data)


def test_the_decision_log_numbers_entries_and_corrects_by_new_entries():
    team = make_team()
    first = decide(team)
    second = decide(team, decision="Relocate within 24 hours", corrects=first.pk)
    assert (first.sequence, second.sequence) == (1, 2)
    assert second.corrects == first and second.author == team.officer
    assert first.entered_at >= first.decided_at
    entries = selectors.decision_log(team.manager, team.case.pk, "supervision")
    assert [e.decision for e in entries] == ["Relocate the family", "Relocate within 24 hours"]


def test_bad_decision_log_entries_are_refused():
    team = make_team()
    with pytest.raises(ValidationError) as error:
        decide(
            team, decided_at=timezone.now() + timedelta(days=1), ndm_stage="x", rationale="",
            decision_maker=team.outsider,
        )  # fmt: skip
    assert set(error.value.message_dict) == {
        "decided_at", "ndm_stage", "rationale", "decision_maker",
    }  # fmt: skip
    assert not DecisionLogEntry.objects.exists()
    with pytest.raises(CaseNotFound):
        services.record_decision(
            team.outsider, team.case.pk, decided_at=timezone.now(), decision_maker=None,
            ndm_stage="action", decision="x", rationale="y",
        )  # fmt: skip


def test_decision_log_entries_cannot_be_edited():
    with connection.cursor() as cursor:
        triggers.install(cursor.execute, connection.vendor)
    team = make_team()
    approved(team)
    entry = decide(team)
    with pytest.raises(ValidationError, match="record a new entry that corrects it"):
        services.refuse_decision_edit(team.officer, entry.pk)
    entry.rationale = "rewritten"
    with pytest.raises(ValidationError, match="cannot be changed"):
        entry.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        DecisionLogEntry.objects.filter(pk=entry.pk).update(ndm_stage="ethics")
    with pytest.raises(DatabaseError), transaction.atomic():
        DecisionLogEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AssessmentEvent.objects.all().update(action="rewritten")
    assert DecisionLogEntry.objects.get().rationale == "Address compromised"


def margin_texts(page) -> list[str]:  # type: ignore[no-untyped-def]
    texts = []
    for box in page._page_box.descendants():
        if type(box).__name__ == "MarginBox":
            texts.append(
                "".join(b.text for b in box.descendants() if type(b).__name__ == "TextBox")
            )
    return texts


def test_the_assessment_pdf_is_marked_on_every_page_and_logged_as_a_disclosure():
    team = make_team()
    assessment = approved(team, threat_to_life=True, **OSMAN)
    name, pdf = reports.assessment_pdf(team.manager, assessment.pk, "supervision")
    assert pdf.startswith(b"%PDF") and name.endswith("-risk-v1.pdf")
    entry = LedgerEntry.objects.filter(action="disclosure").get()
    assert entry.object_type == "risk_assessment" and entry.recipients == [team.manager.username]
    assert entry.justification == "supervision"
    long = selectors.with_content(selectors.RiskAssessment.objects.filter(pk=assessment.pk)).get()
    before, after = selectors.assessment_matrices(long)
    document = reports.to_document(
        "risk/pdf/plan.html",
        {
            "risk": selectors.CaseRisk(team.case, [long], long, long, [], []),
            "case": team.case, "current": long, "matrices": (before, after),
            "assessment": long,
        },
        "SECRET",
        team.manager,
    )  # fmt: skip
    assert len(document.pages) >= 2
    total = len(document.pages)
    for number, page in enumerate(document.pages, start=1):
        texts = margin_texts(page)
        assert texts.count("SECRET") == 2  # header and footer
        assert f"Page {number} of {total}" in texts
        assert any(t.startswith(f"Printed by {team.manager.get_full_name()}") for t in texts)


def test_the_plan_pdf_needs_the_case_and_is_a_disclosure():
    team = make_team()
    approved(team)
    with pytest.raises(CaseNotFound):
        reports.plan_pdf(team.outsider, team.case.pk, "supervision")
    name, pdf = reports.plan_pdf(team.authoriser, team.case.pk, "authorisation")
    assert pdf.startswith(b"%PDF") and "protection-plan" in name
    assert (
        LedgerEntry.objects.filter(action="disclosure", object_type="protection_plan").count() == 1
    )


def test_the_assessment_pdf_names_its_band_scheme_in_words_not_its_code():
    from django.template.loader import render_to_string

    team = make_team()
    assessment = approved(team)
    long = selectors.with_content(selectors.RiskAssessment.objects.filter(pk=assessment.pk)).get()
    before, after = selectors.assessment_matrices(long)
    html = render_to_string(
        "risk/pdf/assessment_body.html", {"assessment": long, "before": before, "after": after}
    )
    assert f"{before.scheme.title}, version {before.scheme.version}" in html
    assert f"{long.scheme_code} v{long.scheme_version}" not in html
