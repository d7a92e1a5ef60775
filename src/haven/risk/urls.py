from django.urls import path

from . import views

app_name = "risk"

urlpatterns = [path("risk/", views.home, name="home")]
