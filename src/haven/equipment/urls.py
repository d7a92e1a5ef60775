from collections.abc import Callable

from django.http import HttpResponseBase
from django.urls import URLPattern, path

from haven.ui import paths  # noqa: F401 (registers the case, deployment and complaint converters)

from . import views


def csv_and_pdf(route: str, view: Callable[..., HttpResponseBase], name: str) -> list[URLPattern]:
    """`<route>.csv` and `<route>.pdf`, named `<name>_csv` and `<name>_pdf`: one view given the
    format as `fmt`."""
    return [
        path(f"{route}.{fmt}", view, {"fmt": fmt}, name=f"{name}_{fmt}") for fmt in ("csv", "pdf")
    ]


app_name = "equipment"

urlpatterns = [
    path("operations/", views.home, name="home"),
    path("operations/assets/", views.asset_list, name="assets"),
    path("operations/assets/new/", views.asset_new, name="asset_new"),
    path("operations/asset-types/", views.asset_types, name="asset_types"),
    path("operations/asset-types/<slug:code>/edit/", views.asset_type_edit, name="asset_type_edit"),
    path(
        "operations/asset-types/<slug:code>/retire/",
        views.asset_type_retire,
        name="asset_type_retire",
    ),
    path("operations/assets/<uuid:asset_id>/", views.asset_detail, name="asset_detail"),
    path("operations/assets/<uuid:asset_id>/edit/", views.asset_edit, name="asset_edit"),
    path("operations/assets/<uuid:asset_id>/history/", views.asset_history, name="asset_history"),
    *csv_and_pdf("operations/assets/<uuid:asset_id>/custody", views.custody_export, "custody"),
    path("operations/kits/", views.kit_list, name="kits"),
    path("operations/deployments/", views.deployment_list, name="deployments"),
    path("operations/deployments/new/", views.deployment_new, name="deployment_new"),
    *csv_and_pdf("operations/deployments/log", views.deployment_log, "deployment_log"),
    path(
        "operations/deployments/<deployment:deployment_id>/",
        views.deployment_detail,
        name="deployment_detail",
    ),
    path(
        "operations/deployments/<deployment:deployment_id>/kit/<uuid:asset_id>/remove/",
        views.kit_remove,
        name="kit_remove",
    ),
    path(
        "operations/deployments/<deployment:deployment_id>/plan.pdf",
        views.deployment_pdf,
        name="deployment_pdf",
    ),
    path("operations/calendar/", views.calendar, name="calendar"),
]
