from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("administration/", views.administration, name="administration"),
    path("administration/users/<int:user_id>/unlock/", views.unlock_account, name="unlock_account"),
]
