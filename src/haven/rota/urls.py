from django.urls import path

from . import views

app_name = "rota"

urlpatterns = [
    path("operations/rota/", views.home, name="home"),
    path("operations/rota/new/", views.rota_new, name="new"),
    path("operations/rota/on-call/", views.on_call, name="on_call"),
    path("operations/rota/allowances/", views.allowances, name="allowances"),
    path("operations/rota/welfare/", views.welfare, name="welfare"),
    path("operations/rota/welfare/me/", views.welfare_me, name="welfare_me"),
    path("operations/rota/welfare/<int:person_id>/", views.welfare_person, name="welfare_person"),
    path("operations/rota/calendar-feed/", views.feed, name="feed"),
    path("operations/rota/swaps/<int:swap_id>/", views.swap_decide, name="swap_decide"),
    path("operations/rota/<uuid:rota_id>/", views.rota_detail, name="detail"),
]
