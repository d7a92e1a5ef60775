from django.urls import path

from haven.ui import paths  # noqa: F401 (registers the reference-or-id converters)

from . import views

app_name = "oversight"

C = "oversight/complaints/<complaint:complaint_id>/"
R = "oversight/reviews/<uuid:review_id>/"

urlpatterns = [
    path("oversight/", views.home, name="home"),
    path("oversight/rules/", views.rules, name="rules"),
    path("oversight/complaints/", views.complaints, name="complaints"),
    path("oversight/complaints/export.csv", views.complaints_csv, name="complaints_csv"),
    path("oversight/complaints/new/", views.complaint_new, name="complaint_new"),
    path(C, views.complaint, name="complaint"),
    path(C + "action/", views.complaint_action, name="complaint_action"),
    path(C + "outcome/", views.complaint_outcome, name="complaint_outcome"),
    path(C + "update/", views.complaint_update, name="complaint_update"),
    path(C + "investigation/", views.complaint_investigation, name="complaint_investigation"),
    path(
        C + "commissioner/<slug:step>/",
        views.complaint_commissioner_step,
        name="complaint_commissioner_step",
    ),
    path(C + "review/", views.review_new, name="review_new"),
    path(R + "extend/", views.review_extend, name="review_extend"),
    path(R + "determine/", views.review_determine, name="review_determine"),
    path(R + "response/", views.review_response, name="review_response"),
    path(R + "refuse/", views.review_refuse, name="review_refuse"),
    path("oversight/panel-members/", views.panel_members, name="panel_members"),
    path("oversight/panel-members/<uuid:member_id>/", views.panel_member, name="panel_member"),
    path("oversight/hearings/", views.hearings, name="hearings"),
    path("oversight/hearings/<hearing:hearing_id>/", views.hearing, name="hearing"),
    path("oversight/tribunals/", views.tribunals, name="tribunals"),
    path("oversight/tribunals/<tribunal:tribunal_id>/", views.tribunal, name="tribunal"),
    path("oversight/forfeitures/", views.forfeitures, name="forfeitures"),
    path("oversight/forfeitures/<forfeiture:forfeiture_id>/", views.forfeiture, name="forfeiture"),
    path("oversight/statistics/", views.statistics_view, name="statistics"),
    path(
        "oversight/statistics/<slug:stat_table>.<slug:export_format>",
        views.statistics_export,
        name="statistics_export",
    ),
    path("oversight/import/", views.import_upload, name="import"),
    path("oversight/my-work/", views.my_work, name="my_work"),
    path("oversight/caseloads/", views.caseloads, name="caseloads"),
    path(C + "assign/", views.complaint_assign, name="complaint_assign"),
    path(R + "assign/", views.review_assign, name="review_assign"),
    path(C + "notes/", views.complaint_note, name="complaint_note"),
    path(C + "correspondence/", views.complaint_correspondence, name="complaint_correspondence"),
    path(C + "documents/", views.complaint_document_add, name="complaint_document_add"),
    path(
        C + "documents/<uuid:document_id>/",
        views.complaint_document,
        name="complaint_document",
    ),
    path("oversight/governance/", views.governance, name="governance"),
    path("oversight/governance/<meeting:meeting_id>/", views.meeting, name="meeting"),
    path(
        "oversight/governance/actions/<int:action_id>/done/", views.action_done, name="action_done"
    ),
    path("oversight/performance/", views.performance_view, name="performance"),
    path("oversight/performance/export.csv", views.performance_csv, name="performance_csv"),
    path(
        "oversight/tribunals/<tribunal:tribunal_id>/seat/",
        views.tribunal_seat,
        name="tribunal_seat",
    ),
]
