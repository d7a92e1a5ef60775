from django.urls import path

from . import views

app_name = "rota"

# Mounted at /operations/rota/ behind the operations module's gate (haven/urls.py).
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.rota_new, name="new"),
    path("on-call/", views.on_call, name="on_call"),
    path("allowances/", views.allowances, name="allowances"),
    path("welfare/", views.welfare, name="welfare"),
    path("welfare/me/", views.welfare_me, name="welfare_me"),
    path("welfare/<int:person_id>/", views.welfare_person, name="welfare_person"),
    path(
        "welfare/notes/<uuid:note_id>/correct/",
        views.welfare_note_correct,
        name="welfare_note_correct",
    ),
    path(
        "welfare/notes/<uuid:note_id>/withdraw/",
        views.welfare_note_withdraw,
        name="welfare_note_withdraw",
    ),
    path(
        "welfare/notes/<uuid:note_id>/history/",
        views.welfare_note_history,
        name="welfare_note_history",
    ),
    path("calendar-feed/", views.feed, name="feed"),
    path("swaps/<int:swap_id>/", views.swap_decide, name="swap_decide"),
    path("<uuid:rota_id>/", views.rota_detail, name="detail"),
]
