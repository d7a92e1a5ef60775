from django.urls import path

from . import views

app_name = "welfare"

# The protection staff's welfare (staff.py): mounted at /protection/welfare/ behind the
# protection module's gate (haven/urls.py); operations staff's welfare stays under the rota.
urlpatterns = [
    path("", views.protection_welfare, name="dashboard"),
    path("me/", views.protection_welfare_me, name="me"),
    path("<int:officer_id>/", views.protection_welfare_person, name="person"),
    path("notes/<uuid:note_id>/correct/", views.protection_note_correct, name="note_correct"),
    path("notes/<uuid:note_id>/withdraw/", views.protection_note_withdraw, name="note_withdraw"),
    path("notes/<uuid:note_id>/history/", views.protection_note_history, name="note_history"),
]
