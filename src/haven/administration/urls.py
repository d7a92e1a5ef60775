from django.urls import path

from . import views

app_name = "administration"

# Mounted at /administration/ behind the administration module's gate (haven/urls.py).
urlpatterns = [
    path("", views.account_list, name="accounts"),
    path("users/new/", views.new_account, name="new_account"),
    path("users/<int:user_id>/", views.account_detail, name="account"),
    path("users/<int:user_id>/access/", views.change_access, name="change_access"),
    path("users/<int:user_id>/vetting/", views.vetting, name="vetting"),
    path(
        "users/<int:user_id>/qualifications/new/",
        views.add_qualification,
        name="add_qualification",
    ),
    path(
        "users/<int:user_id>/qualifications/<int:qualification_id>/remove/",
        views.remove_qualification,
        name="remove_qualification",
    ),
    path("users/<int:user_id>/deactivate/", views.deactivate, name="deactivate"),
    path("users/<int:user_id>/reactivate/", views.reactivate, name="reactivate"),
    path("users/<int:user_id>/unlock/", views.unlock_account, name="unlock_account"),
    path("accounts/<int:user_id>/reset-factors/", views.reset_factors, name="reset_factors"),
    path("accounts/<int:user_id>/reset-password/", views.reset_password, name="reset_password"),
    path("access-review/", views.access_review, name="access_review"),
]
