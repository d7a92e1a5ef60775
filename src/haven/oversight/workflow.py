"""State machines (uk-domain-rules.md §8). A transition not listed here is refused."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError

from .models import ComplaintStatus as C
from .models import ForfeitureStatus as F
from .models import HearingStatus as H

COMPLAINT_TRANSITIONS: Mapping[str, frozenset[str]] = {
    C.RECEIVED: frozenset({C.LOGGED}),
    C.LOGGED: frozenset({C.RECORDED, C.OUTSIDE_SCH3}),
    C.RECORDED: frozenset({C.IOPC_REFERRED, C.HANDLED}),
    C.OUTSIDE_SCH3: frozenset({C.HANDLED}),
    C.IOPC_REFERRED: frozenset({C.HANDLED}),
    C.HANDLED: frozenset({C.OUTCOME_NOTIFIED}),
    C.OUTCOME_NOTIFIED: frozenset({C.REVIEW_WINDOW, C.CLOSED}),
    C.REVIEW_WINDOW: frozenset({C.REVIEW_DETERMINED, C.CLOSED}),
    C.REVIEW_DETERMINED: frozenset({C.RECOMMENDATION_RESPONSE, C.CLOSED}),
    C.RECOMMENDATION_RESPONSE: frozenset({C.CLOSED}),
    C.CLOSED: frozenset(),
}

HEARING_TRANSITIONS: Mapping[str, frozenset[str]] = {
    H.REFERRED: frozenset({H.NOTICE}),
    H.NOTICE: frozenset({H.RESPONSE_DUE}),
    H.RESPONSE_DUE: frozenset({H.HEARING}),
    H.HEARING: frozenset({H.OUTCOME}),
    H.OUTCOME: frozenset({H.APPEAL_WINDOW}),
    H.APPEAL_WINDOW: frozenset({H.PAT, H.FINAL}),
    H.PAT: frozenset({H.FINAL}),
    H.FINAL: frozenset(),
}

FORFEITURE_TRANSITIONS: Mapping[str, frozenset[str]] = {
    F.CONVICTION: frozenset({F.PSA_DECISION}),
    F.PSA_DECISION: frozenset({F.HO_CERTIFICATE}),
    F.HO_CERTIFICATE: frozenset({F.FORFEITURE_DECISION}),
    F.FORFEITURE_DECISION: frozenset({F.APPEAL, F.IMPLEMENTED}),
    F.APPEAL: frozenset({F.IMPLEMENTED}),
    F.IMPLEMENTED: frozenset(),
}

# Complaint actions with no data of their own (the rest have their own forms).
SIMPLE_COMPLAINT_ACTIONS: Mapping[str, tuple[str, str]] = {
    "log": (C.LOGGED, "Log the complaint"),
    "record": (C.RECORDED, "Record under Schedule 3"),
    "outside": (C.OUTSIDE_SCH3, "Handle outside Schedule 3"),
    "refer_iopc": (C.IOPC_REFERRED, "Refer to the IOPC"),
    "handled": (C.HANDLED, "Mark as handled"),
    "close": (C.CLOSED, "Close the complaint"),
}


def check(transitions: Mapping[str, frozenset[str]], current: str, target: str, what: str) -> None:
    if target not in transitions.get(current, frozenset()):
        raise ValidationError(
            f"A {what} cannot move from '{_label(current)}' to '{_label(target)}'",
            code="illegal_transition",
        )


def _label(status: str) -> str:
    for choices in (C, H, F):
        if status in choices.values:
            return str(choices(status).label)
    return status
