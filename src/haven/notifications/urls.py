from haven.ui.routes import routes

from . import views

app_name = "notifications"

urlpatterns = routes(
    "",
    [
        ("", views.inbox),
        ("badge/", views.badge),
        ("read-all/", views.mark_all_read),
        ("<uuid:notification_id>/read/", views.mark_read),
    ],
)

# Mounted at /accounts/contact-methods/: the person's own account settings.
contacts = routes(
    "",
    [
        ("", views.contacts, "list"),
        ("<uuid:contact_id>/verify/", views.verify),
        ("<uuid:contact_id>/resend/", views.resend),
        ("<uuid:contact_id>/remove/", views.remove),
    ],
)
