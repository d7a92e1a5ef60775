from django.urls import path

from . import views

app_name = "web"

urlpatterns = [path("", views.home, name="home")]

# Mounted at /administration/ behind the administration module's gate (haven/urls.py).
administration = [
    path("", views.administration, name="accounts"),
    path("users/<int:user_id>/unlock/", views.unlock_account, name="unlock_account"),
    path("accounts/<int:user_id>/reset-factors/", views.reset_factors, name="reset_factors"),
    path("accounts/<int:user_id>/reset-password/", views.reset_password, name="reset_password"),
]
