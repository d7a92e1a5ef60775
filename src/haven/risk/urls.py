from haven.ui import paths  # noqa: F401 (registers the case, deployment and complaint converters)
from haven.ui.routes import Row, routes

from . import views

app_name = "risk"

CASE = "risk/cases/<case:risk_case_id>/"
ASSESSMENT = "risk/assessments/<uuid:assessment_id>/"
THREAT = f"{ASSESSMENT}threats/<uuid:threat_id>/"
VULNERABILITY = f"{ASSESSMENT}vulnerabilities/<uuid:vulnerability_id>/"

# (route, view, name), in resolution order.
_ROUTES: list[Row] = [
    ("risk/", views.home, "home"),
    ("risk/catalogue/", views.catalogue, "catalogue"),
    ("risk/catalogue/<slug:code>/edit/", views.catalogue_edit, "catalogue_edit"),
    ("risk/catalogue/<slug:code>/retire/", views.catalogue_retire, "catalogue_retire"),
    (CASE, views.case_risk, "case"),
    (f"{CASE}plan.pdf", views.plan_pdf, "plan_pdf"),
    (f"{CASE}assessments/new/", views.assessment_new, "assessment_new"),
    (f"{CASE}measures/new/", views.measure_add, "measure_add"),
    (f"{CASE}decisions/new/", views.decision_add, "decision_add"),
    ("risk/measures/<uuid:measure_id>/status/", views.measure_status, "measure_status"),
    (ASSESSMENT, views.assessment, "assessment"),
    (f"{ASSESSMENT}edit/", views.assessment_edit, "edit"),
    (f"{ASSESSMENT}threats/new/", views.threat_add, "threat_add"),
    (f"{ASSESSMENT}vulnerabilities/new/", views.vulnerability_add, "vulnerability_add"),
    (f"{THREAT}edit/", views.threat_edit, "threat_edit"),
    (f"{THREAT}end/", views.threat_end, "threat_end"),
    (f"{THREAT}history/", views.threat_history, "threat_history"),
    (f"{VULNERABILITY}edit/", views.vulnerability_edit, "vulnerability_edit"),
    (f"{VULNERABILITY}end/", views.vulnerability_end, "vulnerability_end"),
    (f"{VULNERABILITY}history/", views.vulnerability_history, "vulnerability_history"),
    (f"{ASSESSMENT}notices/new/", views.notice_add, "notice_add"),
    (f"{ASSESSMENT}submit/", views.submit, "submit"),
    (f"{ASSESSMENT}approve/", views.approve, "approve"),
    (f"{ASSESSMENT}endorse/", views.endorse, "endorse"),
    (f"{ASSESSMENT}return/", views.return_assessment, "return"),
    (f"{ASSESSMENT}report.pdf", views.assessment_pdf, "assessment_pdf"),
]

urlpatterns = routes("", _ROUTES)
