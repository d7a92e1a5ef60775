from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("badge/", views.badge, name="badge"),
    path("read-all/", views.mark_all_read, name="mark_all_read"),
    path("<uuid:notification_id>/read/", views.mark_read, name="mark_read"),
]

# Mounted at /accounts/contact-methods/: the person's own account settings.
contacts = [
    path("", views.contacts, name="list"),
    path("<uuid:contact_id>/verify/", views.verify, name="verify"),
    path("<uuid:contact_id>/resend/", views.resend, name="resend"),
    path("<uuid:contact_id>/remove/", views.remove, name="remove"),
]
