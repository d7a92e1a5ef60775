from django.urls import path

from haven.ui import paths  # noqa: F401 (registers the case, deployment and complaint converters)
from haven.ui.routes import Row, routes

from . import views

app_name = "cases"

CASE = "cases/<case:case_id>/"

# (route, view, name), in resolution order; the case pages are below CASE.
_ROUTES: list[Row] = [
    ("purpose/", views.choose_purpose, "purpose"),
    ("purpose/clear/", views.clear_purpose, "clear_purpose"),
    ("cases/", views.case_list, "list"),
    ("cases/export.csv", views.case_export, "export"),
    ("cases/referrals/new/", views.referral_new, "referral_new"),
    ("cases/referrals/new/check/", views.referral_check, "referral_check"),
    ("cases/triage/", views.triage, "triage"),
    ("cases/my-work/", views.my_work, "my_work"),
    ("cases/dashboard/", views.dashboard, "dashboard"),
    ("cases/break-glass/", views.break_glass, "break_glass"),
    ("directory/", views.directory, "directory"),
    ("directory/new/", views.partner_new, "partner_new"),
    ("directory/<uuid:partner_id>/", views.partner_detail, "partner"),
    ("directory/<uuid:partner_id>/edit/", views.partner_edit, "partner_edit"),
    ("directory/<uuid:partner_id>/retire/", views.partner_retire, "partner_retire"),
    ("checklists/", views.checklists, "checklists"),
    ("checklists/new/", views.checklist_new, "checklist_new"),
    ("checklists/<uuid:checklist_id>/", views.checklist_detail, "checklist"),
    ("checklists/<uuid:checklist_id>/edit/", views.checklist_edit, "checklist_edit"),
    ("checklists/<uuid:checklist_id>/retire/", views.checklist_retire, "checklist_retire"),
    (CASE, views.case_detail, "detail"),
]

# The case hub: one page per sub-navigation tab (cases/case_nav.html), named as its section.
_SECTIONS = ("people", "contacts", "tasks", "documents", "timeline", "members")

_CASE_ROUTES: list[Row] = [
    ("identity/", views.case_identity, "identity"),
    ("team/", views.case_team, "team"),
    ("team/members/<int:membership_id>/remove/", views.member_remove, "member_remove"),
    ("team/grants/<int:grant_id>/revoke/", views.grant_revoke, "grant_revoke"),
    ("edit/", views.case_edit, "edit"),
    ("decision/", views.case_decision, "decision"),
    ("decision/check/", views.decision_check, "decision_check"),
    ("joint-providers/new/", views.joint_provider_add, "joint_add"),
    ("people/new/", views.person_add, "person_add"),
    ("people/<uuid:case_person_id>/", views.person_edit, "person_edit"),
    ("locations/new/", views.location_add, "location_add"),
    ("locations/<uuid:case_location_id>/correct/", views.location_edit, "location_edit"),
    ("locations/<uuid:case_location_id>/end/", views.location_end, "location_end"),
    ("locations/<uuid:case_location_id>/history/", views.location_history, "location_history"),
    ("contacts/new/", views.contact_add, "contact_add"),
    ("contacts/<uuid:case_contact_id>/correct/", views.contact_edit, "contact_edit"),
    ("contacts/<uuid:case_contact_id>/withdraw/", views.contact_withdraw, "contact_withdraw"),
    ("contacts/<uuid:case_contact_id>/history/", views.contact_history, "contact_history"),
    ("tasks/new/", views.task_add, "task_add"),
    ("tasks/checklist/", views.checklist_apply, "checklist_apply"),
    ("links/new/", views.case_link_add, "case_link_add"),
    ("tasks/<uuid:case_task_id>/done/", views.task_complete, "task_complete"),
    ("escalate/", views.escalate, "escalate"),
    ("documents/new/", views.document_add, "document_add"),
    ("documents/<uuid:case_document_id>/", views.document_download, "document"),
]

urlpatterns = [
    *routes("", _ROUTES),
    *(
        path(f"{CASE}{section}/", views.case_section, {"section": section}, name=section)
        for section in _SECTIONS
    ),
    *routes(CASE, _CASE_ROUTES),
]
