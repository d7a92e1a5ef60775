"""State machines (uk-domain-rules.md §8). A transition not listed here is refused."""

from __future__ import annotations

from collections.abc import Mapping

from haven.workflow import TransitionTable

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
