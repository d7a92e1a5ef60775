"""The SQLite database file itself (and its write-ahead log) holds no protected plaintext."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.sqlite_subprocess import run_python, settings_test_env

NAME = "Zebedee Plaintextcanary"
ADDRESS = "17 Canary Wharf Lane"
NEW_NAME = "Yolanda Newidentitycanary"

SCRIPT = f"""
from datetime import date
from haven.accounts.roles import Clearance, Role
from haven.accounts.services import create_user
from haven.cases import services
officer = create_user("canary", "a long canary password", [Role.PROTECTION_OFFICER,
    Role.IDENTITY_OFFICER], Clearance.TOP_SECRET)
case = services.create_case(officer, subject_name={NAME!r}, subject_dob=date(1977, 5, 4),
    address={ADDRESS!r})
services.record_identity(officer, case.pk, legacy_name={NAME!r}, new_name={NEW_NAME!r})
"""


@pytest.mark.skipif(
    os.environ.get("HAVEN_DATABASE_URL", "").startswith("postgres"),
    reason="the PostgreSQL run checks a pg_dump instead (tests/vault/test_plaintext_at_rest.py)",
)
def test_sqlite_file_and_wal_hold_no_plaintext(tmp_path: Path, migrated_sqlite_file: Path) -> None:
    database = migrated_sqlite_file
    run_python(settings_test_env(tmp_path, database), "-m", "django", "shell", "-c", SCRIPT)
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("haven.sqlite3*"))
    assert b"hv1." in stored, "expected ciphertext tokens in the file"
    for plaintext in (NAME, ADDRESS, NEW_NAME, "Plaintextcanary", "1977-05-04"):
        assert plaintext.encode() not in stored, f"{plaintext!r} is stored in plaintext"
