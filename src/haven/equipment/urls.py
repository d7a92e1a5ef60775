from django.urls import path

from . import views

app_name = "equipment"

urlpatterns = [
    path("operations/", views.home, name="home"),
    path("operations/assets/", views.asset_list, name="assets"),
    path("operations/assets/new/", views.asset_new, name="asset_new"),
    path("operations/assets/<uuid:asset_id>/", views.asset_detail, name="asset_detail"),
    path(
        "operations/assets/<uuid:asset_id>/custody.csv",
        views.custody_export,
        {"fmt": "csv"},
        name="custody_csv",
    ),
    path(
        "operations/assets/<uuid:asset_id>/custody.pdf",
        views.custody_export,
        {"fmt": "pdf"},
        name="custody_pdf",
    ),
    path("operations/kits/", views.kit_list, name="kits"),
    path("operations/deployments/", views.deployment_list, name="deployments"),
    path("operations/deployments/new/", views.deployment_new, name="deployment_new"),
    path(
        "operations/deployments/log.csv",
        views.deployment_log,
        {"fmt": "csv"},
        name="deployment_log_csv",
    ),
    path(
        "operations/deployments/log.pdf",
        views.deployment_log,
        {"fmt": "pdf"},
        name="deployment_log_pdf",
    ),
    path(
        "operations/deployments/<uuid:deployment_id>/",
        views.deployment_detail,
        name="deployment_detail",
    ),
    path(
        "operations/deployments/<uuid:deployment_id>/plan.pdf",
        views.deployment_pdf,
        name="deployment_pdf",
    ),
    path("operations/calendar/", views.calendar, name="calendar"),
]
