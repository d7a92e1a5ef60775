"""PDF reports (WeasyPrint): the classification marking in every page header and footer, page
numbers, and a watermark of who printed it and when. Every print is a disclosure in the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

from django.template.loader import render_to_string
from django.utils import timezone

from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.models import Action
from haven.cases.selectors import require_purpose
from haven.concurrency.transactions import service

from . import selectors

PDF_CSS = Path(__file__).parent / "templates" / "risk" / "pdf" / "report.css"


def css_for(marking: str, watermark: str) -> str:
    """Margin boxes cannot take template content, so the marking goes in as a CSS string."""

    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'

    return (
        PDF_CSS.read_text()
        .replace("MARKING", quoted(marking))
        .replace("WATERMARK", quoted(watermark))
    )


def to_pdf(template: str, context: dict[str, object], marking: str, user: User) -> bytes:
    return bytes(to_document(template, context, marking, user).write_pdf())


def to_document(template: str, context: dict[str, object], marking: str, user: User) -> Any:
    """The laid-out document (pages with their margin boxes), before it is written as PDF."""
    from weasyprint import CSS, HTML

    printed_at = timezone.localtime()
    who = f"{user.get_full_name() or user.username} ({user.username})"
    watermark = f"Printed by {who} at {printed_at:%d %b %Y %H:%M}"
    html = render_to_string(
        template, {**context, "marking": marking, "watermark": watermark, "printed_at": printed_at}
    )
    return HTML(string=html).render(stylesheets=[CSS(string=css_for(marking, watermark))])


@service
def assessment_pdf(user: User, assessment_id: UUID | str, purpose: str | None) -> tuple[str, bytes]:
    purpose = require_purpose(purpose)
    assessment = selectors.find_assessment(user, assessment_id)
    assessment = selectors.with_content(
        selectors.RiskAssessment.objects.filter(pk=assessment.pk)
    ).get()
    before, after = selectors.assessment_matrices(assessment)
    pdf = to_pdf(
        "risk/pdf/assessment.html",
        {"assessment": assessment, "before": before, "after": after},
        assessment.marking,
        user,
    )
    ledger.record(
        actor=user,
        action=Action.DISCLOSURE,
        object_type=selectors.ASSESSMENT_OBJECT,
        object_id=assessment.pk,
        case_id=assessment.case_id,
        fields=selectors.ASSESSMENT_FIELDS,
        recipients=[user.username],
        justification=purpose,
        details={"format": "pdf", "report": "risk assessment", "version": assessment.number},
    )
    return f"{assessment.case.reference}-risk-v{assessment.number}.pdf", pdf


@service
def plan_pdf(user: User, case_id: UUID | str, purpose: str | None) -> tuple[str, bytes]:
    """The protection plan: current assessment, protective package and decision log."""
    purpose = require_purpose(purpose)
    risk = selectors.case_risk(user, case_id, purpose)
    marking = risk.case.marking
    matrices = selectors.assessment_matrices(risk.current) if risk.current else None
    pdf = to_pdf(
        "risk/pdf/plan.html",
        {"risk": risk, "case": risk.case, "current": risk.current, "matrices": matrices},
        marking,
        user,
    )
    ledger.record(
        actor=user,
        action=Action.DISCLOSURE,
        object_type="protection_plan",
        object_id=risk.case.pk,
        case_id=risk.case.pk,
        fields=(*selectors.ASSESSMENT_FIELDS, "measures", "decision_log"),
        recipients=[user.username],
        justification=purpose,
        details={"format": "pdf", "report": "protection plan"},
    )
    return f"{risk.case.reference}-protection-plan.pdf", pdf
