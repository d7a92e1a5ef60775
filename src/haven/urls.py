from django.urls import include, path

from haven.api import api
from haven.web import views as web_views

handler403 = "haven.web.views.error_403"
handler404 = "haven.web.views.error_404"
handler500 = "haven.web.views.error_500"

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("accounts/", include("haven.accounts.urls")),
    path("api/", api.urls),
    path("", include("haven.cases.urls")),
    path("", include("haven.audit.urls")),
    path("", include("haven.oversight.urls")),
    path("", include("haven.equipment.urls")),
    path("", include("haven.rota.urls")),
    path("", include("haven.risk.urls")),
    path("", include("haven.telemetry.urls")),
    path("", include("haven.web.urls")),
]
