from django.urls import path

from . import views

app_name = "rota"

urlpatterns = [path("operations/rota/", views.home, name="home")]
