from django.urls import path

from haven.ui import paths  # noqa: F401 (registers the case, deployment and complaint converters)

from . import views

app_name = "cases"

urlpatterns = [
    path("purpose/", views.choose_purpose, name="purpose"),
    path("purpose/clear/", views.clear_purpose, name="clear_purpose"),
    path("cases/", views.case_list, name="list"),
    path("cases/export.csv", views.case_export, name="export"),
    path("cases/referrals/new/", views.referral_new, name="referral_new"),
    path("cases/referrals/new/check/", views.referral_check, name="referral_check"),
    path("cases/triage/", views.triage, name="triage"),
    path("cases/my-work/", views.my_work, name="my_work"),
    path("cases/dashboard/", views.dashboard, name="dashboard"),
    path("cases/break-glass/", views.break_glass, name="break_glass"),
    path("directory/", views.directory, name="directory"),
    path("directory/new/", views.partner_new, name="partner_new"),
    path("directory/<uuid:partner_id>/", views.partner_detail, name="partner"),
    path("directory/<uuid:partner_id>/edit/", views.partner_edit, name="partner_edit"),
    path("directory/<uuid:partner_id>/retire/", views.partner_retire, name="partner_retire"),
    path("checklists/", views.checklists, name="checklists"),
    path("checklists/new/", views.checklist_new, name="checklist_new"),
    path("checklists/<uuid:checklist_id>/", views.checklist_detail, name="checklist"),
    path("checklists/<uuid:checklist_id>/edit/", views.checklist_edit, name="checklist_edit"),
    path("checklists/<uuid:checklist_id>/retire/", views.checklist_retire, name="checklist_retire"),
    path("cases/<case:case_id>/", views.case_detail, name="detail"),
    # The case hub: one page per sub-navigation tab (cases/case_nav.html).
    path("cases/<case:case_id>/people/", views.case_section, {"section": "people"}, name="people"),
    path(
        "cases/<case:case_id>/contacts/",
        views.case_section,
        {"section": "contacts"},
        name="contacts",
    ),
    path("cases/<case:case_id>/tasks/", views.case_section, {"section": "tasks"}, name="tasks"),
    path(
        "cases/<case:case_id>/documents/",
        views.case_section,
        {"section": "documents"},
        name="documents",
    ),
    path(
        "cases/<case:case_id>/timeline/",
        views.case_section,
        {"section": "timeline"},
        name="timeline",
    ),
    path(
        "cases/<case:case_id>/members/", views.case_section, {"section": "members"}, name="members"
    ),
    path("cases/<case:case_id>/identity/", views.case_identity, name="identity"),
    path("cases/<case:case_id>/team/", views.case_team, name="team"),
    path(
        "cases/<case:case_id>/team/members/<int:membership_id>/remove/",
        views.member_remove,
        name="member_remove",
    ),
    path(
        "cases/<case:case_id>/team/grants/<int:grant_id>/revoke/",
        views.grant_revoke,
        name="grant_revoke",
    ),
    path("cases/<case:case_id>/edit/", views.case_edit, name="edit"),
    path("cases/<case:case_id>/decision/", views.case_decision, name="decision"),
    path("cases/<case:case_id>/decision/check/", views.decision_check, name="decision_check"),
    path("cases/<case:case_id>/joint-providers/new/", views.joint_provider_add, name="joint_add"),
    path("cases/<case:case_id>/people/new/", views.person_add, name="person_add"),
    path(
        "cases/<case:case_id>/people/<uuid:case_person_id>/", views.person_edit, name="person_edit"
    ),
    path("cases/<case:case_id>/locations/new/", views.location_add, name="location_add"),
    path(
        "cases/<case:case_id>/locations/<uuid:case_location_id>/correct/",
        views.location_edit,
        name="location_edit",
    ),
    path(
        "cases/<case:case_id>/locations/<uuid:case_location_id>/end/",
        views.location_end,
        name="location_end",
    ),
    path(
        "cases/<case:case_id>/locations/<uuid:case_location_id>/history/",
        views.location_history,
        name="location_history",
    ),
    path("cases/<case:case_id>/contacts/new/", views.contact_add, name="contact_add"),
    path(
        "cases/<case:case_id>/contacts/<uuid:case_contact_id>/correct/",
        views.contact_edit,
        name="contact_edit",
    ),
    path(
        "cases/<case:case_id>/contacts/<uuid:case_contact_id>/withdraw/",
        views.contact_withdraw,
        name="contact_withdraw",
    ),
    path(
        "cases/<case:case_id>/contacts/<uuid:case_contact_id>/history/",
        views.contact_history,
        name="contact_history",
    ),
    path("cases/<case:case_id>/tasks/new/", views.task_add, name="task_add"),
    path("cases/<case:case_id>/tasks/checklist/", views.checklist_apply, name="checklist_apply"),
    path("cases/<case:case_id>/links/new/", views.case_link_add, name="case_link_add"),
    path(
        "cases/<case:case_id>/tasks/<uuid:case_task_id>/done/",
        views.task_complete,
        name="task_complete",
    ),
    path("cases/<case:case_id>/escalate/", views.escalate, name="escalate"),
    path("cases/<case:case_id>/documents/new/", views.document_add, name="document_add"),
    path(
        "cases/<case:case_id>/documents/<uuid:case_document_id>/",
        views.document_download,
        name="document",
    ),
]
