"""State machines (uk-domain-rules.md §8). A transition not listed here is refused."""

from __future__ import annotations

from collections.abc import Mapping

from haven.accounts.roles import Role
from haven.workflow import Transition, TransitionTable

from . import config
from .models import ComplaintStatus as C
from .models import ComplaintSubject
from .models import ForfeitureStatus as F
from .models import HearingStatus as H
from .models import ReviewStatus as R

DECIDES = frozenset({Role.OVERSIGHT_HEAD})  # the body's own decisions
ANY_STAFF: frozenset[str] = frozenset()  # any oversight officer (the module gate decides)


def _step(
    steps: Mapping[str, config.StepRule],
    source: str,
    target: str,
    step: str,
    roles: frozenset[str] = ANY_STAFF,
) -> Transition:
    """One move with the citation of its step (marked when unconfirmed)."""
    return Transition(source, target, roles=roles, citation=steps[step].cited)


def _ordinary(source: str, target: str, step: str) -> Transition:
    return _step(config.COMPLAINT_STEPS, source, target, step)


# An ordinary complaint: the force is the appropriate authority and makes the decisions; this
# body keeps the record, so no move is reserved to a role here.
COMPLAINT_TRANSITIONS = TransitionTable(
    "complaint",
    [
        _ordinary(C.RECEIVED, C.LOGGED, "log"),
        _ordinary(C.LOGGED, C.RECORDED, "record"),
        _ordinary(C.LOGGED, C.OUTSIDE_SCH3, "outside"),
        _ordinary(C.RECORDED, C.IOPC_REFERRED, "refer"),
        _ordinary(C.RECORDED, C.HANDLED, "handle"),
        _ordinary(C.OUTSIDE_SCH3, C.HANDLED, "handle"),
        _ordinary(C.IOPC_REFERRED, C.HANDLED, "referred_back"),
        _ordinary(C.HANDLED, C.OUTCOME_NOTIFIED, "outcome"),
        _ordinary(C.OUTCOME_NOTIFIED, C.REVIEW_WINDOW, "review"),
        _ordinary(C.OUTCOME_NOTIFIED, C.CLOSED, "close_unreviewed"),
        _ordinary(C.REVIEW_WINDOW, C.REVIEW_DETERMINED, "determine"),
        _ordinary(C.REVIEW_WINDOW, C.CLOSED, "close"),
        _ordinary(C.REVIEW_DETERMINED, C.RECOMMENDATION_RESPONSE, "response"),
        _ordinary(C.REVIEW_DETERMINED, C.CLOSED, "close"),
        _ordinary(C.RECOMMENDATION_RESPONSE, C.CLOSED, "close"),
    ],
    labels=dict(C.choices),
)


def _chief(source: str, target: str, step: str, *, decision: bool = True) -> Transition:
    """A move of a complaint about the chief officer, where this body is the appropriate
    authority: the decision steps are the body's own (head of oversight), with their citation."""
    return _step(
        config.CHIEF_COMPLAINT_STEPS, source, target, step, DECIDES if decision else ANY_STAFF
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


# A complaint about the Commissioner (ELPB Regs 2012): the police and crime panel handles it.
# Under the panel's delegation this office decides whether to record it and whether it goes to
# the IOPC (head of oversight); forwarding, recording the panel's outcome (the panel decides
# it, the office only records it), telling the complainant and closing are any officer's.
# (source, target, step, who may take it, the fields the step needs beside its date)
_COMMISSIONER_MOVES: tuple[tuple[str, str, str, frozenset[str], tuple[str, ...]], ...] = (
    (C.RECEIVED, C.LOGGED, "log", ANY_STAFF, ()),
    (C.LOGGED, C.RECORDED, "record", DECIDES, ()),
    (C.LOGGED, C.NOT_RECORDED, "not_record", DECIDES, ("grounds",)),
    (C.NOT_RECORDED, C.OUTCOME_NOTIFIED, "tell_not_recorded", ANY_STAFF, ()),
    (C.RECORDED, C.IOPC_REFERRED, "refer", DECIDES, ()),
    (C.RECORDED, C.PANEL_FORWARDED, "forward", ANY_STAFF, ("panel_reference",)),
    (C.IOPC_REFERRED, C.PANEL_FORWARDED, "referred_back", ANY_STAFF, ("panel_reference",)),
    (C.PANEL_FORWARDED, C.PANEL_OUTCOME, "panel_outcome", ANY_STAFF, ("panel_outcome",)),
    (C.PANEL_OUTCOME, C.OUTCOME_NOTIFIED, "notify", ANY_STAFF, ()),
    (C.OUTCOME_NOTIFIED, C.CLOSED, "close", ANY_STAFF, ()),
)
COMMISSIONER_COMPLAINT_TRANSITIONS = TransitionTable(
    "complaint about the Commissioner",
    [
        Transition(
            source,
            target,
            roles=roles,
            citation=config.COMMISSIONER_COMPLAINT_STEPS[step].cited,
            required_fields=fields,
        )
        for source, target, step, roles, fields in _COMMISSIONER_MOVES
    ],
    labels=dict(C.choices),
    field_messages={
        "grounds": "Give the grounds for not recording it (the complainant is told them)",
        "panel_reference": "Enter the panel's reference",
        "panel_outcome": "Choose the outcome the panel reported",
    },
)
# The step each move of a complaint about the Commissioner is (the page offers steps by name).
COMMISSIONER_STEP_OF: Mapping[tuple[str, str], str] = {
    (source, target): step for source, target, step, _, _ in _COMMISSIONER_MOVES
}


def commissioner_step_target(status: str, step: str) -> str | None:
    """Where `step` takes a complaint about the Commissioner now in `status` (None: it cannot
    be taken from there)."""
    return next(
        (
            target
            for (source, target), name in COMMISSIONER_STEP_OF.items()
            if source == status and name == step
        ),
        None,
    )


COMPLAINT_TABLES: Mapping[str, TransitionTable] = {
    ComplaintSubject.OFFICER: COMPLAINT_TRANSITIONS,
    ComplaintSubject.CHIEF_OFFICER: CHIEF_COMPLAINT_TRANSITIONS,
    ComplaintSubject.COMMISSIONER: COMMISSIONER_COMPLAINT_TRANSITIONS,
}


def complaint_transitions(subject: str) -> TransitionTable:
    """The table a complaint moves by, from whom it is about (`Complaint.subject`)."""
    return COMPLAINT_TABLES[subject]


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
