"""Synthetic demo data for alerts: a default escalation policy, so that an SOS on the demo pages
the on-call technician at once and escalates to the supervisors (even on a one-layer rota)."""

from __future__ import annotations

from haven.accounts.models import User

from . import services
from .models import EscalationPolicy, TargetKind

DEMO_ROTA = "Technical support on call (demo)"
DEMO_POLICY = "Technical support (demo)"


def create_demo_policy(boss: User) -> None:
    if EscalationPolicy.objects.filter(name=DEMO_POLICY).exists():
        return
    policy = services.create_policy(
        boss,
        name=DEMO_POLICY,
        description="On call first, then every technical supervisor; twice more if unanswered",
        repeat=2,
        is_default=True,
    )
    services.add_step(
        boss,
        policy.pk,
        delay_seconds=5 * 60,
        targets=[services.TargetSpec(TargetKind.ON_CALL, rota_name=DEMO_ROTA)],
    )
    services.add_step(
        boss,
        policy.pk,
        delay_seconds=5 * 60,
        targets=[services.TargetSpec(TargetKind.SUPERVISORS)],
    )
