"""State machines (uk-domain-rules.md §8). A transition not listed here is refused."""

from __future__ import annotations

from collections.abc import Mapping

from haven.accounts.roles import Role
from haven.workflow import Transition, TransitionTable

from . import config
from .models import ComplaintStatus as C
from .models import ForfeitureStatus as F
from .models import HearingStatus as H
from .models import ReviewStatus as R

# No roles (the oversight services decide who acts) and no citation per move yet.
COMPLAINT_TRANSITIONS = TransitionTable.from_moves(
    "complaint",
    {
        C.RECEIVED: (C.LOGGED,),
        C.LOGGED: (C.RECORDED, C.OUTSIDE_SCH3),
        C.RECORDED: (C.IOPC_REFERRED, C.HANDLED),
        C.OUTSIDE_SCH3: (C.HANDLED,),
        C.IOPC_REFERRED: (C.HANDLED,),
        C.HANDLED: (C.OUTCOME_NOTIFIED,),
        C.OUTCOME_NOTIFIED: (C.REVIEW_WINDOW, C.CLOSED),
        C.REVIEW_WINDOW: (C.REVIEW_DETERMINED, C.CLOSED),
        C.REVIEW_DETERMINED: (C.RECOMMENDATION_RESPONSE, C.CLOSED),
        C.RECOMMENDATION_RESPONSE: (C.CLOSED,),
        C.CLOSED: (),
    },
    labels=dict(C.choices),
)


def _chief(source: str, target: str, step: str, *, decision: bool = True) -> Transition:
    """A move of a complaint about the chief officer, where this body is the appropriate
    authority: the decision steps are the body's own (head of oversight), with their citation."""
    rule = config.CHIEF_COMPLAINT_STEPS[step]
    return Transition(
        source,
        target,
        roles=frozenset({Role.OVERSIGHT_HEAD}) if decision else frozenset(),
        citation=rule.citation,
    )


# A complaint about the chief officer (PRA 2002 s.29: the local policing body is the appropriate
# authority): the same states, but each decision is the body's, made by the head of oversight.
CHIEF_COMPLAINT_TRANSITIONS = TransitionTable(
    "complaint about the chief officer",
    [
        _chief(C.RECEIVED, C.LOGGED, "log", decision=False),
        _chief(C.LOGGED, C.RECORDED, "record", decision=False),
        _chief(C.LOGGED, C.OUTSIDE_SCH3, "outside", decision=False),
        _chief(C.RECORDED, C.IOPC_REFERRED, "refer"),
        _chief(C.RECORDED, C.HANDLED, "handle"),
        _chief(C.OUTSIDE_SCH3, C.HANDLED, "handle"),
        _chief(C.IOPC_REFERRED, C.HANDLED, "handle"),
        _chief(C.HANDLED, C.OUTCOME_NOTIFIED, "outcome"),
        _chief(C.OUTCOME_NOTIFIED, C.CLOSED, "close"),
        _chief(C.OUTCOME_NOTIFIED, C.REVIEW_WINDOW, "review"),
        _chief(C.REVIEW_WINDOW, C.REVIEW_DETERMINED, "review"),
        _chief(C.REVIEW_WINDOW, C.CLOSED, "close"),
        _chief(C.REVIEW_DETERMINED, C.RECOMMENDATION_RESPONSE, "review"),
        _chief(C.REVIEW_DETERMINED, C.CLOSED, "close"),
        _chief(C.RECOMMENDATION_RESPONSE, C.CLOSED, "close"),
    ],
    labels=dict(C.choices),
)


def complaint_transitions(against_chief_officer: bool) -> TransitionTable:
    """The table a complaint moves by: the chief-officer table when this body is the
    appropriate authority."""
    return CHIEF_COMPLAINT_TRANSITIONS if against_chief_officer else COMPLAINT_TRANSITIONS


HEARING_TRANSITIONS = TransitionTable.from_moves(
    "misconduct case",
    {
        H.REFERRED: (H.NOTICE,),
        H.NOTICE: (H.RESPONSE_DUE,),
        H.RESPONSE_DUE: (H.HEARING,),
        H.HEARING: (H.OUTCOME,),
        H.OUTCOME: (H.APPEAL_WINDOW,),
        H.APPEAL_WINDOW: (H.PAT, H.FINAL),
        H.PAT: (H.FINAL,),
        H.FINAL: (),
    },
    labels=dict(H.choices),
)

FORFEITURE_TRANSITIONS = TransitionTable.from_moves(
    "forfeiture case",
    {
        F.CONVICTION: (F.PSA_DECISION,),
        # No certificate on the treason and Official Secrets grounds (services checks the ground).
        F.PSA_DECISION: (F.HO_CERTIFICATE, F.FORFEITURE_DECISION),
        F.HO_CERTIFICATE: (F.FORFEITURE_DECISION,),
        F.FORFEITURE_DECISION: (F.APPEAL, F.IMPLEMENTED),
        F.APPEAL: (F.IMPLEMENTED,),
        F.IMPLEMENTED: (),
    },
    labels=dict(F.choices),
)

# A review application (PCMR reg 29-30) is dealt with once: refused out of time or determined.
REVIEW_TRANSITIONS = TransitionTable.from_moves(
    "review application",
    {
        R.RECEIVED: (R.REFUSED_OUT_OF_TIME, R.DETERMINED),
        R.REFUSED_OUT_OF_TIME: (),
        R.DETERMINED: (),
    },
    labels=dict(R.choices),
    refusal=lambda table, source, target: "This application has already been dealt with",
)

# Complaint actions with no data of their own (the rest have their own forms).
SIMPLE_COMPLAINT_ACTIONS: Mapping[str, tuple[str, str]] = {
    "log": (C.LOGGED, "Log the complaint"),
    "record": (C.RECORDED, "Record under Schedule 3"),
    "outside": (C.OUTSIDE_SCH3, "Handle outside Schedule 3"),
    "refer_iopc": (C.IOPC_REFERRED, "Refer to the IOPC"),
    "handled": (C.HANDLED, "Mark as handled"),
    "close": (C.CLOSED, "Close the complaint"),
}
