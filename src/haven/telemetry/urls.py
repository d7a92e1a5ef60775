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
    # Device receivers: under /api/ because devices have no session (SessionGuardMiddleware lets
    # /api/ through); they are plain views, not API operations (devices send no API token).
    path("api/telemetry/osmand", views.osmand, name="osmand"),
    path("api/telemetry/owntracks", views.owntracks, name="owntracks"),
]
