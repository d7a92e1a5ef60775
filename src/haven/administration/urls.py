from haven.ui.routes import routes

from . import views

app_name = "administration"

# Mounted at /administration/ behind the administration module's gate (haven/urls.py). A row
# without a name is named after its view (haven.ui.routes).
urlpatterns = [
    *routes(
        "",
        [
            ("", views.account_list, "accounts"),
            ("users/new/", views.new_account),
            ("access-review/", views.access_review),
        ],
    ),
    *routes(
        "users/<int:user_id>/",
        [
            ("", views.account_detail, "account"),
            ("access/", views.change_access),
            ("vetting/", views.vetting),
            ("qualifications/new/", views.add_qualification),
            ("qualifications/<int:qualification_id>/remove/", views.remove_qualification),
            ("deactivate/", views.deactivate),
            ("reactivate/", views.reactivate),
            ("unlock/", views.unlock_account),
        ],
    ),
    *routes(
        "accounts/<int:user_id>/",
        [
            ("reset-factors/", views.reset_factors),
            ("reset-password/", views.reset_password),
        ],
    ),
]
