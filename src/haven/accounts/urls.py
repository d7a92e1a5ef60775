from haven.ui.routes import routes

from . import views

app_name = "accounts"

# A row without a name is named after its view (haven.ui.routes).
urlpatterns = [
    *routes(
        "",
        [
            ("login/", views.sign_in, "login"),
            ("verify/", views.verify),
            ("enrol/", views.enrol),
            ("logout/", views.sign_out, "logout"),
            ("logout-everywhere/", views.sign_out_everywhere, "logout_everywhere"),
            ("profile/", views.profile),
            ("keep-alive/", views.keep_alive),
            ("tokens/<int:token_id>/revoke/", views.revoke_token),
            ("verify/recovery-code/", views.verify_recovery),
            ("verify/passkey/begin/", views.passkey_verify_begin),
            ("verify/passkey/complete/", views.passkey_verify_complete),
            ("passkeys/strings.js", views.passkey_strings, "passkey_strings"),
            ("reset-password/", views.reset_password),
            ("password-strength/", views.password_strength),
        ],
    ),
    *routes(
        "security/",
        [
            ("", views.security),
            ("password/", views.change_password),
            ("sessions/end/", views.end_session),
            ("confirm/passkey/begin/", views.passkey_reauth_begin),
            ("confirm/passkey/complete/", views.passkey_reauth_complete),
            ("recovery-codes/", views.recovery_codes),
            ("passkeys/begin/", views.passkey_register_begin),
            ("passkeys/complete/", views.passkey_register_complete),
            ("passkeys/<int:device_id>/name/", views.passkey_rename),
            ("passkeys/<int:device_id>/remove/", views.passkey_remove),
        ],
    ),
]
