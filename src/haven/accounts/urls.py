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
    path("verify/recovery-code/", views.verify_recovery, name="verify_recovery"),
    path("verify/passkey/begin/", views.passkey_verify_begin, name="passkey_verify_begin"),
    path("verify/passkey/complete/", views.passkey_verify_complete, name="passkey_verify_complete"),
    path("passkeys/strings.js", views.passkey_strings, name="passkey_strings"),
    path("reset-password/", views.reset_password, name="reset_password"),
    path("password-strength/", views.password_strength, name="password_strength"),
    path("security/", views.security, name="security"),
    path("security/password/", views.change_password, name="change_password"),
    path("security/sessions/end/", views.end_session, name="end_session"),
    path(
        "security/confirm/passkey/begin/",
        views.passkey_reauth_begin,
        name="passkey_reauth_begin",
    ),
    path(
        "security/confirm/passkey/complete/",
        views.passkey_reauth_complete,
        name="passkey_reauth_complete",
    ),
    path("security/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("security/passkeys/begin/", views.passkey_register_begin, name="passkey_register_begin"),
    path(
        "security/passkeys/complete/",
        views.passkey_register_complete,
        name="passkey_register_complete",
    ),
    path("security/passkeys/<int:device_id>/name/", views.passkey_rename, name="passkey_rename"),
    path("security/passkeys/<int:device_id>/remove/", views.passkey_remove, name="passkey_remove"),
]
