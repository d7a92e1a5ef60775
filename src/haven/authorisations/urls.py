from django.urls import path

from . import views

app_name = "authorisations"

urlpatterns = [
    path("operations/authorisations/", views.register, name="register"),
    path("operations/authorisations/new/", views.new, name="new"),
    path("operations/authorisations/quarantine/", views.quarantine, name="quarantine"),
    path("operations/authorisations/<uuid:authorisation_id>/", views.detail, name="detail"),
]
