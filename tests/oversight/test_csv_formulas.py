"""CSV injection: oversight exports neutralise formula cells."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from haven.oversight import statistics
from tests.factories import force_sign_in
from tests.oversight.helpers import complaint, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

LINK = '=HYPERLINK("http://evil.example","Click")'


def rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_complaint_export_neutralises_a_formula_force_reference():
    user = officer()
    item = complaint(user, force_reference=LINK)
    response = force_sign_in(Client(), user).get("/oversight/complaints/export.csv")
    assert response["Content-Disposition"] == 'attachment; filename="complaints.csv"'
    header, *lines = rows(response.content)
    exported = dict(zip(header, lines[0], strict=True))
    assert exported["reference"] == item.reference
    assert exported["force_reference"] == "'" + LINK


def test_statistics_export_is_still_the_table():
    user = officer()
    complaint(user)
    response = force_sign_in(Client(), user).get("/oversight/statistics/outcomes.csv")
    assert response["Content-Disposition"] == 'attachment; filename="outcomes.csv"'
    expected = [
        [str(cell) for cell in line] for line in statistics.csv_rows(statistics.build("outcomes"))
    ]
    assert rows(response.content) == expected
