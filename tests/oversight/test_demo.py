from __future__ import annotations

import pytest

from haven.audit.models import Action, LedgerEntry
from haven.oversight import performance, statistics
from haven.oversight.demo import create_demo_oversight
from haven.oversight.models import (
    HEARING,
    Complaint,
    GovernanceMeeting,
    HearingStatus,
    MisconductHearing,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def test_demo_data_is_created_and_every_table_builds():
    assert create_demo_oversight(25) == 25
    assert Complaint.objects.filter(narrative__isnull=False).count() >= 25
    assert MisconductHearing.objects.count() > 2
    for code in statistics.TABLES:
        assert statistics.build(code).table.rows


def test_demo_gives_the_performance_view_a_year_of_figures_with_trends():
    """Issue 21's done-criterion: four quarter-on-quarter changes show, not suppressed."""
    create_demo_oversight(5)
    assert GovernanceMeeting.objects.count() == performance.QUARTERS_SHOWN
    report = performance.build()
    for code in (
        "complaints_received",
        "misconduct_referred",
        "tribunal_appeals",
        "forfeiture_convictions",
        "headcount",
    ):
        row = next(r for r in report.rows if r.measure.code == code)
        assert "[c]" not in row.cells, (code, row.cells)
        assert all(change and change != "[c]" for change in row.trends[1:]), (code, row.trends)


def test_demo_misconduct_outcomes_go_through_the_services():
    """Each demo outcome is reached as in real use: notice (which keys the panel model), a
    panel drawn from the register, the hearing, the outcome; each stage ledgered."""
    create_demo_oversight(5)
    decided = MisconductHearing.objects.filter(outcome_on__isnull=False)
    assert decided.exists()
    for hearing in decided:
        assert hearing.status == HearingStatus.OUTCOME
        assert hearing.notice_on is not None and hearing.hearing_on == hearing.outcome_on
        assert hearing.appointments.filter(member__isnull=False).exists()
        stages = LedgerEntry.objects.filter(
            object_type=HEARING, object_id=str(hearing.pk), action=Action.ALTERATION
        )
        assert stages.count() == 5  # notice, response due, panel, hearing, outcome
    report = performance.build()
    row = next(r for r in report.rows if r.measure.code == "misconduct_outcomes")
    # Outcomes trail referrals by 20-60 days: the first and the current quarter stay small.
    assert sum(1 for cell in row.cells if cell not in ("0", "[c]")) >= 2, row.cells
