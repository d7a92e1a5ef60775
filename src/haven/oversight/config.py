"""Versioned oversight configuration with citations: misconduct panel models, the pension
forfeiture ceiling and the statistical disclosure threshold (uk-domain-rules.md §4, §7).

Statutory time limits live in haven.timelimits; these are the non-time rules the oversight
module applies. Each carries the dates it is in force, so a hearing referred on a given date is
always handled under the model in force on that date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from django.conf import settings

from haven.oversight.suppression import DEFAULT_THRESHOLD

# The haven.timelimits rule for complaint review applications (PCMR 2020 reg 29).
REVIEW_RULE = "complaint_review_application"
# The rules a complaint follows from the day it is received (updates, reg 13 reports): a
# complaint received before any version of them was in force is refused.
REPORT_RULE = "overdue_investigation_report"
RULES_FROM_RECEIPT = ("complaint_progress_update", REPORT_RULE)
# The complaint fields holding the complainant's personal data (named in ledger entries).
PERSONAL_FIELDS = ("complainant_name", "complainant_contact", "narrative")

SeatSource = Literal["legal", "independent", "nominated"]


@dataclass(frozen=True)
class Seat:
    code: str
    label: str
    source: SeatSource  # "legal"/"independent": drawn from a register; "nominated": by the force


@dataclass(frozen=True)
class PanelModel:
    code: str
    title: str
    citation: str
    valid_from: date
    valid_to: date | None
    seats: tuple[Seat, ...]
    notes: str

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def drawn_seats(self) -> tuple[Seat, ...]:
        return tuple(seat for seat in self.seats if seat.source != "nominated")

    @property
    def nominated_seats(self) -> tuple[Seat, ...]:
        return tuple(seat for seat in self.seats if seat.source == "nominated")


PANEL_MODELS: tuple[PanelModel, ...] = (
    PanelModel(
        code="lqc_2020",
        title="Legally qualified chair model",
        citation="Police (Conduct) Regulations 2020 reg 28 (as made), S.I. 2020/4",
        valid_from=date(2020, 2, 1),
        valid_to=date(2024, 5, 6),
        seats=(
            Seat("lqc_chair", "Legally qualified chair", "legal"),
            Seat("independent_member", "Independent panel member", "independent"),
            Seat("police_member", "Police member (superintendent or above)", "nominated"),
        ),
        notes=(
            "Referrals 1 Feb 2020 - 6 May 2024. The local policing body appoints the chair and "
            "the independent member; Home Office guidance: selection by rota of the next "
            "available chair is good practice. Transitional rules of S.I. 2024/521 [U]."
        ),
    ),
    PanelModel(
        code="chief_officer_2024",
        title="Chief officer chair model",
        citation="Police (Conduct) Regulations 2020 reg 28 as amended by S.I. 2024/521",
        valid_from=date(2024, 5, 7),
        valid_to=None,
        seats=(
            Seat("chief_officer_chair", "Chair (chief officer or delegate)", "nominated"),
            Seat("independent_member_1", "Independent panel member", "independent"),
            Seat("independent_member_2", "Independent panel member", "independent"),
            Seat("legal_adviser", "Legally qualified adviser", "legal"),
        ),
        notes=(
            "Referrals from 7 May 2024. The chief officer (or a delegate) chairs; the local "
            "policing body appoints two independent members (one with relevant qualifications "
            "or experience) and a legally qualified person to advise the panel."
        ),
    ),
)


def panel_model_for(referral_date: date) -> PanelModel:
    """The panel model in force on the referral date; LookupError before 1 Feb 2020."""
    for model in PANEL_MODELS:
        if model.in_force_on(referral_date):
            return model
    raise LookupError(
        f"no misconduct panel model is configured for referrals on {referral_date.isoformat()} "
        "(the 2020 regulations apply from 1 Feb 2020)"
    )


def panel_model(code: str) -> PanelModel:
    for model in PANEL_MODELS:
        if model.code == code:
            return model
    raise LookupError(f"unknown panel model {code!r}")


@dataclass(frozen=True)
class ForfeitureLimit:
    code: str
    title: str
    citation: str
    max_percent: Decimal
    valid_from: date
    notes: str


PENSION_FORFEITURE_LIMIT = ForfeitureLimit(
    code="pension_forfeiture_maximum",
    title="Maximum pension forfeiture",
    citation="Police Pensions Regulations 2015 reg 210; Home Office Circular 018/2009",
    max_percent=Decimal("65"),
    valid_from=date(2009, 1, 1),
    notes=(
        "At most 65% of the pension, no minimum; the supervising authority (the PCC) also "
        "decides the duration. Appeal to the Crown Court."
    ),
)


@dataclass(frozen=True)
class DisclosurePolicy:
    code: str
    title: str
    citation: str
    threshold: int
    notes: str


def disclosure_policy() -> DisclosurePolicy:
    """Small-cell threshold: settings.HAVEN_SUPPRESSION_THRESHOLD, default 5 (suppress < 5)."""
    threshold = int(getattr(settings, "HAVEN_SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD))
    return DisclosurePolicy(
        code="small_cell_suppression",
        title="Small-cell suppression of published statistics",
        citation="Statistical disclosure control (uk-domain-rules.md §7; no single UK rule)",
        threshold=threshold,
        notes=(
            f"Counts from 1 to {threshold - 1} are suppressed ([c]), with secondary suppression "
            "so that no hidden cell can be worked out from row or column totals."
        ),
    )


def reminder_thresholds() -> tuple[int, ...]:
    """Working days before a statutory deadline at which oversight staff are reminded, widest
    first (settings.HAVEN_OVERSIGHT_REMINDER_WORKING_DAYS; local policy, no statute sets it)."""
    days = getattr(settings, "HAVEN_OVERSIGHT_REMINDER_WORKING_DAYS", (5, 1))
    return tuple(sorted({int(d) for d in days if int(d) >= 0}, reverse=True))
