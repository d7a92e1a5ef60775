"""Drawing panel appointees from the registers: rota ("next available") or a seeded random draw.

Both methods walk an ordering of the register and take the first member with no problem
(inactive, not eligible, out of term, unavailable, a declared interest in the officer or force,
already on this panel). Every skip is written into the explanation, so the selection can be
explained to the parties and re-run: a random draw records its seed, a rota its positions.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from .models import MisconductHearing, PanelAppointment, PanelMember, SelectionMethod

QUALIFIED_NEEDED = (
    "no relevant qualifications or experience recorded (one of the two independent members "
    "must have them)"
)


def problems_for(
    member: PanelMember,
    hearing: MisconductHearing,
    on: date,
    taken: Iterable[PanelMember] = (),
    need_qualified: bool = False,
) -> list[str]:
    """Why `member` cannot sit on `hearing` on `on` (empty list: available)."""
    return register_problems(
        member,
        (hearing.officer_reference, hearing.force),
        on,
        taken=taken,
        need_qualified=need_qualified,
    )


def register_problems(
    member: PanelMember,
    subjects: Iterable[str],
    on: date,
    *,
    taken: Iterable[PanelMember] = (),
    need_qualified: bool = False,
) -> list[str]:
    """Why `member` of the register cannot sit on `on` on a matter concerning `subjects`
    (officer references, forces): appointment term, training, availability, declared interests.
    Misconduct panels and appeals tribunals both choose through this."""
    reasons = []
    if need_qualified and not member.relevant_qualifications:
        reasons.append(QUALIFIED_NEEDED)
    if not member.active:
        reasons.append("not active on the register")
    if not member.eligible:
        reasons.append("eligibility not confirmed")
    if not (member.term_start <= on <= member.term_end):
        reasons.append(
            f"term {member.term_start.isoformat()} to {member.term_end.isoformat()} "
            f"does not cover {on.isoformat()}"
        )
    if member.training_expires_on is not None and member.training_expires_on < on:
        reasons.append(f"training expired on {member.training_expires_on.isoformat()}")
    for absence in member.absences.all():
        if absence.starts_on <= on <= absence.ends_on:
            reasons.append(
                f"unavailable {absence.starts_on.isoformat()} to {absence.ends_on.isoformat()}"
            )
    wanted = {subject.strip().casefold() for subject in subjects if subject.strip()}
    for interest in member.interests.all():
        if interest.subject.strip().casefold() in wanted:
            reasons.append(f"declared interest in {interest.subject}")
    if any(member.pk == other.pk for other in taken):
        reasons.append("already appointed to this panel")
    return reasons


@dataclass(frozen=True)
class Pick:
    member: PanelMember
    method: str
    rota_position: int | None
    seed: int | None
    explanation: str


class NoneAvailable(Exception):
    pass


def rota_start(pool: Sequence[PanelMember]) -> int:
    """Index in `pool` after the member most recently appointed by rota from this pool."""
    if not pool:
        return 0
    last = (
        PanelAppointment.objects.filter(
            method=SelectionMethod.ROTA, member__kind=pool[0].kind, member__isnull=False
        )
        .order_by("-appointed_at", "-pk")
        .values_list("rota_position", flat=True)
        .first()
    )
    if last is None:
        return 0
    for index, member in enumerate(pool):
        if member.rota_position > last:
            return index
    return 0  # wrap around to the top of the list


def draw(
    pool: Sequence[PanelMember],
    hearing: MisconductHearing,
    on: date,
    *,
    method: str,
    seed: int | None,
    start: int,
    taken: Iterable[PanelMember],
    seat_label: str,
    need_qualified: bool = False,
) -> Pick:
    """First available member in rota order (from `start`) or in the seeded shuffled order."""
    taken = list(taken)
    if method == SelectionMethod.ROTA:
        order = list(pool[start:]) + list(pool[:start])
        preface = f"Rota: next available from position {order[0].rota_position}" if order else ""
    else:
        order = list(pool)
        random.Random(seed).shuffle(order)
        positions = ", ".join(f"#{m.rota_position}" for m in order)
        preface = f"Seeded random draw (seed {seed}) over {len(order)}; order drawn: {positions}"
    skipped = []
    for member in order:
        reasons = problems_for(member, hearing, on, taken, need_qualified)
        if reasons:
            skipped.append(f"skipped #{member.rota_position} {member.name}: {'; '.join(reasons)}")
            continue
        parts = [preface, *skipped, f"chose #{member.rota_position} {member.name}"]
        return Pick(
            member=member,
            method=method,
            rota_position=member.rota_position,
            seed=seed if method == SelectionMethod.RANDOM else None,
            explanation=". ".join(part for part in parts if part) + ".",
        )
    detail = "; ".join(skipped) or "the register is empty"
    raise NoneAvailable(f"No {seat_label.lower()} is available ({detail})")
