"""CSV injection: oversight exports neutralise formula cells; imports refuse them."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from haven.oversight import imports, statistics
from haven.oversight.models import Complaint
from tests.factories import force_sign_in
from tests.oversight.helpers import complaint, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

LINK = '=HYPERLINK("http://x.example","Go")'  # fits force_reference (40)
HEADER = (
    "force_reference,received_on,category,schedule3,against_chief_officer,reg4_criteria,"
    "complainant_name,complainant_contact,narrative\n"
)


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


def test_import_refuses_formula_cells_per_row_and_field_and_imports_nothing():
    text = (
        HEADER
        + "F-1,2025-01-06,individual_behaviours,yes,no,,Ann Fictional,,fine\n"
        + f'"{LINK.replace(chr(34), chr(34) * 2)}",2025-01-06,use_of_force,yes,no,,'
        + "Bo Fictional,,ok\n"
        + "F-3,2025-01-06,use_of_force,yes,no,,@SUM(A1),+cmd|' /C calc'!A0,ok\n"
    )
    report = imports.run(officer(), "complaints", text)
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "force_reference"),
        (4, "complainant_name"),
        (4, "complainant_contact"),
    ]
    assert "'='" in report.errors[0].reason and "formula" in report.errors[0].reason
    assert report.imported == 0 and not Complaint.objects.exists()


def test_import_accepts_negative_numbers_and_telephone_numbers():
    text = (
        HEADER + "-1205,2025-01-06,individual_behaviours,yes,no,,Ann Fictional,"
        "+44 (0)20 7946 0000,-3\n"
    )
    report = imports.run(officer(), "complaints", text)
    assert report.ok and report.imported == 1
    stored = Complaint.objects.get()
    assert stored.force_reference == "-1205" and stored.complainant_contact == "+44 (0)20 7946 0000"


def test_web_import_shows_the_formula_refusal():
    text = (HEADER + "=1+1,2025-01-06,individual_behaviours,yes,no,,Ann Fictional,,x\n").encode()
    response = force_sign_in(Client(), officer()).post(
        "/oversight/import/",
        {"kind": "complaints", "dry_run": "no", "file": SimpleUploadedFile("c.csv", text)},
    )
    body = response.content.decode()
    assert "Nothing imported" in body and "reads as a formula" in body
    assert not Complaint.objects.exists()
