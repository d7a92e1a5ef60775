"""The case hub's "Deployments and alarms" tab. Protection never imports operations (layer
contract), so the shell composes it: the case is opened through the cases selectors (need-to-
know and the ledgered read), then operations says what the case team may know of it."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpResponse
from django.shortcuts import render

from haven.access.purposes import Purpose
from haven.accounts.types import AuthenticatedRequest
from haven.cases import selectors as cases
from haven.equipment import selectors as equipment
from haven.telemetry import selectors as telemetry
from haven.ui.helpers import ask_purpose, marking_context, session_purpose


def case_operations(request: AuthenticatedRequest, case_id: UUID) -> HttpResponse:
    user = request.user
    purpose = session_purpose(request)
    if purpose is None:
        cases.find_visible_case(user, case_id)  # 404 before asking, so no existence oracle
        return ask_purpose(request)
    case = cases.get_case(user, case_id, purpose)
    return render(
        request,
        "web/case_operations.html",
        {
            "case": case,
            "hub": "operations",
            "deployments": equipment.deployments_protecting(user, case.pk),
            "alarms": telemetry.alarms_for_case(case.pk),
            "purpose_label": Purpose(purpose).label,
            "nav_active": "protection",
            **marking_context(case.marking),
        },
    )
