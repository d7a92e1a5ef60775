"""Synthetic, obviously fictional oversight demo data (called by `haven demo`)."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from haven.accounts.models import User

from . import characteristics, config, performance, services
from .imports import pseudonym
from .models import (
    Category,
    Complaint,
    ForfeitureGround,
    GovernanceMeeting,
    HearingStatus,
    MeetingKind,
    MemberKind,
    MisconductHearing,
    Outcome,
    PanelMember,
    SelectionMethod,
    WorkforceRecord,
)

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
        complaint = _demo_complaint(
            rng,
            received,
            f"{index + 1} Imaginary Street",
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
    if not GovernanceMeeting.objects.exists():
        create_demo_year(rng, today)
    return count


def _demo_complaint(
    rng: random.Random,
    received: date,
    street: str,
    *,
    against_chief_officer: bool = False,
    schedule3: bool = True,
) -> Complaint:
    """A synthetic complaint received on `received` from an invented person at `street`."""
    return services.create_complaint(
        None,
        received_on=received,
        category=rng.choice(Category.values),
        complainant_name=f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        complainant_contact=f"{street}, Nowhereshire",
        narrative="Synthetic demo complaint; no real person or event.",
        against_chief_officer=against_chief_officer,
        schedule3=schedule3,
    )


def _hear_to_outcome(hearing: MisconductHearing, outcome_on: date) -> None:
    """Take a demo misconduct case through every stage to its outcome by the services, as in
    real use (notice, response, panel drawn by rota, hearing, outcome): the ledger, the panel
    model keyed on the notice and the clocks are the real ones."""
    notice_on = hearing.referral_date + timedelta(days=2)
    hearing = services.advance_hearing(None, hearing.pk, to=HearingStatus.NOTICE, on=notice_on)
    services.advance_hearing(None, hearing.pk, to=HearingStatus.RESPONSE_DUE, on=notice_on)
    model = config.panel_model(hearing.panel_model)
    services.appoint_panel(
        None,
        hearing.pk,
        method=SelectionMethod.ROTA,
        nominees={seat.code: f"Demo {seat.label}" for seat in model.nominated_seats},
    )
    services.advance_hearing(None, hearing.pk, to=HearingStatus.HEARING, on=outcome_on)
    services.advance_hearing(
        None, hearing.pk, to=HearingStatus.OUTCOME, on=outcome_on, outcome="Demo outcome"
    )


def _on_or_before(day: date, today: date) -> date:
    return min(day, today)


def create_demo_year(rng: random.Random, today: date) -> None:
    """A year and a quarter of figures for the performance view (each quarter above the
    suppression threshold, so the trends show): complaints with outcomes, misconduct cases,
    appeals, forfeiture cases, a workforce snapshot and a governance meeting per quarter."""
    caseworker = User.objects.filter(username="oversight").first()
    manager = User.objects.filter(username="oversighthead").first()
    for number, quarter in enumerate(performance.quarters(today)):
        last = _on_or_before(quarter.end, today)
        span = (last - quarter.start).days

        def day_in(start: date = quarter.start, width: int = span) -> date:
            return start + timedelta(days=rng.randint(0, max(width, 0)))

        for index in range(8 + rng.randint(0, 6)):
            received = day_in()
            complaint = _demo_complaint(rng, received, f"{index + 1} Storybook Road")
            handled = received + timedelta(days=rng.randint(5, 30))
            if handled <= today and rng.random() < 0.8:
                services.act_on_complaint(None, complaint.pk, "handled", on=handled)
                services.record_outcome(
                    None, complaint.pk, outcome=rng.choice(Outcome.values), notice_on=handled
                )
            elif manager is not None and caseworker is not None:
                services.assign_complaint(manager, complaint.pk, assignee_id=caseworker.pk)
        for _ in range(5 + rng.randint(0, 3)):
            hearing = services.create_hearing(
                None,
                officer_reference=f"PC {rng.randint(1000, 9999)} Demo",
                force="Fictional Constabulary",
                referral_date=day_in(),
            )
            outcome_on = hearing.referral_date + timedelta(days=rng.randint(20, 60))
            if outcome_on <= today:
                _hear_to_outcome(hearing, outcome_on)
        for _ in range(5 + rng.randint(0, 2)):
            tribunal = services.create_tribunal(
                None,
                appellant_reference=f"PC {rng.randint(1000, 9999)} Demo",
                notice_received_on=day_in(),
            )
            determined = tribunal.notice_received_on + timedelta(days=rng.randint(5, 40))
            if determined <= today:
                services.determine_tribunal(
                    None, tribunal.pk, determination="withdrawn", determined_on=determined
                )
        for _ in range(5 + rng.randint(0, 2)):
            case = services.create_forfeiture(
                None,
                officer_reference=f"PC {rng.randint(1000, 9999)} Demo",
                offence="Fictional offence (demo)",
                ground=ForfeitureGround.OFFICIAL_SECRETS,
                conviction_on=day_in(),
            )
            decided = case.conviction_on + timedelta(days=rng.randint(5, 40))
            if decided <= today:
                services.forfeiture_step(None, case.pk, to="psa_decision", on=case.conviction_on)
                services.forfeiture_step(
                    None,
                    case.pk,
                    to="forfeiture_decision",
                    on=decided,
                    percentage=rng.choice([10, 25, 40]),
                    gmp_preserved=True,
                )
        snapshot = last
        if WorkforceRecord.objects.filter(snapshot_on=snapshot).exists():
            snapshot = snapshot - timedelta(days=1)  # beside the snapshot made above
        WorkforceRecord.objects.bulk_create(
            WorkforceRecord(
                pseudonym=pseudonym(f"DEMO-Q{number}-{person}"),
                snapshot_on=snapshot,
                force="Fictional Constabulary",
                grade=rng.choices(characteristics.GRADE_CODES, weights=[60, 15, 8, 2, 40])[0],
                **{c.code: rng.choice(c.codes) for c in characteristics.CHARACTERISTICS},
            )
            for person in range(380 + 10 * number + rng.randint(0, 9))
        )
        held = quarter.start + timedelta(days=min(20, span))
        meeting = services.create_meeting(
            manager,
            kind=MeetingKind.ACCOUNTABILITY,
            title=f"Accountability board, {quarter.label}",
            held_on=held,
        )
        services.record_decision(
            manager,
            meeting.pk,
            summary="The chief officer to report on complaint timeliness (demo)",
            decided_on=held,
        )
        owners = [person for person in (caseworker, manager) if person is not None]
        for index in range(6 + rng.randint(0, 2)) if owners else ():
            due = held + timedelta(days=rng.randint(10, 60))
            action = services.add_action(
                manager,
                meeting.pk,
                description=f"Demo action {index + 1} from {meeting.reference}",
                owner_id=owners[index % len(owners)].pk,
                due_on=due,
            )
            done = due + timedelta(days=rng.randint(-10, 10))
            if done <= today and done >= held and rng.random() < 0.7:
                services.complete_action(owners[index % len(owners)], action.pk, completed_on=done)
