from django.urls import path

from . import views

app_name = "telemetry"

urlpatterns = [
    path("operations/alerts/", views.home, name="home"),
    path("operations/alerts/live/", views.live, name="live"),
    path("operations/alerts/devices/", views.device_list, name="devices"),
    path(
        "operations/alerts/devices/<uuid:device_pk>/report/",
        views.device_report,
        name="device_report",
    ),
    path("operations/alerts/<uuid:alert_id>/", views.alert_detail, name="detail"),
    path("operations/alerts/<uuid:alert_id>/acknowledge/", views.acknowledge, name="acknowledge"),
]

# Device receivers: mounted at /api/telemetry/ as public views (haven/urls.py); devices have no
# session and send no API token, so they are plain views, not API operations.
receivers = [
    path("osmand", views.osmand, name="osmand"),
    path("owntracks", views.owntracks, name="owntracks"),
]
