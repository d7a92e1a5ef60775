"""Demo checklist templates (what a protection unit would plausibly use; no personal data).
The demo command calls create_demo_checklists() once, on the first load, as the demo manager."""

from __future__ import annotations

from haven.accounts.models import User

from . import services
from .models import ChecklistTemplate, TaskKind

# (title, due in days after the checklist is applied or None for the default, kind)
DEMO_CHECKLISTS: dict[str, list[tuple[str, int | None, str]]] = {
    "New arrangement checklist": [
        ("Explain the arrangement and its conditions; record the person's agreement", 2, "task"),
        ("Set up and test the emergency contact route", 2, "task"),
        ("Record everyone in the household on the People tab", 5, "task"),
        ("Agree the contact schedule with the protected person", 7, "task"),
        ("Agree with the case manager who else is told (school, GP, employer)", 14, "task"),
        ("First review of the arrangement", 28, "review"),
    ],
    "Relocation checklist": [
        ("Check the new area against the threat: no links to its source", 3, "task"),
        ("Secure the new address: locks, alarm, safe room", 7, "task"),
        ("Arrange the move without traceable records", 10, "task"),
        ("Redirect post and close old accounts through the protection team", 14, "task"),
        ("Register with a GP and school under the agreed details", 21, "task"),
        ("End the old address and record the new one on the People tab", 21, "task"),
        ("Welfare visit after the move", None, "task"),
        ("Review the risk assessment after the move", 42, TaskKind.REVIEW),
    ],
}


def create_demo_checklists(manager: User) -> int:
    """Add each demo checklist that is not there yet (through the service: ledgered)."""
    made = 0
    for name, items in DEMO_CHECKLISTS.items():
        if ChecklistTemplate.objects.filter(name=name).exists():
            continue
        services.add_checklist(
            manager,
            name=name,
            items=[{"title": t, "due_in_days": d, "kind": k} for t, d, k in items],
        )
        made += 1
    return made
