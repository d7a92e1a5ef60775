from django.urls import path

from . import export_views, map_views, register_views, views

app_name = "telemetry"

urlpatterns = [
    path("operations/alerts/", views.home, name="home"),
    path("operations/alerts/live/", views.live, name="live"),
    path("operations/alerts/devices/", views.device_list, name="devices"),
    path("operations/alerts/devices/new/", register_views.device_new, name="device_new"),
    path(
        "operations/alerts/devices/<uuid:device_pk>/edit/",
        register_views.device_edit,
        name="device_edit",
    ),
    path(
        "operations/alerts/devices/<uuid:device_pk>/retire/",
        register_views.device_retire,
        name="device_retire",
    ),
    path(
        "operations/alerts/devices/<uuid:device_pk>/route.json",
        map_views.route,
        name="device_route",
    ),
    path("operations/alerts/zones/", register_views.geofence_list, name="geofences"),
    path("operations/alerts/zones/new/", register_views.geofence_new, name="geofence_new"),
    path(
        "operations/alerts/zones/<uuid:fence_id>/",
        register_views.geofence_edit,
        name="geofence_edit",
    ),
    path(
        "operations/alerts/zones/<uuid:fence_id>/retire/",
        register_views.geofence_retire,
        name="geofence_retire",
    ),
    path("operations/alerts/map/", map_views.map_page, name="map"),
    path("operations/alerts/map/positions.json", map_views.positions, name="map_positions"),
    path(
        "operations/alerts/devices/<uuid:device_pk>/report/",
        views.device_report,
        name="device_report",
    ),
    path(
        "operations/alerts/devices/<uuid:device_pk>/export/",
        export_views.device_export,
        name="device_export",
    ),
    path("operations/alerts/<uuid:alert_id>/", views.alert_detail, name="detail"),
    path("operations/alerts/<uuid:alert_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("operations/alerts/<uuid:alert_id>/resolve/", views.resolve, name="resolve"),
    path("operations/alerts/policies/", views.policy_list, name="policies"),
    path("operations/alerts/policies/new/", views.policy_new, name="policy_new"),
    path("operations/alerts/policies/<uuid:policy_id>/", views.policy_detail, name="policy"),
    path(
        "operations/alerts/policies/<uuid:policy_id>/edit/", views.policy_edit, name="policy_edit"
    ),
    path(
        "operations/alerts/policies/<uuid:policy_id>/steps/",
        views.policy_step_add,
        name="policy_step_add",
    ),
    path(
        "operations/alerts/policies/<uuid:policy_id>/steps/remove/",
        views.policy_step_remove,
        name="policy_step_remove",
    ),
    path(
        "operations/alerts/policies/<uuid:policy_id>/assign/",
        views.policy_assign,
        name="policy_assign",
    ),
    path(
        "operations/alerts/policies/<uuid:policy_id>/unassign/",
        views.policy_unassign,
        name="policy_unassign",
    ),
]

# Device receivers: mounted at /api/telemetry/ as public views (haven/urls.py); devices have no
# session and send no API token, so they are plain views, not API operations.
receivers = [
    path("osmand", views.osmand, name="osmand"),
    path("owntracks", views.owntracks, name="owntracks"),
]
