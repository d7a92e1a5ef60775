from django.urls import path

from . import views

app_name = "welfare"

# The protection staff's welfare (staff.py): mounted at /protection/welfare/ behind the
# protection module's gate (haven/urls.py); operations staff's welfare stays under the rota.
urlpatterns = [
    path("", views.protection_welfare, name="dashboard"),
    path("me/", views.protection_welfare_me, name="me"),
    path("<int:officer_id>/", views.protection_welfare_person, name="person"),
]
