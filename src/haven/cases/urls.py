from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("purpose/", views.choose_purpose, name="purpose"),
    path("purpose/clear/", views.clear_purpose, name="clear_purpose"),
    path("cases/", views.case_list, name="list"),
    path("cases/break-glass/", views.break_glass, name="break_glass"),
    path("cases/<uuid:case_id>/", views.case_detail, name="detail"),
    path("cases/<uuid:case_id>/identity/", views.case_identity, name="identity"),
    path("cases/<uuid:case_id>/team/", views.case_team, name="team"),
]
