from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from haven.audit.models import Action, LedgerEntry
from haven.oversight import imports, statistics
from haven.oversight.models import Complaint, WorkforceRecord
from tests.oversight.helpers import complaint, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

NINE = (
    "age_band,disability,gender_reassignment,marriage_civil_partnership,pregnancy_maternity,"
    "race,religion_belief,sex,sexual_orientation"
)
WORKFORCE_HEADER = f"staff_number,snapshot_on,force,grade,{NINE}\n"


def workforce_csv(rows: list[tuple[str, str, str]]) -> str:
    """(staff number, grade, sex) rows; other characteristics not stated."""
    lines = [WORKFORCE_HEADER]
    for staff, grade, sex in rows:
        lines.append(
            f"{staff},2025-03-31,Fictional Constabulary,{grade},25_34,no,no,married,no,white,"
            f"none,{sex},heterosexual\n"
        )
    return "".join(lines)


def test_workforce_import_pseudonymises_and_table_is_suppressed():
    rows = [(f"F{i}", "constable", "female") for i in range(12)]
    rows += [(f"M{i}", "constable", "male") for i in range(15)]
    rows += [("S1", "sergeant", "female"), ("S2", "sergeant", "male"), ("S3", "sergeant", "male")]
    report = imports.run(officer(), "workforce", workforce_csv(rows))
    assert report.ok and report.imported == 30
    assert not WorkforceRecord.objects.filter(pseudonym__in=["F1", "S1"]).exists()
    stat = statistics.build("workforce-sex")
    t = stat.table
    assert t.cells["Female"]["Sergeant"] is None and t.cells["Male"]["Sergeant"] is None
    assert t.column_totals["Sergeant"] is None  # 3 in total: primary
    # secondary: the female/male rows must not give the sergeant cells away by subtraction
    assert t.row_totals["Female"] is None or t.cells["Female"]["Constable"] is None
    assert t.grand_total == 30 or t.grand_total is None
    assert t.cells["Female"]["Constable"] in (12, None)


def test_threshold_can_only_be_raised():
    complaint(officer())
    assert statistics.build("outcomes", threshold=2).table.threshold == 5
    assert statistics.build("outcomes", threshold=10).table.threshold == 10


def test_statistics_never_read_encrypted_columns():
    user = officer()
    complaint(user)
    with CaptureQueriesContext(connection) as queries:
        for code in statistics.TABLES:
            statistics.build(code)
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    for column in ("complainant_name", "complainant_contact", "narrative", "recommendations"):
        assert column not in sql


def test_export_is_a_disclosure_entry():
    user = officer()
    statistics.export(user, "timeliness", "csv")
    entry = LedgerEntry.objects.get(action=Action.DISCLOSURE)
    assert entry.object_id == "timeliness" and entry.recipients


def test_csv_rows_show_the_suppression_mark():
    user = officer()
    complaint(user)
    lines = statistics.csv_rows(statistics.build("outcomes"))
    assert lines[0][0] == "Category" and lines[-1][0].startswith("[c] = suppressed")
    assert any("[c]" in line for line in lines[1:-1])


BAD_COMPLAINTS = (
    "force_reference,received_on,category,schedule3,against_chief_officer,reg4_criteria,"
    "complainant_name,complainant_contact,narrative\n"
    "F-1,2025-01-06,individual_behaviours,yes,no,,Ann Fictional,,ok\n"
    "F-2,2025-02-30,individual_behaviours,yes,no,,Bo Fictional,,bad date\n"
    "F-3,2025-01-06,shouting,yes,no,,Cy Fictional,,bad category\n"
    "F-4,2025-01-06,use_of_force,no,no,serious_assault,Di Fictional,,not recorded\n"
    "F-5,2025-01-06,use_of_force,yes,maybe,,Ed Fictional,,bad bool\n"
    "F-6,2025-01-06,use_of_force,yes,no,,,,no name\n"
)


def test_bad_complaint_rows_are_all_reported_and_nothing_imported():
    report = imports.run(officer(), "complaints", BAD_COMPLAINTS)
    assert [(e.line, e.field) for e in report.errors] == [
        (3, "received_on"),
        (4, "category"),
        (5, "schedule3"),
        (6, "against_chief_officer"),
        (7, "complainant_name"),
    ]
    assert not Complaint.objects.exists()


def test_missing_columns_and_duplicates_are_reported():
    report, _ = imports.check("workforce", "staff_number,snapshot_on\n1,2025-01-01\n")
    assert report.errors[0].line == 1 and "missing columns" in report.errors[0].reason
    report = imports.run(officer(), "workforce", workforce_csv([("A1", "constable", "male")] * 2))
    assert [(e.line, e.field) for e in report.errors] == [(3, "staff_number")]
    assert not WorkforceRecord.objects.exists()


def test_dry_run_imports_nothing_then_real_run_imports():
    good = BAD_COMPLAINTS.splitlines()[0:2]
    text = "\n".join(good) + "\n"
    assert imports.run(officer(), "complaints", text, dry_run=True).ok
    assert not Complaint.objects.exists()
    assert imports.run(officer(), "complaints", text).imported == 1
    assert Complaint.objects.get().force_reference == "F-1"


def test_command_reports_line_field_reason_and_fails(tmp_path):
    path = tmp_path / "complaints.csv"
    path.write_text(BAD_COMPLAINTS)
    out = StringIO()
    with pytest.raises(CommandError, match="nothing imported"):
        call_command("oversight", "import", "complaints", str(path), stdout=out)
    assert "received_on" in out.getvalue() and "not a real date" in out.getvalue()
    assert not Complaint.objects.exists()
    good = tmp_path / "good.csv"
    good.write_text("\n".join(BAD_COMPLAINTS.splitlines()[0:2]) + "\n")
    out = StringIO()
    call_command("oversight", "import", "complaints", str(good), "--dry-run", stdout=out)
    assert "Dry run" in out.getvalue() and not Complaint.objects.exists()
    call_command("oversight", "import", "complaints", str(good), stdout=StringIO())
    assert Complaint.objects.get().received_on == date(2025, 1, 6)
