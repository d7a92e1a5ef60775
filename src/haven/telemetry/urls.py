from django.urls import path

from . import export_views, map_views, register_views, views

app_name = "telemetry"

# Mounted at /operations/alerts/ behind the operations module's gate (haven/urls.py).
urlpatterns = [
    path("", views.home, name="home"),
    path("live/", views.live, name="live"),
    path("devices/", views.device_list, name="devices"),
    path("devices/new/", register_views.device_new, name="device_new"),
    path("devices/<uuid:device_pk>/edit/", register_views.device_edit, name="device_edit"),
    path("devices/<uuid:device_pk>/retire/", register_views.device_retire, name="device_retire"),
    path("devices/<uuid:device_pk>/route.json", map_views.route, name="device_route"),
    path("zones/", register_views.geofence_list, name="geofences"),
    path("zones/new/", register_views.geofence_new, name="geofence_new"),
    path("zones/<uuid:fence_id>/", register_views.geofence_edit, name="geofence_edit"),
    path("zones/<uuid:fence_id>/retire/", register_views.geofence_retire, name="geofence_retire"),
    path("map/", map_views.map_page, name="map"),
    path("map/positions.json", map_views.positions, name="map_positions"),
    path("devices/<uuid:device_pk>/report/", views.device_report, name="device_report"),
    path("devices/<uuid:device_pk>/export/", export_views.device_export, name="device_export"),
    path("<uuid:alert_id>/", views.alert_detail, name="detail"),
    path("<uuid:alert_id>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("<uuid:alert_id>/resolve/", views.resolve, name="resolve"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/new/", views.policy_new, name="policy_new"),
    path("policies/<uuid:policy_id>/", views.policy_detail, name="policy"),
    path("policies/<uuid:policy_id>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<uuid:policy_id>/steps/", views.policy_step_add, name="policy_step_add"),
    path(
        "policies/<uuid:policy_id>/steps/remove/",
        views.policy_step_remove,
        name="policy_step_remove",
    ),
    path("policies/<uuid:policy_id>/assign/", views.policy_assign, name="policy_assign"),
    path("policies/<uuid:policy_id>/unassign/", views.policy_unassign, name="policy_unassign"),
]

# Device receivers: mounted at /api/telemetry/ as public views (haven/urls.py); devices have no
# session and send no API token, so they are plain views, not API operations.
receivers = [
    path("osmand", views.osmand, name="osmand"),
    path("owntracks", views.owntracks, name="owntracks"),
]
