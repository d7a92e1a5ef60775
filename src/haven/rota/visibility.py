"""Who sees which rota records (registered with haven.access.visibility by RotaConfig.ready).
Rotas and swaps are open to the operations module: who is on call is everyone's business there."""

from __future__ import annotations

from haven.access.visibility import open_to, register
from haven.accounts.roles import Module

from .models import Rota, ShiftSwap

register(Rota, open_to(Module.OPERATIONS))
register(ShiftSwap, open_to(Module.OPERATIONS))
