"""Synthetic, obviously fictional oversight demo data (called by `haven demo`)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from . import characteristics, services
from .imports import pseudonym
from .models import Category, MemberKind, Outcome, PanelMember, WorkforceRecord

FIRST = ["Ada", "Bram", "Cleo", "Dov", "Esme", "Fenn", "Gus", "Hal", "Isla", "Jude"]
LAST = ["Fictional", "Madeup", "Pretendson", "Imaginary", "Notreal"]


@transaction.atomic
def create_demo_oversight(count: int) -> int:
    """`count` demo complaints at various stages, panel registers, two misconduct cases and a
    pseudonymised workforce snapshot. Returns the number of complaints created."""
    rng = random.Random(2024)
    today = timezone.localdate()
    if not PanelMember.objects.exists():
        # Four legally qualified chairs from the front of FIRST, six lay members from the back.
        registers = [
            (MemberKind.LEGAL, "Chair", FIRST[:4]),
            (MemberKind.INDEPENDENT, "Lay", FIRST[::-1][:6]),
        ]
        for kind, role, first_names in registers:
            for index, first_name in enumerate(first_names):
                services.add_panel_member(
                    None,
                    name=f"{first_name} {role}-{LAST[index % 5]}",
                    kind=kind,
                    term_start=date(2021, 1, 1),
                    term_end=date(2030, 12, 31),
                    # Every other lay member qualifies for the 2024 "relevant qualifications" seat.
                    relevant_qualifications=kind == MemberKind.INDEPENDENT and index % 2 == 0,
                )
    for index in range(count):
        received = today - timedelta(days=rng.randint(20, 500))
        complaint = services.create_complaint(
            None,
            received_on=received,
            category=rng.choice(Category.values),
            complainant_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            complainant_contact=f"{index + 1} Imaginary Street, Nowhereshire",
            narrative="Synthetic demo complaint; no real person or event.",
            against_chief_officer=index % 17 == 0,
            schedule3=index % 4 != 0,
        )
        if index % 4 != 0 and index % 3 == 0:
            started = min(received + timedelta(days=7), today)
            services.record_investigation(None, complaint.pk, started_on=started)
        if rng.random() < 0.7:
            handled = received + timedelta(days=rng.randint(5, 15))
            if handled > today:
                continue
            services.act_on_complaint(None, complaint.pk, "handled", on=handled)
            services.record_outcome(
                None,
                complaint.pk,
                outcome=rng.choice(Outcome.values),
                notice_on=handled,
            )
            if not complaint.against_chief_officer and rng.random() < 0.4:
                received_review = handled + timedelta(days=rng.randint(1, 40))
                if received_review <= today:
                    review = services.record_review_application(
                        None,
                        complaint.pk,
                        received_on=received_review,
                    )
                    if review.in_time and received_review + timedelta(days=10) <= today:
                        reasonable = rng.random() < 0.7
                        services.determine_review(
                            None,
                            review.pk,
                            determined_on=received_review + timedelta(days=10),
                            reasonable_and_proportionate=reasonable,
                            recommendations="" if reasonable else "Demo recommendation.",
                        )
    if not WorkforceRecord.objects.exists():
        snapshot = (
            date(today.year, 3, 31)
            if today >= date(today.year, 3, 31)
            else date(today.year - 1, 3, 31)
        )
        grade_codes = characteristics.GRADE_CODES
        WorkforceRecord.objects.bulk_create(
            WorkforceRecord(
                pseudonym=pseudonym(f"DEMO{number}"),
                snapshot_on=snapshot,
                force="Fictional Constabulary",
                grade=rng.choices(grade_codes, weights=[60, 15, 8, 2, 40])[0],
                **{c.code: rng.choice(c.codes) for c in characteristics.CHARACTERISTICS},
            )
            for number in range(400)
        )
    for referral in (date(2024, 3, 1), date(2024, 9, 2)):
        services.create_hearing(
            None,
            officer_reference=f"PC {rng.randint(1000, 9999)} Demo",
            force="Fictional Constabulary",
            referral_date=referral,
        )
    return count
