from django.urls import path

from . import views
from .staff import PROTECTION

# The protection staff's on-call rotas: the rota pages again, for the protection group
# (staff.py). Mounted at /protection/rota/ behind the protection module's gate (haven/urls.py)
# as the instance "protection_rota" of the "rota" application, so the shared templates'
# `{% url 'rota:…' %}` stay on this side. Allowances and the welfare pages are not here: the
# protection staff's welfare lives at /protection/welfare/ (welfare_urls.py).
app_name = "rota"

GROUP = {"group": PROTECTION}

urlpatterns = [
    path("", views.home, GROUP, name="home"),
    path("new/", views.rota_new, GROUP, name="new"),
    path("on-call/", views.on_call, GROUP, name="on_call"),
    path("calendar-feed/", views.feed, GROUP, name="feed"),
    path("swaps/<int:swap_id>/", views.swap_decide, GROUP, name="swap_decide"),
    path("<uuid:rota_id>/", views.rota_detail, GROUP, name="detail"),
]
