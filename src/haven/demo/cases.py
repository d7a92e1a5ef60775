"""Synthetic demo casework. Names come from small fictional lists; no real person is described.

Written for volume (`haven demo --cases 100000`): rows are built in memory and written in
batches, one transaction per batch, by ``haven.vault.bulk.insert`` (COPY on PostgreSQL), which
seals encrypted fields bound to row and owner and computes blind indexes as ``save()`` does;
ledger entries are hashed exactly as ``ledger.record`` hashes them and appended through
``ledger.append_many``.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from haven.access.models import TeamMembership, TeamRole
from haven.accounts.models import User
from haven.accounts.roles import Clearance
from haven.audit import ledger, state
from haven.audit.models import Action
from haven.cases.config import TRANSITIONS
from haven.cases.models import (
    OBJECT_TYPE,
    Case,
    CaseTask,
    ContactEntry,
    Decision,
    Document,
    IdentityRecord,
    JointProvider,
    Location,
    Person,
    Transfer,
)
from haven.concurrency import references
from haven.demo import parallel
from haven.vault import bulk

GIVEN = ["Ada", "Bram", "Cleo", "Dov", "Esme", "Finn", "Gita", "Hal", "Iris", "Jude", "Kai", "Lumi"]
FAMILY = ["Fictional", "Imaginary", "Madeup", "Invented", "Pretend", "Notreal", "Storybook"]
STREETS = ["Nowhere Lane", "Makebelieve Road", "Pretend Street", "Sample Close", "Example Way"]
FORCES = ["Midshire Police", "Westshire Constabulary", "Example City Police", "Demo Agency"]
BATCH = 1000
# Where a demo case sits in the arrangement's life, with the path that led there.
PATHS: list[tuple[int, list[str]]] = [
    (10, ["referred"]),
    (8, ["referred", "assessed"]),
    (4, ["referred", "assessed", "accepted"]),
    (5, ["referred", "assessed", "declined"]),
    (55, ["referred", "assessed", "accepted", "active"]),
    (10, ["referred", "assessed", "accepted", "active", "varied"]),
    (4, ["referred", "assessed", "accepted", "active", "transferred"]),
    (4, ["referred", "assessed", "accepted", "active", "cancelled"]),
]


def demo_name(rng: random.Random) -> str:
    return f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}-{rng.randint(100, 999)}"


def reset_demo_cases() -> None:
    """Remove casework whose team includes a demo account, so the accounts can be recreated."""
    demo_users = User.objects.filter(username__in=["officer", "manager", "authoriser", "identity"])
    ids = TeamMembership.objects.filter(object_type=OBJECT_TYPE, user__in=demo_users).values(
        "object_id"
    )
    cases = Case.objects.filter(id__in=ids)
    with transaction.atomic():
        for model in (
            Document,
            CaseTask,
            ContactEntry,
            Location,
            Transfer,
            Decision,
            JointProvider,
            IdentityRecord,
            Person,
        ):
            model.objects.filter(case__in=cases).delete()  # type: ignore[attr-defined]
        TeamMembership.objects.filter(object_type=OBJECT_TYPE, object_id__in=ids).delete()
        cases.delete()


def ledger_entries(rows: Iterable[dict]) -> list[dict[str, Any]]:
    """Ledger entries (their column values) built, sealed and hashed exactly as
    ``ledger.record`` builds them; each row holds ``ledger.new_entry``'s keyword arguments."""
    return ledger.new_entries(rows)


def write_ledger(entries: list[dict[str, Any]]) -> None:
    """Append in the caller's transaction through the ledger's bulk append (COPY on
    PostgreSQL), which takes the ledger's lock as ``ledger.record`` does for state entries."""
    ledger.append_many(entries)


