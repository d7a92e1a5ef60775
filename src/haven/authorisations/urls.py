from django.urls import path

from . import views

app_name = "authorisations"

# Mounted at /operations/authorisations/ behind the operations module's gate (haven/urls.py).
urlpatterns = [
    path("", views.register, name="register"),
    path("new/", views.new, name="new"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("<uuid:authorisation_id>/", views.detail, name="detail"),
]
