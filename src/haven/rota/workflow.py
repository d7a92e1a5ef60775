"""The shift swap's moves (DESIGN.md, "One way each"). A move not listed here is refused.

No roles: the service decides who may make each move (only the colleague asked accepts or
declines; only the requester cancels)."""

from __future__ import annotations

from haven.workflow import TransitionTable

from .models import SwapStatus as S

SWAP_TRANSITIONS = TransitionTable.from_moves(
    "shift swap",
    {
        S.REQUESTED: (S.ACCEPTED, S.DECLINED, S.CANCELLED),
        S.ACCEPTED: (),
        S.DECLINED: (),
        S.CANCELLED: (),
    },
    labels=dict(S.choices),
    refusal=lambda table, source, target: f"This swap is already {table.label(source).lower()}",
)
