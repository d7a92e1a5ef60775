from django.urls import path

from haven.ui.routes import Row, routes

from . import export_views, map_views, register_views, views

app_name = "telemetry"

DEVICE = "devices/<uuid:device_pk>/"
ZONE = "zones/<uuid:fence_id>/"
ALERT = "<uuid:alert_id>/"
POLICY = "policies/<uuid:policy_id>/"

# (route, view, name), in resolution order.
_ROUTES: list[Row] = [
    ("", views.home, "home"),
    ("live/", views.live, "live"),
    ("devices/", views.device_list, "devices"),
    ("devices/new/", register_views.device_new, "device_new"),
    (f"{DEVICE}edit/", register_views.device_edit, "device_edit"),
    (f"{DEVICE}retire/", register_views.device_retire, "device_retire"),
    (f"{DEVICE}route.json", map_views.route, "device_route"),
    ("zones/", register_views.geofence_list, "geofences"),
    ("zones/new/", register_views.geofence_new, "geofence_new"),
    (ZONE, register_views.geofence_edit, "geofence_edit"),
    (f"{ZONE}retire/", register_views.geofence_retire, "geofence_retire"),
    ("map/", map_views.map_page, "map"),
    ("map/positions.json", map_views.positions, "map_positions"),
    (f"{DEVICE}report/", views.device_report, "device_report"),
    (f"{DEVICE}export/", export_views.device_export, "device_export"),
    (ALERT, views.alert_detail, "detail"),
    (f"{ALERT}acknowledge/", views.acknowledge, "acknowledge"),
    (f"{ALERT}resolve/", views.resolve, "resolve"),
    ("policies/", views.policy_list, "policies"),
    ("policies/new/", views.policy_new, "policy_new"),
    (POLICY, views.policy_detail, "policy"),
    (f"{POLICY}edit/", views.policy_edit, "policy_edit"),
    (f"{POLICY}steps/", views.policy_step_add, "policy_step_add"),
    (f"{POLICY}steps/remove/", views.policy_step_remove, "policy_step_remove"),
    (f"{POLICY}assign/", views.policy_assign, "policy_assign"),
    (f"{POLICY}unassign/", views.policy_unassign, "policy_unassign"),
]

# Mounted at /operations/alerts/ behind the operations module's gate (haven/urls.py).
urlpatterns = routes("", _ROUTES)

# Device receivers: mounted at /api/telemetry/ as public views (haven/urls.py); devices have no
# session and send no API token, so they are plain views, not API operations.
receivers = [
    path("osmand", views.osmand, name="osmand"),
    path("owntracks", views.owntracks, name="owntracks"),
]
