"""Casework rules as versioned configuration, each with its source.

The statutory parts (SOCPA 2005 ss.82-84) name their section; service standards that no statute
fixes (escalation response time, review interval, upload limits) say so, so that they can be
changed by configuration rather than by editing code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from haven.accounts.roles import Role
from haven.timelimits.rules import TimeLimitRule, build_registry
from haven.vault import documents
from haven.workflow import Transition, TransitionTable

from .models import CaseStatus

S = CaseStatus


# The four matters a provider must have regard to (SOCPA 2005 s.82(4)) "in determining
# whether to make arrangements ..., or to vary or cancel arrangements": each is required for
# acceptance, decline, every variation and every cancellation.
ACCEPTANCE_FACTORS: tuple[tuple[str, str], ...] = (
    ("factor_risk", "s.82(4)(a) the nature and extent of the risk to the person's safety"),
    ("factor_cost", "s.82(4)(b) the cost of the arrangements"),
    (
        "factor_adjustment",
        "s.82(4)(c) the likelihood that the person, and any associated person, will be able "
        "to adjust to any change in their circumstances",
    ),
    (
        "factor_proceedings",
        "s.82(4)(d) if the person is a witness, the nature of the proceedings and the "
        "importance of the evidence (say 'not a witness' otherwise)",
    ),
)
FACTOR_FIELDS = tuple(field for field, _ in ACCEPTANCE_FACTORS)
# What a s.84 transfer records: both providers' agreement and when it takes effect.
TRANSFER_FIELDS = (
    "receiving_provider",
    "receiving_recorded_by",
    "effective_date",
    "receiving_recorded_on",
)
_FIELD_MESSAGES = {
    **{
        field: f"Record {label.split(' ', 1)[0]}: {label.split(' ', 1)[1]}"
        for field, label in ACCEPTANCE_FACTORS
    },
    "receiving_provider": "Name the receiving provider",
    "receiving_recorded_by": "Name who recorded the agreement for the receiving provider",
    "effective_date": "Enter the date the transfer takes effect",
    "receiving_recorded_on": "Enter the date the receiving provider recorded it",
}

_MANAGERS = frozenset({Role.PROTECTION_MANAGER, Role.AUTHORISING_OFFICER})
_ASSESSORS = frozenset({Role.PROTECTION_OFFICER, Role.PROTECTION_MANAGER, Role.AUTHORISING_OFFICER})
_AUTHORISER = frozenset({Role.AUTHORISING_OFFICER})


def _refusal(table: TransitionTable, source: str, target: str) -> str:
    current = table.label(source)
    wanted = table.label(target) if target in table.labels else repr(target)
    options = [table.label(t) for t in table.targets_from(source)]
    allowed = ", ".join(options) if options else "nothing (this is a final state)"
    refused = f"A case that is {current} cannot become {wanted}."
    return f"{refused} From {current} it can become: {allowed}."


_VARY = "SOCPA 2005 s.82(2), (4): variation"
_CANCEL = "SOCPA 2005 s.82(2)-(4): cancellation"

# Version 2: s.82(4) factors for variation and cancellation; a transferred case is final here.
# (Version 1, in force from 2026-01-01, asked the factors only on acceptance or decline and let
# this provider cancel after an s.84 transfer.)
TRANSITIONS_VERSION = 2
TRANSITIONS = TransitionTable(
    "case",
    (
        Transition(S.REFERRED, S.ASSESSED, _ASSESSORS, "SOCPA 2005 s.82(1): assessment of risk"),
        Transition(S.ASSESSED, S.ACCEPTED, _AUTHORISER, "SOCPA 2005 s.82(4)", FACTOR_FIELDS),
        Transition(S.ASSESSED, S.DECLINED, _AUTHORISER, "SOCPA 2005 s.82(4)", FACTOR_FIELDS),
        Transition(S.ACCEPTED, S.ACTIVE, _MANAGERS, "SOCPA 2005 s.82(3): making recorded"),
        Transition(S.ACTIVE, S.VARIED, _MANAGERS, _VARY, FACTOR_FIELDS),
        Transition(S.VARIED, S.ACTIVE, _MANAGERS, "SOCPA 2005 s.82(2): variation in force"),
        Transition(S.VARIED, S.VARIED, _MANAGERS, _VARY, FACTOR_FIELDS),
        Transition(S.ACTIVE, S.TRANSFERRED, _MANAGERS, "SOCPA 2005 s.84", TRANSFER_FIELDS),
        Transition(S.VARIED, S.TRANSFERRED, _MANAGERS, "SOCPA 2005 s.84", TRANSFER_FIELDS),
        Transition(S.ACCEPTED, S.CANCELLED, _MANAGERS, _CANCEL, FACTOR_FIELDS),
        Transition(S.ACTIVE, S.CANCELLED, _MANAGERS, _CANCEL, FACTOR_FIELDS),
        Transition(S.VARIED, S.CANCELLED, _MANAGERS, _CANCEL, FACTOR_FIELDS),
        # No move out of "transferred": from the agreed date the powers to vary, cancel or
        # transfer on are exercisable by the new provider (s.84(3)), not by this provider.
    ),
    labels=dict(CaseStatus.choices),
    field="to_status",
    refusal=_refusal,
    field_messages=_FIELD_MESSAGES,
    version=TRANSITIONS_VERSION,
)


@dataclass(frozen=True)
class Citation:
    text: str
    confirmed: bool
    notes: str


# The offence the identity page warns of. s.86 is the offence of disclosing information about
# protection arrangements; disclosing information about a person who has assumed a new
# identity is s.88.
NEW_IDENTITY_OFFENCE = Citation(
    text="SOCPA 2005 s.88",
    confirmed=False,
    notes=(
        "UNCONFIRMED: section numbers from the Act's commencement list (ss.86-90 in force "
        "1.4.2006) and the Bill's numbering; the text of s.88 was not retrieved."
    ),
)


@dataclass(frozen=True)
class AwaitedDecision:
    """A status in which the case waits for one person's decision: who (their place on the
    team and the role they must hold) and what they are to decide."""

    team_role: str  # haven.access.models.TeamRole value
    role: str
    what: str


# The hand-offs of the arrangement: once a case reaches one of these statuses it lands in the
# "awaiting you" list of the team members who decide next, and they are notified.
AWAITING_DECISION: dict[str, AwaitedDecision] = {
    S.ASSESSED: AwaitedDecision(
        "authorising", Role.AUTHORISING_OFFICER, "Decide whether to accept or decline"
    ),
    S.ACCEPTED: AwaitedDecision(
        "manager", Role.PROTECTION_MANAGER, "Record the protection arrangement as made"
    ),
}

# Service standards: no statute fixes these; Haven configuration, version 1.
SERVICE_STANDARD = "Haven protection service standard v1 (local policy, configurable)"
CASEWORK_RULES = build_registry(
    [
        TimeLimitRule(
            code="escalation_response",
            title="Manager's response to an escalated complex query",
            citation=SERVICE_STANDARD,
            kind="working_days",
            amount=2,
            valid_from=date(2026, 1, 1),
            notes="Role profile: complex queries referred to senior officers in a timely manner",
        ),
        TimeLimitRule(
            code="arrangement_review",
            title="Review of an active protection arrangement",
            citation=SERVICE_STANDARD,
            kind="months",
            amount=3,
            valid_from=date(2026, 1, 1),
            notes="First review after the arrangement becomes active",
        ),
    ]
)

# Documents: the size limit and the allow-list of types are the core's (haven.vault.documents).
DOCUMENT_MAX_BYTES: int = documents.DOCUMENT_MAX_BYTES
DOCUMENT_TYPES: dict[str, tuple[str, ...]] = documents.DOCUMENT_TYPES

# Triage ageing bands (days since the referral was received).
AGEING_BANDS: tuple[tuple[int, str], ...] = ((2, "new"), (7, "ageing"), (10**6, "overdue"))


# What the case page's decision buttons say: an action in plain words, not "Make <status>".
DECISION_WORDS = {
    "assessed": "Record the assessment",
    "accepted": "Accept the arrangement",
    "declined": "Decline the referral",
    "active": "Make the arrangement active",
    "varied": "Vary the arrangement",
    "transferred": "Transfer to another provider (s.84)",
    "cancelled": "Cancel the arrangement",
}

# A checklist item with no "due in" days is due this many days after the checklist is applied.
CHECKLIST_DEFAULT_DUE_DAYS = 28
# Items a checklist may hold (a longer list is a project plan, not a checklist).
CHECKLIST_MAX_ITEMS = 40
