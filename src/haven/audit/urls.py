from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("audit/ledger/", views.ledger_search, name="ledger"),
    path("audit/ledger/<int:entry_id>/", views.ledger_entry, name="entry"),
]

# Mounted public in haven/urls.py: the latest signed checkpoint, for anyone to pin and compare.
public = [path("checkpoint", views.published_checkpoint, name="checkpoint")]
