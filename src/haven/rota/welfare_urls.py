from django.urls import path

from . import views

app_name = "welfare"

# The protection staff's welfare (staff.py): mounted at /protection/welfare/ behind the
# protection module's gate (haven/urls.py); operations staff's welfare stays under the rota.
# The dashboard, your own page and the note pages are the rota's welfare views, given the
# protection group's pages (as protection_urls.py gives the rota views the group).
PAGES = {"pages": views.PROTECTION_PAGES}

urlpatterns = [
    path("", views.welfare, PAGES, name="dashboard"),
    path("me/", views.welfare_me, PAGES, name="me"),
    path("<int:officer_id>/", views.protection_welfare_person, name="person"),
    path("notes/<uuid:note_id>/correct/", views.welfare_note_correct, PAGES, name="note_correct"),
    path(
        "notes/<uuid:note_id>/withdraw/", views.welfare_note_withdraw, PAGES, name="note_withdraw"
    ),
    path("notes/<uuid:note_id>/history/", views.welfare_note_history, PAGES, name="note_history"),
]
