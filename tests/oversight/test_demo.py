from __future__ import annotations

import pytest

from haven.oversight import statistics
from haven.oversight.demo import create_demo_oversight
from haven.oversight.models import Complaint, MisconductHearing, WorkforceRecord

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def test_demo_data_is_created_and_every_table_builds():
    assert create_demo_oversight(25) == 25
    assert Complaint.objects.count() == 25
    assert WorkforceRecord.objects.count() == 400
    assert MisconductHearing.objects.count() == 2
    for code in statistics.TABLES:
        assert statistics.build(code).table.rows
