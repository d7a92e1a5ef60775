from haven.ui.routes import routes

from . import views

app_name = "authorisations"

# Mounted at /operations/authorisations/ behind the operations module's gate (haven/urls.py).
urlpatterns = routes(
    "",
    [
        ("", views.register),
        ("new/", views.new),
        ("quarantine/", views.quarantine),
        ("<uuid:authorisation_id>/", views.detail),
    ],
)
