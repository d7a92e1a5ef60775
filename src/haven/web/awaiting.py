"""Home's "Awaiting you": what waits for a person in each module they use. This composes
queues (each domain's selectors decide what the person may see); it gates nothing: the
module gates of the mount points do that."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils import timezone

from haven.accounts.models import User
from haven.accounts.roles import Module


@dataclass(frozen=True)
class Waiting:
    """One line of Home's "Awaiting you": how many, how many overdue, where the list is."""

    label: str
    count: int
    url: str
    overdue: int = 0  # shown in red: late, or (alerts) waiting for a person now
    overdue_word: str = "overdue"


def _swaps(user: User, group_code: str, rotas: str) -> Waiting:
    """Shift swaps a colleague asked this person to cover, on the group's rotas."""
    from haven.rota import selectors as rota
    from haven.rota.staff import GROUPS

    pending = rota.pending_swaps_for(user, GROUPS[group_code]).count()
    return Waiting("Shift swaps to answer", pending, reverse(rotas))


def _psych_overdue(user: User, group_code: str, dashboard: str) -> list[Waiting]:
    """For a supervisor of the staff group: the group's people whose psychological assessment
    is overdue (a read of health data: the rota selector ledgers it)."""
    from haven.rota import selectors as rota
    from haven.rota.staff import GROUPS

    group = GROUPS[group_code]
    if not group.supervises(user):
        return []
    overdue = len(rota.overdue_psych_assessments(user, group))
    return [Waiting("Psychological assessments overdue", overdue, reverse(dashboard), overdue)]


def awaiting_you(user: User) -> list[Waiting]:
    """What waits for this person in each module they use: counts only; each line links to
    the list that shows the items. Only the overdue psychological assessments read a protected
    field (a health date), through the rota selector that ledgers it."""
    lines: list[Waiting] = []
    if user.can_use(Module.PROTECTION):
        from haven.cases import selectors as cases
        from haven.risk import selectors as risk

        work = cases.work_counts(user)
        my_work = reverse("cases:my_work")
        lines += [
            Waiting("Decisions awaiting you", work.decisions, my_work),
            Waiting(
                "Risk assessments to approve or endorse",
                risk.assessments_awaiting_query(user).count(),
                my_work,
            ),
            Waiting("Tasks, reviews and escalations", work.tasks, my_work, work.overdue_tasks),
        ]
        lines.append(_swaps(user, "protection", "protection_rota:home"))
        lines += _psych_overdue(user, "protection", "welfare:dashboard")
    if user.can_use(Module.OPERATIONS):
        from haven.telemetry import selectors as telemetry

        alerts = telemetry.alerts_awaiting(user)
        lines += [
            Waiting(
                "Alerts to acknowledge",
                len(alerts),
                reverse("telemetry:home"),
                len(alerts),
                "unacknowledged",
            ),
            _swaps(user, "operations", "rota:home"),
        ]
        lines += _psych_overdue(user, "operations", "rota:welfare")
    if user.can_use(Module.OVERSIGHT):
        from haven.oversight import selectors as oversight

        due = oversight.deadlines_due(user, oversight.awaiting_horizon())
        my_work = reverse("oversight:my_work")
        actions = oversight.my_actions(user)
        today = timezone.localdate()
        lines += [
            Waiting(
                "My complaints",
                oversight.my_complaints(user).count() + oversight.my_reviews(user).count(),
                my_work,
            ),
            Waiting(
                "Governance actions you own",
                actions.count(),
                my_work,
                actions.filter(due_on__lt=today).count(),
            ),
            Waiting(
                "Statutory deadlines due soon",
                len(due),
                reverse("oversight:home"),
                sum(1 for item in due if item.overdue),
            ),
            Waiting(
                "Review applications to determine",
                oversight.open_reviews(user).count(),
                reverse("oversight:home"),
            ),
        ]
    if user.can_use(Module.ADMINISTRATION):
        from haven.accounts import selectors as accounts

        review = int(accounts.access_review_due())
        lines.append(
            Waiting(
                "Access review to confirm", review, reverse("administration:access_review"), review
            )
        )
    return lines
