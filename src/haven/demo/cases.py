"""Synthetic demo cases. Names come from small fictional lists; no real person is described."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from rich.progress import track

from haven.access.models import TeamRole
from haven.accounts.models import User
from haven.accounts.roles import Clearance
from haven.cases import services
from haven.cases.models import Case

GIVEN = ["Ada", "Bram", "Cleo", "Dov", "Esme", "Finn", "Gita", "Hal", "Iris", "Jude", "Kai", "Lumi"]
FAMILY = ["Fictional", "Imaginary", "Madeup", "Invented", "Pretend", "Notreal", "Storybook"]
STREETS = ["Nowhere Lane", "Makebelieve Road", "Pretend Street", "Sample Close", "Example Way"]


def demo_name(rng: random.Random) -> str:
    return f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}-{rng.randint(100, 999)}"


def create_demo_cases(count: int, seed: int = 2026) -> int:
    rng = random.Random(seed)
    team = {
        name: User.objects.get(username=name)
        for name in ("officer", "manager", "authoriser", "identity")
    }
    Case.objects.all().count()  # fail early if migrations are missing
    for number in track(range(count), description="Creating demo cases"):
        with transaction.atomic():
            case = services.create_case(
                team["officer"],
                subject_name=demo_name(rng),
                subject_dob=date(1960, 1, 1) + timedelta(days=rng.randint(0, 15000)),
                address=f"{rng.randint(1, 200)} {rng.choice(STREETS)}, Demo Town",
                classification=Clearance.SECRET,
                manager=team["manager"],
            )
            services.add_member(case, team["authoriser"], TeamRole.AUTHORISING)
            services.add_member(case, team["identity"], TeamRole.OFFICER)
            if number % 5 == 0:
                services.record_identity(
                    team["identity"],
                    case.pk,
                    legacy_name=case.subject_name,
                    new_name=demo_name(rng),
                )
    return count
