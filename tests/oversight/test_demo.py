from __future__ import annotations

import pytest

from haven.oversight import performance, statistics
from haven.oversight.demo import create_demo_oversight
from haven.oversight.models import Complaint, GovernanceMeeting, MisconductHearing

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
