"""URL tables (issue 14): `routes` turns `(route, view[, name])` rows into the urlconf's
paths, below a prefix, in the rows' order; a row without a name takes its view's."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from haven.ui.routes import routes


def first(request: HttpRequest) -> HttpResponse:
    return HttpResponse("first")


def second(request: HttpRequest) -> HttpResponse:
    return HttpResponse("second")


def test_each_row_is_a_named_path_below_the_prefix_in_order():
    patterns = routes("things/<int:pk>/", [("", first, "one"), ("edit/", second)])

    assert [(str(p.pattern), p.callback, p.name) for p in patterns] == [
        ("things/<int:pk>/", first, "one"),
        ("things/<int:pk>/edit/", second, "second"),
    ]


def test_the_case_hub_tabs_and_pages_resolve_as_before():
    case_id = "00000000-0000-4000-8000-000000000001"

    assert reverse("cases:people", args=[case_id]) == f"/cases/{case_id}/people/"
    assert reverse("cases:contact_edit", args=[case_id, case_id]) == (
        f"/cases/{case_id}/contacts/{case_id}/correct/"
    )
    assert reverse("risk:vulnerability_history", args=[case_id, case_id]) == (
        f"/risk/assessments/{case_id}/vulnerabilities/{case_id}/history/"
    )
    assert reverse("equipment:custody_csv", args=[case_id]) == (
        f"/operations/assets/{case_id}/custody.csv"
    )
    assert reverse("telemetry:policy_step_remove", args=[case_id]) == (
        f"/operations/alerts/policies/{case_id}/steps/remove/"
    )
