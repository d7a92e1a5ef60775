from haven.ui import paths  # noqa: F401 (registers the reference-or-id converters)
from haven.ui.routes import routes

from . import views

app_name = "oversight"

# A row without a name is named after its view (haven.ui.routes).
urlpatterns = [
    *routes(
        "oversight/",
        [
            ("", views.home),
            ("rules/", views.rules),
            ("complaints/", views.complaints),
            ("complaints/export.csv", views.complaints_csv),
            ("complaints/new/", views.complaint_new),
            ("panel-members/", views.panel_members),
            ("panel-members/<uuid:member_id>/", views.panel_member),
            ("hearings/", views.hearings),
            ("hearings/<hearing:hearing_id>/", views.hearing),
            ("tribunals/", views.tribunals),
            ("tribunals/<tribunal:tribunal_id>/", views.tribunal),
            ("tribunals/<tribunal:tribunal_id>/seat/", views.tribunal_seat),
            ("forfeitures/", views.forfeitures),
            ("forfeitures/<forfeiture:forfeiture_id>/", views.forfeiture),
            ("statistics/", views.statistics_view, "statistics"),
            ("statistics/<slug:stat_table>.<slug:export_format>", views.statistics_export),
            ("import/", views.import_upload, "import"),
            ("my-work/", views.my_work),
            ("caseloads/", views.caseloads),
            ("governance/", views.governance),
            ("governance/<meeting:meeting_id>/", views.meeting),
            ("governance/actions/<int:action_id>/done/", views.action_done),
            ("performance/", views.performance_view, "performance"),
            ("performance/export.csv", views.performance_csv),
        ],
    ),
    *routes(
        "oversight/complaints/<complaint:complaint_id>/",
        [
            ("", views.complaint),
            ("action/", views.complaint_action),
            ("outcome/", views.complaint_outcome, "complaint_outcome"),
            ("update/", views.complaint_update, "complaint_update"),
            ("investigation/", views.complaint_investigation, "complaint_investigation"),
            ("commissioner/<slug:step>/", views.complaint_commissioner_step),
            ("review/", views.review_new, "review_new"),
            ("assign/", views.complaint_assign),
            ("notes/", views.complaint_note, "complaint_note"),
            ("correspondence/", views.complaint_correspondence, "complaint_correspondence"),
            ("documents/", views.complaint_document_add),
            ("documents/<uuid:document_id>/", views.complaint_document),
        ],
    ),
    *routes(
        "oversight/reviews/<uuid:review_id>/",
        [
            ("extend/", views.review_extend, "review_extend"),
            ("determine/", views.review_determine, "review_determine"),
            ("response/", views.review_response, "review_response"),
            ("refuse/", views.review_refuse),
            ("assign/", views.review_assign),
        ],
    ),
]