class Builder:
    def __init__(self, team: dict[str, User], seed: int, year: int, start: int) -> None:
        self.rng = random.Random(seed)
        self.team = team
        self.year = year
        self.number = start
        self.today = timezone.localdate()
        self.weights = [w for w, _ in PATHS]
        self.paths = [p for _, p in PATHS]
        # Instances as Model(**kwargs) makes them, without Model.__init__ (bulk.maker).
        self.make = {
            model: bulk.maker(model)
            for model in (
                Case,
                Person,
                TeamMembership,
                Decision,
                Transfer,
                Location,
                ContactEntry,
                CaseTask,
                IdentityRecord,
            )
        }

    def batch(self, size: int) -> dict[str, list]:
        rng, team = self.rng, self.team
        make = self.make
        rows: dict[str, list] = {
            k: []
            for k in (
                "cases",
                "people",
                "members",
                "decisions",
                "locations",
                "contacts",
                "tasks",
                "identities",
                "transfers",
                "ledger",
            )
        }
        now = timezone.now()
        for _ in range(size):
            self.number += 1
            path = rng.choices(self.paths, self.weights)[0]
            received = now - timedelta(days=rng.randint(0, 900), minutes=rng.randint(0, 1440))
            name = demo_name(rng)
            dob = date(1950, 1, 1) + timedelta(days=rng.randint(0, 22000))
            case = make[Case](
                id=uuid.uuid4(),
                reference=f"HVN-{self.year}-{self.number:05d}",
                status=path[-1],
                subject_name=name,
                subject_dob=dob,
                address=f"{rng.randint(1, 200)} {rng.choice(STREETS)}, Demo Town",
                classification=Clearance.SECRET,
                referring_organisation=rng.choice(FORCES),
                referring_officer=f"DC {rng.choice(FAMILY)}",
                threat_summary="Fictional threat from associates of a defendant",
                urgency=rng.choice(["immediate", "urgent", "routine", "routine"]),
                received_at=received,
                created_at=received,
                updated_at=received,
                status_changed_at=received,
                version=len(path),
            )
            rows["cases"].append(case)
            rows["people"].append(
                make[Person](
                    id=uuid.uuid4(),
                    case=case,
                    role="principal",
                    relationship="self",
                    full_name=name,
                    dob=dob,
                    created_at=received,
                )
            )
            for _ in range(rng.choice([0, 1, 1, 2])):
                rows["people"].append(
                    make[Person](
                        id=uuid.uuid4(),
                        case=case,
                        role="associated",
                        relationship=rng.choice(["partner", "child", "parent", "sibling"]),
                        full_name=demo_name(rng),
                        dob=date(1950, 1, 1) + timedelta(days=rng.randint(0, 25000)),
                        phone=f"07700 900{rng.randint(100, 999)}",
                        created_at=received,
                    )
                )
            changes = [state.classification_change(OBJECT_TYPE, case)]
            for user, role in (
                (team["officer"], TeamRole.LEAD),
                (team["manager"], TeamRole.MANAGER),
                (team["authoriser"], TeamRole.AUTHORISING),
                (team["identity"], TeamRole.OFFICER),
            ):
                rows["members"].append(
                    make[TeamMembership](
                        object_type=OBJECT_TYPE,
                        object_id=case.id,
                        user=user,
                        team_role=role,
                        added_at=received,
                    )
                )
                changes.append(state.team_change(OBJECT_TYPE, case.id, user.pk, role))
            rows["ledger"].append(
                {
                    "recorded_at": received,
                    "actor": team["officer"],
                    "action": Action.COLLECTION,
                    "object_type": OBJECT_TYPE,
                    "object_id": case.id,
                    "case_id": case.id,
                    "fields": ("subject_name", "subject_dob", "address", "threat_summary"),
                    "justification": "referral received",
                    "details": {"state": changes},
                }
            )
            when = received
            for source, target in zip(path, path[1:], strict=False):
                when = when + timedelta(days=rng.randint(1, 20))
                rule = TRANSITIONS[(source, target)]
                maker = team["authoriser"] if rule.requires("factor_risk") else team["manager"]
                if target == "assessed":
                    maker = team["officer"]
                factors = {}
                if rule.requires("factor_risk"):
                    factors = {
                        "factor_risk": "Credible fictional threat",
                        "factor_cost": "Within budget",
                        "factor_adjustment": "Likely to adjust",
                        "factor_proceedings": "Witness in a fictional trial",
                    }
                decision = make[Decision](
                    id=uuid.uuid4(),
                    case=case,
                    from_status=source,
                    to_status=target,
                    decision_maker=maker,
                    decided_on=when.date(),
                    reason=f"Demo: {target}",
                    citation=rule.citation,
                    recorded_at=when,
                    **factors,
                )
                rows["decisions"].append(decision)
                if rule.requires("receiving_provider"):
                    rows["transfers"].append(
                        make[Transfer](
                            id=uuid.uuid4(),
                            case=case,
                            decision=decision,
                            from_provider=case.provider,
                            receiving_provider="Police Scotland",
                            effective_date=when.date(),
                            sending_recorded_on=when.date(),
                            receiving_recorded_on=when.date(),
                            receiving_recorded_by="DI Demo",
                        )
                    )
                rows["ledger"].append(
                    {
                        "recorded_at": when,
                        "actor": maker,
                        "action": Action.ALTERATION,
                        "object_type": OBJECT_TYPE,
                        "object_id": case.id,
                        "case_id": case.id,
                        "fields": ("status",),
                        "justification": f"Demo: {target}",
                        "details": {"from": source, "to": target},
                    }
                )
            if path[-1] in ("active", "varied", "transferred"):
                rows["locations"].append(
                    make[Location](
                        id=uuid.uuid4(),
                        case=case,
                        kind=rng.choice(["residence", "safe_house"]),
                        address=f"{rng.randint(1, 90)} {rng.choice(STREETS)}, Elsewhere",
                        coordinates={
                            "lat": round(rng.uniform(50, 56), 4),
                            "lon": round(rng.uniform(-4, 1), 4),
                        },
                        valid_from=when.date(),
                        created_at=when,
                    )
                )
                rows["contacts"].append(
                    make[ContactEntry](
                        id=uuid.uuid4(),
                        case=case,
                        occurred_at=when + timedelta(days=3),
                        method=rng.choice(["in_person", "phone", "video"]),
                        summary="Fictional welfare check",
                        concerns=rng.choice([[], ["strain"]]),
                        recorded_by=team["officer"],
                        recorded_at=when + timedelta(days=3),
                    )
                )
                rows["tasks"].append(
                    make[CaseTask](
                        id=uuid.uuid4(),
                        case=case,
                        kind="review",
                        title="Review the protection arrangement",
                        owner=team["officer"],
                        due_on=self.today + timedelta(days=rng.randint(-30, 90)),
                        created_by=team["manager"],
                        created_at=when,
                    )
                )
            if self.number % 5 == 0:
                rows["identities"].append(
                    make[IdentityRecord](
                        id=uuid.uuid4(), case=case, legacy_name=name, new_name=demo_name(rng)
                    )
                )
        return rows


