from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [path("audit/ledger/", views.ledger_search, name="ledger")]
