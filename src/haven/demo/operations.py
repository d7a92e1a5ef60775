"""Synthetic demo data for the operations module: equipment first, then the rota that uses it."""

from __future__ import annotations

from haven.demo.covert import create_demo_covert
from haven.equipment.demo import create_demo_equipment
from haven.rota.demo import create_demo_rota
from haven.telemetry.demo import create_demo_policy, create_demo_tracking


def create_demo_operations() -> None:
    """Needs the demo accounts `supervisor` and `technician`; safe to run twice."""
    people = create_demo_equipment()
    if people is not None:
        create_demo_rota(*people)
        create_demo_policy(people[0])
        create_demo_tracking(people[1])
    create_demo_covert()