def write_batch(rows: dict[str, list]) -> None:
    """One batch in one transaction, every row written as save() would write it (sealed,
    blind-indexed) by ``haven.vault.bulk`` (COPY on PostgreSQL), parents before children."""
    batches = [
        (Case, rows["cases"]),
        (Person, rows["people"]),
        (TeamMembership, rows["members"]),
        (Decision, rows["decisions"]),
        (Transfer, rows["transfers"]),
        (Location, rows["locations"]),
        (ContactEntry, rows["contacts"]),
        (CaseTask, rows["tasks"]),
        (IdentityRecord, rows["identities"]),
    ]
    with transaction.atomic():
        bulk.reserve_encryptions(batches)
        for model, objs in batches:
            bulk.insert(model, objs)
        write_ledger(ledger_entries(rows["ledger"]))


def refresh_statistics(*models: type[Model]) -> None:
    """ANALYZE the team memberships, which their insert trigger reads (or `models`, the tables
    a load grows), on PostgreSQL, while a load grows them.

    A trigger's queries are planned once per connection from the statistics of that moment:
    planned against an empty membership table, the risk portfolio's check of each new member
    walks every membership of the member's user (the index on user and type), so every batch
    costs more than the last (615 µs a membership row over 5,000 cases, against 67 µs with
    fresh statistics). A
    fresh ANALYZE makes PostgreSQL plan them again; doubling the batches between refreshes
    keeps it to a few."""
    if connection.vendor != "postgresql":
        return
    tables = [
        connection.ops.quote_name(model._meta.db_table) for model in models or [TeamMembership]
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


def create_demo_cases(count: int, seed: int = 2026, workers: int = 1) -> int:
    """`count` cases with their people, team, decisions and ledger entries. With `workers` > 1
    on PostgreSQL (outside a transaction) they are built and written by that many processes,
    each over its own share of the references (``haven.demo.parallel``); the first share is
    the same as a single process's, from the same seed."""
    team = {
        name: User.objects.get(username=name)
        for name in ("officer", "manager", "authoriser", "identity")
    }
    year = timezone.localdate().year
    start = 0
    if count > 0:
        with transaction.atomic():  # take the numbers from the case series, as a referral does
            start = references.reserve(Case, "HVN", year, count) - 1
    # Whole batches per process, so a share of fewer than one batch runs no process of its own.
    workers = max(1, min(workers, count // BATCH))
    shares = [count // workers + (1 if n < count % workers else 0) for n in range(workers)]
    parts = []
    offset = 0
    for n, share in enumerate(shares):
        builder = Builder(team, seed + n, year, start + offset)
        parts.append(partial(_write_cases, builder, share))
        offset += share
    parallel.run_parts(parts, count, "Creating demo cases")
    with connection.cursor() as cursor:
        # Fresh planner statistics: straight after a bulk load PostgreSQL misjudges how selective
        # case_id is and reads thousands of rows for a case page (20 ms instead of 0.2 ms).
        cursor.execute("ANALYZE")
    return count


def _write_cases(builder: Builder, count: int, advance: Callable[[int], None]) -> None:
    done = batches = 0
    while done < count:
        size = min(BATCH, count - done)
        write_batch(builder.batch(size))
        done += size
        batches += 1
        if batches & (batches - 1) == 0:  # after batches 1, 2, 4, 8, …
            refresh_statistics()
        advance(size)
