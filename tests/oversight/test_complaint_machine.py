"""The complaint workflow as a state machine (hypothesis): random sequences of the workflow's
actions (log, record, refer, handle, outcome, review application, extension, refusal out of
time, determination, force response, update, close) on three kinds of complaint, checked against
a small model of oversight/services.py and of the statutory workflow.

After every step: an action is accepted exactly when the model allows it; a refused one changes
nothing; an accepted one writes one ledger entry; the history is append-only and each of its
moves is an allowed transition ending at the complaint's status; review deadlines are 28 days
from the outcome notice plus forwarding and extension days, and "in time" agrees with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from haven.accounts.models import User
from haven.audit.models import LedgerEntry
from haven.oversight import services, workflow
from haven.oversight.models import (
    ComplainantUpdate,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    ReviewApplication,
    ReviewBody,
    ReviewStatus,
)
from tests.db import scaffolding_block
from tests.oversight.helpers import complaint, officer

pytestmark = pytest.mark.django_db

C = ComplaintStatus
TODAY = date(2025, 6, 2)  # the `clock` fixture's date
ACTED_ON = TODAY - timedelta(days=60)  # when simple actions are dated
REVIEW_DAYS = 28  # PCMR reg 29(2): 28 days starting with the day after the outcome notice
KINDS = ("plain", "reg4", "outside")
# The workflow as the rules state it (uk-domain-rules.md section 8), written out here rather
# than read from workflow.py, so that a wrong edit there fails this test.
TRANSITIONS = {
    C.RECEIVED: {C.LOGGED},
    C.LOGGED: {C.RECORDED, C.OUTSIDE_SCH3},
    C.RECORDED: {C.IOPC_REFERRED, C.HANDLED},
    C.OUTSIDE_SCH3: {C.HANDLED},
    C.IOPC_REFERRED: {C.HANDLED},
    C.HANDLED: {C.OUTCOME_NOTIFIED},
    C.OUTCOME_NOTIFIED: {C.REVIEW_WINDOW, C.CLOSED},
    C.REVIEW_WINDOW: {C.REVIEW_DETERMINED, C.CLOSED},
    C.REVIEW_DETERMINED: {C.RECOMMENDATION_RESPONSE, C.CLOSED},
    C.RECOMMENDATION_RESPONSE: {C.CLOSED},
    C.CLOSED: set(),
}
# Outcome notices: on the day handled, later, today, tomorrow (refused) and before handling.
NOTICES = (0, 20, 50, 60, 61, -2)  # days after ACTED_ON
APPLIED = (0, 35, 35, 200)  # days after the notice: in time, late, in the future
# "next" is the step the workflow expects from the complaint's status (so that examples get
# deep into reviews); the rest try every action whatever the status.
ACTIONS = st.sampled_from(
    (*workflow.SIMPLE_COMPLAINT_ACTIONS, "outcome", "apply", "extend", "refuse", "determine")
    + ("respond", "update", *["next"] * 8)
)
NEXT = {
    C.RECORDED: ("handled", "refer_iopc"),
    C.OUTSIDE_SCH3: ("handled",),
    C.IOPC_REFERRED: ("handled",),
    C.HANDLED: ("outcome",),
    C.OUTCOME_NOTIFIED: ("apply", "apply", "close"),
    C.REVIEW_WINDOW: ("extend", "determine", "refuse", "close"),
    C.REVIEW_DETERMINED: ("respond", "close"),
    C.RECOMMENDATION_RESPONSE: ("close",),
    C.CLOSED: ("update",),
}


@dataclass
class Model:
    pk: Any
    reg4: bool
    iopc_reviews: bool
    status: str
    handled_on: date | None = None
    notice_on: date | None = None
    review: Any = None  # pk of the review application
    review_status: str | None = None
    received_on: date | None = None
    due_on: date | None = None
    recommendations: bool = False
    responded: bool = False


def build_world() -> tuple[User, dict[str, Complaint]]:
    user = officer()
    return user, {
        "plain": complaint(user),
        "reg4": complaint(user, reg4_criteria=["serious_assault"]),  # the IOPC reviews it
        "outside": complaint(user, schedule3=False),
    }


class ComplaintMachine(RuleBasedStateMachine):
    user: User  # set by the test
    complaints: dict[str, Complaint]

    def __init__(self) -> None:
        super().__init__()
        self.block = scaffolding_block()
        self.block.__enter__()  # every example starts from the world and is rolled back
        self.model = {
            name: Model(
                pk=c.pk,
                reg4=bool(c.reg4_criteria),
                iopc_reviews=c.review_body == ReviewBody.IOPC,
                status=c.status,
            )
            for name, c in self.complaints.items()
        }
        self.history = {name: self.events(m) for name, m in self.model.items()}

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.block.__exit__(None, None, None)

    def events(self, model: Model) -> list[tuple[Any, ...]]:
        return list(
            ComplaintEvent.objects.filter(complaint_id=model.pk)
            .order_by("at", "pk")
            .values_list("pk", "from_status", "to_status")
        )

    def snapshot(self) -> tuple[Any, ...]:
        return (
            [model_to_dict(c) for c in Complaint.objects.order_by("pk")],
            list(ComplaintEvent.objects.order_by("pk").values_list("pk", "to_status")),
            [model_to_dict(r) for r in ReviewApplication.objects.order_by("pk")],
            ComplainantUpdate.objects.count(),
            LedgerEntry.objects.count(),
        )

    def attempt(self, allowed: bool, action: Any) -> Any:
        before = self.snapshot()
        try:
            result = action()
        except ValidationError as refusal:
            assert not allowed, f"refused, but the rules allow it: {refusal}"
            assert self.snapshot() == before, "a refused action changed something"
            return None
        assert allowed, "accepted, but the rules refuse it"
        assert LedgerEntry.objects.count() == before[-1] + 1, "one ledger entry per action"
        return result

    def may_close(self, m: Model) -> bool:
        if m.status == C.OUTCOME_NOTIFIED:
            assert m.notice_on is not None
            return TODAY > m.notice_on + timedelta(days=REVIEW_DAYS)
        if m.status == C.REVIEW_WINDOW:
            return m.review_status != ReviewStatus.RECEIVED
        if m.status == C.REVIEW_DETERMINED:
            return not (m.recommendations and not m.responded)
        return True

    @rule(
        which=st.sampled_from(KINDS),
        action=ACTIONS,
        notice=st.sampled_from(NOTICES),
        applied=st.sampled_from(APPLIED),
        days=st.sampled_from((0, 10, 10)),
        reason=st.sampled_from(("Applicant in hospital", "Applicant in hospital", "")),
        reasonable=st.booleans(),
        recommendations=st.sampled_from(("Retrain the officer", "")),
        pick=st.integers(0, 3),
    )
    def step(
        self,
        which: str,
        action: str,
        pick: int,
        notice: int,
        applied: int,
        days: int,
        reason: str,
        reasonable: bool,
        recommendations: str,
    ) -> None:
        m, user = self.model[which], self.user
        if action == "next":
            choices = NEXT.get(m.status, ("log",))
            action = choices[pick % len(choices)]
        received = m.review_status == ReviewStatus.RECEIVED
        if action in ("extend", "refuse", "determine", "respond") and m.review is None:
            return  # nothing to act on (the services look the application up by its id)
        if action in workflow.SIMPLE_COMPLAINT_ACTIONS:
            target = workflow.SIMPLE_COMPLAINT_ACTIONS[action][0]
            allowed = (
                target in TRANSITIONS[m.status]
                and not (target == C.HANDLED and m.reg4 and m.status == C.RECORDED)
                and (target != C.CLOSED or self.may_close(m))
            )
            if self.attempt(
                allowed, lambda: services.act_on_complaint(user, m.pk, action, on=ACTED_ON)
            ):
                m.status = target
                if target == C.HANDLED:
                    m.handled_on = ACTED_ON
        elif action == "outcome":
            on = ACTED_ON + timedelta(days=notice)
            allowed = m.status == C.HANDLED and m.handled_on is not None
            allowed = allowed and on <= TODAY and on >= (m.handled_on or on)
            if self.attempt(
                allowed,
                lambda: services.record_outcome(
                    user, m.pk, outcome="service_acceptable", notice_on=on
                ),
            ):
                m.status, m.notice_on = C.OUTCOME_NOTIFIED, on
        elif action == "apply":
            on = (m.notice_on or TODAY) + timedelta(days=applied)
            allowed = not m.iopc_reviews and m.status == C.OUTCOME_NOTIFIED and on <= TODAY
            review = self.attempt(
                allowed, lambda: services.record_review_application(user, m.pk, received_on=on)
            )
            if review:
                assert m.notice_on is not None
                m.status, m.review, m.review_status = C.REVIEW_WINDOW, review.pk, review.status
                m.received_on, m.due_on = on, m.notice_on + timedelta(days=REVIEW_DAYS)
        elif action == "extend":
            allowed = received and days >= 1 and bool(reason)
            if self.attempt(
                allowed,
                lambda: services.extend_review(user, m.review, extension_days=days, reason=reason),
            ):
                assert m.notice_on is not None
                m.due_on = m.notice_on + timedelta(days=REVIEW_DAYS + days)
        elif action == "refuse":
            in_time = received and m.received_on is not None and m.due_on is not None
            in_time = in_time and m.received_on <= m.due_on  # type: ignore[operator]
            allowed = received and not in_time
            if self.attempt(allowed, lambda: services.refuse_review_out_of_time(user, m.review)):
                m.status, m.review_status = C.CLOSED, ReviewStatus.REFUSED_OUT_OF_TIME
        elif action == "determine":
            in_time = received and m.received_on <= m.due_on  # type: ignore[operator]
            allowed = received and in_time and (reasonable or bool(recommendations))
            if self.attempt(
                allowed,
                lambda: services.determine_review(
                    user,
                    m.review,
                    determined_on=TODAY,
                    reasonable_and_proportionate=reasonable,
                    recommendations=recommendations,
                ),
            ):
                m.status, m.review_status = C.REVIEW_DETERMINED, ReviewStatus.DETERMINED
                m.recommendations = bool(recommendations)
        elif action == "respond":
            allowed = (
                m.review_status == ReviewStatus.DETERMINED and m.recommendations and not m.responded
            )
            if self.attempt(
                allowed,
                lambda: services.record_force_response(
                    user, m.review, response="Accepted", response_on=TODAY
                ),
            ):
                m.status, m.responded = C.RECOMMENDATION_RESPONSE, True
        else:
            allowed = m.status != C.CLOSED
            self.attempt(
                allowed, lambda: services.record_update(user, m.pk, sent_on=TODAY, method="letter")
            )

    @invariant()
    def status_and_history_agree_with_the_rules(self) -> None:
        for name, m in self.model.items():
            row = Complaint.objects.get(pk=m.pk)
            assert row.status == m.status, name
            events = self.events(m)
            assert events[: len(self.history[name])] == self.history[name], "history rewritten"
            self.history[name] = events
            assert events[0][1:] == ("", C.RECEIVED), name
            for (_, _, previous), (_, source, target) in zip(events, events[1:], strict=False):
                assert source == previous, f"{name}: history skips from {previous} to {source}"
                assert target in TRANSITIONS[source], (name, source, target)
            assert events[-1][2] == row.status, name
            assert (row.closed_on is not None) == (row.status == C.CLOSED), name
            assert row.outcome_notice_on == m.notice_on, name

    @invariant()
    def review_deadlines_are_consistent(self) -> None:
        for review in ReviewApplication.objects.select_related("complaint"):
            notice = review.complaint.outcome_notice_on
            assert notice is not None
            extra = review.forwarded_days + review.extension_days
            assert review.due_on == notice + timedelta(days=REVIEW_DAYS + extra)
            assert review.in_time == (review.received_on <= review.due_on)
            assert not review.extension_days or review.extension_reason
            if review.status == ReviewStatus.RECEIVED:
                assert review.complaint.status == C.REVIEW_WINDOW


def test_complaints_follow_their_workflow_whatever_the_order_of_actions(clock: Any) -> None:
    user, complaints = build_world()
    machine = type("Complaints", (ComplaintMachine,), {"user": user, "complaints": complaints})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=15,
            stateful_step_count=30,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
