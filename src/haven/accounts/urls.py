from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("verify/", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
    path("logout/", views.sign_out, name="logout"),
    path("logout-everywhere/", views.sign_out_everywhere, name="logout_everywhere"),
    path("profile/", views.profile, name="profile"),
    path("keep-alive/", views.keep_alive, name="keep_alive"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
]
