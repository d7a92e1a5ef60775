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


OfficerRank = Literal["officer", "senior", "chief"]
RANK_LABELS: dict[str, str] = {
    "officer": "Officer below senior rank",
    "senior": "Senior officer (above chief superintendent)",
    "chief": "Chief officer, Deputy Commissioner or Assistant Commissioner",
}

AMENDMENT_2024 = "Police (Conduct) (Amendment) Regulations 2024 (S.I. 2024/521)"


@dataclass(frozen=True)
class PanelModel:
    code: str
    title: str
    citation: str
    valid_from: date
    valid_to: date | None
    seats: tuple[Seat, ...]
    notes: str
    rank: OfficerRank = "officer"
    # At least one drawn independent member must have relevant qualifications or experience.
    qualified_independent_required: bool = False
    confirmed: bool = True

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def drawn_seats(self) -> tuple[Seat, ...]:
        return tuple(seat for seat in self.seats if seat.source != "nominated")

    @property
    def nominated_seats(self) -> tuple[Seat, ...]:
        return tuple(seat for seat in self.seats if seat.source == "nominated")


_LQC_TO = date(2024, 5, 6)
_AMENDED_FROM = date(2024, 5, 7)
_TWO_INDEPENDENT_AND_ADVISER = (
    Seat("independent_member_1", "Independent panel member", "independent"),
    Seat("independent_member_2", "Independent panel member", "independent"),
    Seat("legal_adviser", "Legally qualified adviser", "legal"),
)


def _amended_2024(
    code: str,
    title: str,
    provision: str,
    chair: Seat,
    *,
    notes: str,
    rank: OfficerRank = "officer",
    confirmed: bool = True,
) -> PanelModel:
    """A panel model of S.I. 2024/521: in force from 7 May 2024, a chair named for the rank,
    then two independent members (one qualified) and a legally qualified adviser."""
    return PanelModel(
        code=code,
        title=title,
        citation=f"Police (Conduct) Regulations 2020 {provision} as amended by {AMENDMENT_2024}",
        valid_from=_AMENDED_FROM,
        valid_to=None,
        rank=rank,
        seats=(chair, *_TWO_INDEPENDENT_AND_ADVISER),
        notes=notes,
        qualified_independent_required=True,
        confirmed=confirmed,
    )


PANEL_MODELS: tuple[PanelModel, ...] = (
    PanelModel(
        code="lqc_2020",
        title="Legally qualified chair model",
        citation="Police (Conduct) Regulations 2020 reg 28 (as made), S.I. 2020/4",
        valid_from=date(2020, 2, 1),
        valid_to=_LQC_TO,
        seats=(
            Seat("lqc_chair", "Legally qualified chair", "legal"),
            Seat("independent_member", "Independent panel member", "independent"),
            Seat("police_member", "Police member (superintendent or above)", "nominated"),
        ),
        notes=(
            "Officers below senior rank. The local policing body appoints the chair and the "
            "independent member; Home Office guidance: selection by rota of the next available "
            "chair is good practice."
        ),
    ),
    PanelModel(
        code="lqc_2020_senior",
        title="Legally qualified chair model (senior officer)",
        citation="Police (Conduct) Regulations 2020 reg 28(2) (as made), S.I. 2020/4",
        valid_from=date(2020, 2, 1),
        valid_to=_LQC_TO,
        rank="senior",
        seats=(
            Seat("lqc_chair", "Legally qualified chair", "legal"),
            Seat("hmic_member", "HM Chief Inspector of Constabulary or an HMI", "nominated"),
            Seat("independent_member", "Independent panel member", "independent"),
        ),
        notes=(
            "UNCONFIRMED: reg 28(2) as made was not retrieved; membership recalled as a "
            "legally qualified chair, HMCIC or an HMI nominated by HMCIC, and an independent "
            "member. Applies to every senior rank, chief officers included."
        ),
        confirmed=False,
    ),
    _amended_2024(
        "chief_officer_2024",
        "Chief officer chair model",
        "reg 28(4)",
        Seat("chief_officer_chair", "Chair (chief officer or delegate)", "nominated"),
        notes=(
            "Officers below senior rank. The chief officer chairs or delegates (reg 2(4A)-(4B): "
            "a senior officer, a former senior officer within 5 years, or staff of similar "
            "seniority); the local policing body appoints two independent members, one with "
            "relevant qualifications or experience, and a legally qualified adviser."
        ),
    ),
    _amended_2024(
        "senior_2024",
        "Senior officer model (chair from another force)",
        "reg 28",
        Seat("other_force_chair", "Chair (senior officer of another force)", "nominated"),
        rank="senior",
        notes=(
            "Senior officers other than chief officers, the Deputy Commissioner and Assistant "
            "Commissioners. Source: PNLD legal update of 7 May 2024 [S]; the amended reg 28 "
            "paragraph numbers were not retrieved."
        ),
        confirmed=False,
    ),
    _amended_2024(
        "chief_rank_2024",
        "Chief officer rank model (HMCIC or an HMI chairs)",
        "reg 28",
        Seat("hmic_chair", "Chair (HM Chief Inspector of Constabulary or an HMI)", "nominated"),
        rank="chief",
        notes=(
            "Chief officers, the Deputy Commissioner and Assistant Commissioners. Source: PNLD "
            "legal update of 7 May 2024 [S]; the amended reg 28 text was not retrieved."
        ),
        confirmed=False,
    ),
)


