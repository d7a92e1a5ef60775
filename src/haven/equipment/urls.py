from django.urls import path

from . import views

app_name = "equipment"

urlpatterns = [path("operations/", views.home, name="home")]
