"""Who sees which rota records (registered with haven.access.visibility by RotaConfig.ready).

A rota belongs to one staff group (staff.py): it and its swaps are open to everyone in that
group (who is on call is everyone's business there) and to nobody else, so an operations rota
is not found by protection staff and a protection rota not by operations staff."""

from __future__ import annotations

from django.db.models import Q

from haven.access.visibility import NOTHING, Access, register
from haven.accounts.models import User

from .models import Rota, ShiftSwap
from .staff import groups_of


def _rotas(user: User, action: Access) -> Q:
    codes = [group.code for group in groups_of(user)]
    return Q(group__in=codes) if codes else NOTHING


def _swaps(user: User, action: Access) -> Q:
    codes = [group.code for group in groups_of(user)]
    return Q(rota__group__in=codes) if codes else NOTHING


register(Rota, _rotas)
register(ShiftSwap, _swaps)
