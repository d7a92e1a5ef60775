from django.urls import path

from haven.ui import paths  # noqa: F401 (registers the case, deployment and complaint converters)

from . import views

app_name = "risk"

urlpatterns = [
    path("risk/", views.home, name="home"),
    path("risk/catalogue/", views.catalogue, name="catalogue"),
    path("risk/catalogue/<slug:code>/edit/", views.catalogue_edit, name="catalogue_edit"),
    path("risk/catalogue/<slug:code>/retire/", views.catalogue_retire, name="catalogue_retire"),
    path("risk/cases/<case:risk_case_id>/", views.case_risk, name="case"),
    path("risk/cases/<case:risk_case_id>/plan.pdf", views.plan_pdf, name="plan_pdf"),
    path(
        "risk/cases/<case:risk_case_id>/assessments/new/",
        views.assessment_new,
        name="assessment_new",
    ),
    path("risk/cases/<case:risk_case_id>/measures/new/", views.measure_add, name="measure_add"),
    path("risk/cases/<case:risk_case_id>/decisions/new/", views.decision_add, name="decision_add"),
    path("risk/measures/<uuid:measure_id>/status/", views.measure_status, name="measure_status"),
    path("risk/assessments/<uuid:assessment_id>/", views.assessment, name="assessment"),
    path("risk/assessments/<uuid:assessment_id>/edit/", views.assessment_edit, name="edit"),
    path("risk/assessments/<uuid:assessment_id>/threats/new/", views.threat_add, name="threat_add"),
    path(
        "risk/assessments/<uuid:assessment_id>/vulnerabilities/new/",
        views.vulnerability_add,
        name="vulnerability_add",
    ),
    path(
        "risk/assessments/<uuid:assessment_id>/threats/<uuid:threat_id>/edit/",
        views.threat_edit,
        name="threat_edit",
    ),
    path(
        "risk/assessments/<uuid:assessment_id>/threats/<uuid:threat_id>/end/",
        views.threat_end,
        name="threat_end",
    ),
    path(
        "risk/assessments/<uuid:assessment_id>/threats/<uuid:threat_id>/history/",
        views.threat_history,
        name="threat_history",
    ),
    path(
        "risk/assessments/<uuid:assessment_id>/vulnerabilities/<uuid:vulnerability_id>/edit/",
        views.vulnerability_edit,
        name="vulnerability_edit",
    ),
    path(
        "risk/assessments/<uuid:assessment_id>/vulnerabilities/<uuid:vulnerability_id>/end/",
        views.vulnerability_end,
        name="vulnerability_end",
    ),
    path(
        "risk/assessments/<uuid:assessment_id>/vulnerabilities/<uuid:vulnerability_id>/history/",
        views.vulnerability_history,
        name="vulnerability_history",
    ),
    path("risk/assessments/<uuid:assessment_id>/notices/new/", views.notice_add, name="notice_add"),
    path("risk/assessments/<uuid:assessment_id>/submit/", views.submit, name="submit"),
    path("risk/assessments/<uuid:assessment_id>/approve/", views.approve, name="approve"),
    path("risk/assessments/<uuid:assessment_id>/endorse/", views.endorse, name="endorse"),
    path(
        "risk/assessments/<uuid:assessment_id>/return/",
        views.return_assessment,
        name="return",
    ),
    path(
        "risk/assessments/<uuid:assessment_id>/report.pdf",
        views.assessment_pdf,
        name="assessment_pdf",
    ),
]
