from django.urls import URLPattern, path

from haven.ui import paths  # noqa: F401 (registers the case, deployment and complaint converters)
from haven.ui.routes import Row, View, routes

from . import views


def csv_and_pdf(route: str, view: View, name: str) -> list[URLPattern]:
    """`<route>.csv` and `<route>.pdf`, named `<name>_csv` and `<name>_pdf`: one view given the
    format as `fmt`."""
    return [
        path(f"{route}.{fmt}", view, {"fmt": fmt}, name=f"{name}_{fmt}") for fmt in ("csv", "pdf")
    ]


app_name = "equipment"

ASSET_TYPE = "operations/asset-types/<slug:code>/"
ASSET = "operations/assets/<uuid:asset_id>/"
DEPLOYMENT = "operations/deployments/<deployment:deployment_id>/"

# (route, view, name), in resolution order.
_ROUTES: list[Row] = [
    ("operations/", views.home, "home"),
    ("operations/assets/", views.asset_list, "assets"),
    ("operations/assets/new/", views.asset_new, "asset_new"),
    ("operations/asset-types/", views.asset_types, "asset_types"),
    (f"{ASSET_TYPE}edit/", views.asset_type_edit, "asset_type_edit"),
    (f"{ASSET_TYPE}retire/", views.asset_type_retire, "asset_type_retire"),
    (ASSET, views.asset_detail, "asset_detail"),
    (f"{ASSET}edit/", views.asset_edit, "asset_edit"),
    (f"{ASSET}history/", views.asset_history, "asset_history"),
]
_LATER_ROUTES: list[Row] = [
    ("operations/kits/", views.kit_list, "kits"),
    ("operations/deployments/", views.deployment_list, "deployments"),
    ("operations/deployments/new/", views.deployment_new, "deployment_new"),
]
_DEPLOYMENT_ROUTES: list[Row] = [
    (DEPLOYMENT, views.deployment_detail, "deployment_detail"),
    (f"{DEPLOYMENT}kit/<uuid:asset_id>/remove/", views.kit_remove, "kit_remove"),
    (f"{DEPLOYMENT}plan.pdf", views.deployment_pdf, "deployment_pdf"),
    ("operations/calendar/", views.calendar, "calendar"),
]


urlpatterns = [
    *routes("", _ROUTES),
    *csv_and_pdf(f"{ASSET}custody", views.custody_export, "custody"),
    *routes("", _LATER_ROUTES),
    *csv_and_pdf("operations/deployments/log", views.deployment_log, "deployment_log"),
    *routes("", _DEPLOYMENT_ROUTES),
]
