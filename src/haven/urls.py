"""The URL map: each app is mounted once, behind the gate of the module it belongs to.

`haven.access.gates` wraps every view of a module's urlconf in that module's check, marks the
views any signed-in user may open, and marks the views declared public. The session guard
(`accounts.middleware`) closes everything that is not declared public; the API's token auth
applies each router's module (`haven.api`)."""

from django.urls import path

from haven.access.gates import api_urls, module_urls, public_urls, signed_in_urls
from haven.accounts.roles import Module
from haven.api import api
from haven.audit import urls as audit_urls
from haven.notifications import urls as notification_urls
from haven.telemetry import urls as telemetry_urls
from haven.web import urls as web_urls
from haven.web import views as web_views

handler400 = "haven.web.views.error_400"
handler403 = "haven.web.views.error_403"
handler404 = "haven.web.views.error_404"
handler500 = "haven.web.views.error_500"

PROTECTION, OPERATIONS, OVERSIGHT = Module.PROTECTION, Module.OPERATIONS, Module.OVERSIGHT

urlpatterns = [
    # Open without a session: health, and the device receivers (devices have no account).
    path("", public_urls([path("healthz", web_views.healthz, name="healthz")])),
    path("api/telemetry/", public_urls(telemetry_urls.receivers, "receivers")),
    # The ledger's latest signed checkpoint: a size and a hash, published for outsiders.
    path("ledger/", public_urls(audit_urls.public, "ledger")),
    # Sign-in pages are public (declared in the view); the rest needs a signed-in session.
    path("accounts/contact-methods/", signed_in_urls(notification_urls.contacts, "contacts")),
    path("accounts/", signed_in_urls("haven.accounts.urls")),
    path("notifications/", signed_in_urls(notification_urls)),
    # The API: each router carries its module's token auth (haven/api.py).
    path("api/", api_urls(api.urls)),
    path("", module_urls(PROTECTION, "haven.cases.urls")),
    path("", module_urls(PROTECTION, "haven.risk.urls")),
    path("", module_urls(PROTECTION, web_urls.case_hub, "case_hub")),
    # Protection staff's own welfare and working time (the rota domain keeps it per staff group).
    path("protection/welfare/", module_urls(PROTECTION, "haven.rota.welfare_urls")),
    # Protection staff's on-call rotas: the rota pages mounted again for the protection group.
    path(
        "protection/rota/",
        module_urls(PROTECTION, "haven.rota.protection_urls", namespace="protection_rota"),
    ),
    path("", module_urls(OPERATIONS, "haven.equipment.urls")),
    path("operations/rota/", module_urls(OPERATIONS, "haven.rota.urls")),
    path("operations/alerts/", module_urls(OPERATIONS, "haven.telemetry.urls")),
    path("operations/authorisations/", module_urls(OPERATIONS, "haven.authorisations.urls")),
    path("", module_urls(OVERSIGHT, "haven.oversight.urls")),
    path("", module_urls(Module.AUDIT, "haven.audit.urls")),
    path("administration/", module_urls(Module.ADMINISTRATION, "haven.administration.urls")),
    path("", signed_in_urls(web_urls)),
]