@dataclass(frozen=True)
class ModelKey:
    """Which fact decides the panel model in force (the transitional provision's key)."""

    fact: Literal["reg30_notice", "referral"]
    citation: str
    notes: str
    confirmed: bool


# The later amendment's transitional rule (S.I. 2025/558 reg 64(3)) keys on whether the
# officer was given written notice under reg 30(1) before commencement; S.I. 2024/521's own
# transitional provision was not retrieved, so the same key is assumed and marked unconfirmed.
PANEL_MODEL_KEY = ModelKey(
    fact="reg30_notice",
    citation=f"{AMENDMENT_2024}, transitional provision (not retrieved)",
    notes=(
        "UNCONFIRMED: the model follows the date the officer was given the reg 30(1) notice of "
        "referral; until that notice is recorded, the referral date stands in for it."
    ),
    confirmed=False,
)


def officer_rank(senior_officer: bool, chief_rank: bool) -> OfficerRank:
    if chief_rank:
        return "chief"
    return "senior" if senior_officer else "officer"


def panel_model_for(key_date: date, rank: OfficerRank = "officer") -> PanelModel:
    """The panel model in force on `key_date` for the officer's rank; LookupError before
    1 Feb 2020. Before 7 May 2024 every senior rank shares one model."""
    wanted = rank if key_date >= _AMENDED_FROM or rank == "officer" else "senior"
    for model in PANEL_MODELS:
        if model.rank == wanted and model.in_force_on(key_date):
            return model
    raise LookupError(
        f"no misconduct panel model is configured for {key_date.isoformat()} "
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
    scheme: str
    title: str
    citation: str
    max_percent: Decimal
    valid_from: date
    valid_to: date | None
    notes: str
    protects_gmp: bool = True
    confirmed: bool = True

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


_CEILING_SOURCE = (
    "UNCONFIRMED: 65% is the figure of Home Office Circular 018/2009 as reported [S]; that "
    "circular was replaced by the Home Office police pension forfeiture guidance (11 Feb 2021, "
    "updated 28 Mar 2024), whose figure for this scheme was not retrieved. "
)
_GMP_NOTE = (
    "The part forfeited must leave the guaranteed minimum pension in payment (contracted-out "
    "service); the decision records that this was checked."
)


def _unconfirmed_ceiling(
    scheme: str, scheme_year: int, citation: str, valid_from: date
) -> ForfeitureLimit:
    """The 65% ceiling as reported for one pension scheme: the schemes differ only in their
    regulations and the date the figure applies from."""
    return ForfeitureLimit(
        code="pension_forfeiture_maximum",
        scheme=scheme,
        title=f"Maximum pension forfeiture ({scheme_year} scheme)",
        citation=citation,
        max_percent=Decimal("65"),
        valid_from=valid_from,
        valid_to=None,
        notes=_CEILING_SOURCE + _GMP_NOTE,
        confirmed=False,
    )


FORFEITURE_LIMITS: tuple[ForfeitureLimit, ...] = (
    _unconfirmed_ceiling(
        "pps_1987",
        1987,
        "Police Pensions Regulations 1987 reg K5; HO Circular 018/2009",
        date(2009, 1, 1),
    ),
    _unconfirmed_ceiling(
        "npps_2006",
        2006,
        "Police Pensions Regulations 2006 reg 55; HO Circular 018/2009",
        date(2009, 1, 1),
    ),
    _unconfirmed_ceiling(
        "pps_2015",
        2015,
        "Police Pensions Regulations 2015 Part 13 Chapter 5 (reg 210 ff.)",
        date(2015, 4, 1),
    ),
)


def forfeiture_limit(scheme: str, on: date) -> ForfeitureLimit:
    """The ceiling for `scheme` in force on `on` (the forfeiture decision date)."""
    for limit in FORFEITURE_LIMITS:
        if limit.scheme == scheme and limit.in_force_on(on):
            return limit
    raise LookupError(f"no forfeiture ceiling is configured for {scheme} on {on.isoformat()}")


# Grounds (1987 reg K5, 2006 reg 55, 2015 Part 13 Ch 5): the Secretary of State's certificate
# is a condition only of the offence connected with service; treason and the Official Secrets
# Acts ground (10 years or more) need none.
CERTIFICATE_GROUNDS = frozenset({"connected_with_service"})


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


# ---------------------------------------------------------------------------------------------
# Complaint steps with their citations (workflow.COMPLAINT_TRANSITIONS, CHIEF_COMPLAINT_*,
# COMMISSIONER_COMPLAINT_*): every move of every complaint table names its source.

# The marker for a step no provision fixes (the body's own procedure).
LOCAL_PRACTICE = "Local practice (no provision fixes this step)"


@dataclass(frozen=True)
class StepRule:
    step: str
    label: str
    citation: str
    confirmed: bool
    version: int = 1

    @property
    def cited(self) -> str:
        """The citation as shown and checked: an unconfirmed one says so."""
        return self.citation if self.confirmed else f"{self.citation} [UNCONFIRMED]"


def _steps(*rules: StepRule) -> dict[str, StepRule]:
    return {rule.step: rule for rule in rules}


# Steps whose source is the same whoever the complaint is about.
_RECORD = StepRule(
    "record",
    "Record under Schedule 3",
    "Police Reform Act 2002 Sch 3 para 2 (recording; paragraph number not retrieved)",
    confirmed=False,
)
_OUTSIDE = StepRule(
    "outside",
    "Handle outside Schedule 3",
    "Police Reform Act 2002 Sch 3 para 2 (complaints not recorded; not retrieved)",
    confirmed=False,
)
_CLOSE = StepRule("close", "Close the complaint", LOCAL_PRACTICE, confirmed=True)

# An ordinary complaint (the force is the appropriate authority): this body sees its moves.
COMPLAINT_STEPS: dict[str, StepRule] = _steps(
    StepRule(
        "log",
        "Log the complaint",
        "IOPC Guidance on capturing data about police complaints (2020) [S]: every complaint "
        "is logged, recorded or not",
        confirmed=False,
    ),
    _RECORD,
    _OUTSIDE,
    StepRule(
        "refer",
        "Refer to the IOPC",
        "Police Reform Act 2002 Sch 3 para 4(1)(a); Police (Complaints and Misconduct) "
        "Regulations 2020 reg 4 (mandatory referral)",
        confirmed=True,  # uk-domain-rules.md §3 [C]
    ),
    StepRule(
        "handle",
        "Handle the complaint",
        "Police Reform Act 2002 Sch 3 para 6 (handling by the appropriate authority; "
        "paragraph number not retrieved)",
        confirmed=False,
    ),
    StepRule(
        "referred_back",
        "Handle after the IOPC's decision on the referral",
        "Police Reform Act 2002 Sch 3 para 5 (the IOPC's decision on a referral; not retrieved)",
        confirmed=False,
    ),
    StepRule(
        "outcome",
        "Notify the outcome",
        "Police (Complaints and Misconduct) Regulations 2020 reg 33(2)(a) (review body, limb, "
        "time limit) and reg 34 (outcome within 5 working days)",
        confirmed=True,  # uk-domain-rules.md §3 [C]
    ),
    StepRule(
        "review",
        "Receive an application for review",
        "Police (Complaints and Misconduct) Regulations 2020 reg 29(2) (28 days) and reg 32 "
        "(relevant review body)",
        confirmed=True,  # uk-domain-rules.md §3 [C]
    ),
    StepRule(
        "close_unreviewed",
        "Close: no application for review in time",
        "Police (Complaints and Misconduct) Regulations 2020 reg 29(2) (the 28 days have run)",
        confirmed=True,
    ),
    StepRule(
        "determine",
        "Determine the review",
        "Police Reform Act 2002 Sch 3 para 6A (review of a complaint not investigated) and "
        "para 25 (review after investigation): paragraph numbers not retrieved; test "
        "'reasonable and proportionate' from IOPC statutory guidance 2020 ch.3 [S]",
        confirmed=False,
    ),
    StepRule(
        "response",
        "Receive the force's response to the recommendations",
        "A force's duty to respond to a local policing body's review recommendations was not "
        "found (uk-domain-rules.md §3); IOPC recommendations: Police Reform Act 2002 Sch 3 "
        "para 28B",
        confirmed=False,
    ),
    _CLOSE,
)


# A complaint about the chief officer: the body's own decision steps.
CHIEF_COMPLAINT_STEPS: dict[str, StepRule] = _steps(
    StepRule(
        "log",
        "Log the complaint: this body is the appropriate authority",
        "Police Reform Act 2002 s.29(1) (appropriate authority for the chief officer); "
        "Sch 3 para 1(1) (preserve evidence)",
        confirmed=True,  # uk-domain-rules.md §3 [C/S]
    ),
    _RECORD,
    _OUTSIDE,
    StepRule(
        "refer",
        "Refer to the IOPC",
        "Police Reform Act 2002 Sch 3 para 4 (mandatory: PCMR 2020 reg 4; voluntary: para 4(3))",
        confirmed=True,  # uk-domain-rules.md §3 (para 4(3), reg 4(1))
    ),
    StepRule(
        "handle",
        "Decide how the complaint is handled and handle it",
        "Police Reform Act 2002 Sch 3 para 6 (handling by the appropriate authority; "
        "paragraph number not retrieved)",
        confirmed=False,
    ),
    StepRule(
        "outcome",
        "Notify the outcome",
        "Police (Complaints and Misconduct) Regulations 2020 reg 33(2)(a) "
        "(as applied to a complaint handled by the local policing body: not retrieved)",
        confirmed=False,
    ),
    StepRule(
        "review",
        "Review by the IOPC",
        "Police Reform Act 2002 Sch 3 para 30 (sub-paragraph not retrieved)",
        confirmed=False,
    ),
    _CLOSE,
)

# Complaints about the Commissioner (a "relevant office holder"): the Elected Local Policing
# Bodies (Complaints and Misconduct) Regulations 2012, S.I. 2012/62. The police and crime panel
# handles them; this office records and forwards them under the panel's delegation, refers
# serious ones to the IOPC, records what the panel decided and tells the complainant.
# Regulation numbers and headings are from the contents of the Regulations as made
# (legislation.gov.uk/uksi/2012/62/contents/made), reg 10 and reg 15 from their text as made;
# later amendments (the Commission became the IOPC) were not applied here.
ELPB_2012 = "Elected Local Policing Bodies (Complaints and Misconduct) Regulations 2012"
ELPB_2012_CONFIRMED = True  # regulation numbers: contents as made [C]


def _elpb(regulations: str) -> str:
    """A citation of the 2012 Regulations, short (ELPB_2012 is the title in full)."""
    return f"ELPB Regs 2012 {regulations}"


COMMISSIONER_COMPLAINT_STEPS: dict[str, StepRule] = _steps(
    StepRule(
        "log",
        "Log the complaint about the Commissioner",
        _elpb("reg 8 (duty to preserve evidence) and reg 9 (notification and recording)"),
        confirmed=True,
    ),
    StepRule(
        "record",
        "Record the complaint (under the panel's delegation)",
        _elpb(
            "reg 9 (notification and recording of complaints); reg 7 (delegation by the "
            "panel: to whom, and that it reaches recording, not retrieved)"
        ),
        confirmed=False,
    ),
    StepRule(
        "not_record",
        "Decide not to record the complaint",
        _elpb("reg 10(2) (decision to take no action under reg 9, and its grounds)"),
        confirmed=True,  # reg 10 text as made [C]
    ),
    StepRule(
        "tell_not_recorded",
        "Tell the complainant it was not recorded, and why",
        _elpb("reg 10(2)(a)-(b) (notify the decision and the grounds)"),
        confirmed=True,  # reg 10 text as made [C]
    ),
    StepRule(
        "refer",
        "Refer a serious complaint to the IOPC",
        _elpb(
            "reg 13 (reference of serious complaints and conduct matters to the Commission, "
            "now the IOPC)"
        ),
        confirmed=True,
    ),
    StepRule(
        "forward",
        "Forward the complaint to the police and crime panel",
        _elpb("reg 9 (notification to the panel) and reg 27 (complaints the panel resolves)"),
        confirmed=True,
    ),
    StepRule(
        "referred_back",
        "The IOPC referred it back: forward it to the panel",
        _elpb("reg 14(2) (reference back to the panel), as cited by reg 15(1) and reg 27"),
        confirmed=True,  # cited in the text of regs 15(1) and 27 as made [C]
    ),
    StepRule(
        "panel_outcome",
        "Record the outcome the panel reports",
        _elpb(
            "reg 28 (informal resolution by the panel), reg 15 (disapplication), reg 16 "
            "(withdrawn complaints): the panel decides, this office records"
        ),
        confirmed=True,
    ),
    StepRule(
        "notify",
        "Record that the complainant was told the outcome",
        _elpb(
            "reg 32 (duty to keep the complainant informed); whether the panel or this office "
            "sends the record of the informal resolution (reg 28) was not retrieved"
        ),
        confirmed=False,
    ),
    _CLOSE,
)
