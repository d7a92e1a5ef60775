"""Synthetic risk data for the demo cases (obviously fictional). The demo command calls
reset_demo_risk() before it removes demo cases, and create_demo_risk() after it creates them."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from haven.accounts.models import User
from haven.cases.selectors import cases_visible_to

from . import services, triggers
from .models import (
    AssessmentEvent,
    DecisionLogEntry,
    MeasureStatusChange,
    Notice,
    ProtectiveMeasure,
    RiskAssessment,
    Threat,
    Vulnerability,
)

SOURCES = (
    "Associates of the defendant in the (fictional) Operation Kestrel trial",
    "Former partner with a history of violence (fictional)",
    "Organised crime group 'the Harbour Crew' (fictional)",
    "Unknown callers making threats by phone (fictional)",
)
VULNERABILITIES = (
    "Children attend a school near the old address",
    "Principal posts on social media",
    "Elderly parent remains at the family home",
    "Works shifts and travels alone late at night",
)
MEASURES = ("alarm", "relocation", "target-hardening", "marker", "financial-support", "tracker")


def reset_demo_risk(users: list[User]) -> int:
    """Remove risk records on the cases of the demo accounts, so those cases can be removed.

    The append-only triggers are lifted for this delete only, inside one transaction, and put
    back before it commits (demo data only; never call this on real casework)."""
    case_ids = set()
    for user in users:
        case_ids |= set(cases_visible_to(user).values_list("pk", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        triggers.drop(cursor.execute, connection.vendor)
        removed = 0
        for model, path in (
            (MeasureStatusChange, "measure__case__in"),
            (ProtectiveMeasure, "case__in"),
            (DecisionLogEntry, "case__in"),
            (AssessmentEvent, "assessment__case__in"),
            (Notice, "assessment__case__in"),
            (Vulnerability, "assessment__case__in"),
            (Threat, "assessment__case__in"),
        ):
            removed += model.objects.filter(**{path: case_ids}).delete()[0]  # type: ignore[attr-defined]
        assessments = RiskAssessment.objects.filter(case__in=case_ids)
        assessments.update(supersedes=None, replaced=None)
        removed += assessments.delete()[0]
        triggers.install(cursor.execute, connection.vendor)
    return removed


def create_demo_risk(limit: int = 40, seed: int = 2026) -> int:
    """Assessments (approved, some endorsed, some overdue), measures and decision logs for up
    to `limit` demo cases. Returns how many cases got risk data."""
    officer = User.objects.get(username="officer")
    manager = User.objects.get(username="manager")
    authoriser = User.objects.get(username="authoriser")
    rng = random.Random(seed)
    cases = list(cases_visible_to(manager).filter(pk__in=cases_visible_to(officer).values("pk")))
    done = 0
    for case in cases[:limit]:
        with transaction.atomic():
            make_case_risk(case.pk, officer, manager, authoriser, rng)
        done += 1
    return done


def make_case_risk(case_id, officer, manager, authoriser, rng) -> None:  # type: ignore[no-untyped-def]
    likelihood, impact = rng.randint(1, 5), rng.randint(2, 5)
    ttl = likelihood * impact >= 16
    osman = {
        "osman_real_immediate": "Intelligence graded B2 of a plan to locate the witness",
        "osman_identified_individual": "The principal (witness in a fictional trial)",
        "osman_third_party": "Members of the fictional group named in the threat",
    }
    assessment = services.start_assessment(
        officer,
        case_id,
        thrive_threat="Threats relayed through associates (synthetic demo text)",
        thrive_harm="Serious physical harm if the new address became known",
        thrive_risk="Risk rises around court dates",
        thrive_investigation="Referred to the force intelligence unit",
        thrive_vulnerability=rng.choice(VULNERABILITIES),
        thrive_engagement="Engages well with the protection officer",
        likelihood=likelihood,
        impact=impact,
        residual_likelihood=max(1, likelihood - 2),
        residual_impact=impact,
        threat_to_life=ttl,
        **(osman if ttl else {}),
    )
    services.add_threat(
        officer,
        assessment.pk,
        source=rng.choice(SOURCES),
        capability="Access to vehicles and associates",
        intent="Stated intention to stop the witness giving evidence",
        linked_people=["Principal"],
        likelihood=likelihood,
        impact=impact,
        residual_likelihood=max(1, likelihood - 2),
        residual_impact=impact,
    )
    services.add_vulnerability(officer, assessment.pk, description=rng.choice(VULNERABILITIES))
    if ttl:
        services.record_notice(
            officer,
            assessment.pk,
            kind="warning",
            decision="served",
            recipient="The principal",
            served_by="DS Demo (fictional)",
            served_at=timezone.now() - timedelta(days=1),
        )
    services.submit_assessment(officer, assessment.pk)
    services.approve_assessment(manager, assessment.pk)
    if rng.random() < 0.6:
        services.endorse_assessment(authoriser, assessment.pk, "Proportionate")
    if rng.random() < 0.2:
        # Demo only: pretend the review date has passed so the dashboards show overdue work.
        RiskAssessment.objects.filter(pk=assessment.pk).update(
            next_review_on=timezone.localdate() - timedelta(days=rng.randint(1, 20))
        )
    for code in rng.sample(MEASURES, 2):
        services.add_measure(
            officer,
            case_id,
            measure_type=code,
            controls=["R1"],
            cost_pence=rng.randint(100, 5000) * 100,
        )
    services.record_decision(
        officer,
        case_id,
        decided_at=timezone.now() - timedelta(hours=2),
        decision_maker=manager,
        ndm_stage="options",
        decision="Install an alarm and agree a safe route to court",
        rationale="Proportionate to the assessed risk; relocation kept as a contingency",
        options_rejected="Immediate relocation (disproportionate at this stage)",
    )
