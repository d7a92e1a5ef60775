from django.urls import path

from haven.ui import paths  # noqa: F401 (registers the case, deployment and complaint converters)

from . import case_operations, views

app_name = "web"

urlpatterns = [path("", views.home, name="home")]

# Mounted behind the protection module's gate (haven/urls.py): a tab of the case hub that
# composes operations data for a case team (protection itself never imports operations).
case_hub = [
    path(
        "cases/<case:case_id>/deployments-and-alarms/",
        case_operations.case_operations,
        name="operations",
    ),
]
