from django.urls import path

from . import views

app_name = "telemetry"

urlpatterns = [path("operations/alerts/", views.home, name="home")]
