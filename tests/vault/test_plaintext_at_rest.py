"""No plaintext of an encrypted field is stored by the database."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess

import pytest
from django.db import connection

from tests.vault.probe.models import Probe

NAMES = ["Quillon Vanterpool", "Marisol Oyelaran-Fitch"]
PLACE_LABEL = "Xylophone Cottage"
DOB = datetime.date(1957, 11, 23)
PLAIN_MARKER = "plain-marker-visible"


def make_probes() -> list[Probe]:
    return [
        Probe.objects.create(
            name=name,
            dob=DOB,
            place={"lat": 53.4808, "lon": -2.2426, "label": PLACE_LABEL},
            plain=PLAIN_MARKER,
        )
        for name in NAMES
    ]


def secrets_in(text: str) -> list[str]:
    needles = [*NAMES, *(n.split()[0] for n in NAMES), PLACE_LABEL, DOB.isoformat(), "53.4808"]
    return [needle for needle in needles if needle.lower() in text.lower()]


@pytest.mark.django_db
def test_no_plaintext_in_any_table() -> None:
    make_probes()
    dump: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump.extend(repr(row) for row in cursor.fetchall())
    text = "\n".join(dump)
    assert PLAIN_MARKER in text  # the dump did see the rows
    assert text.count("hv1.") >= 6
    assert secrets_in(text) == []


@pytest.mark.django_db(transaction=True)
def test_no_plaintext_in_pg_dump() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("pg_dump applies to PostgreSQL; the SQLite run checks every table above")
    pg_dump = shutil.which("pg_dump")
    assert pg_dump, "pg_dump is needed to check data at rest on PostgreSQL"
    make_probes()
    settings_dict = connection.settings_dict
    command = [
        pg_dump,
        "--data-only",
        "-h",
        settings_dict["HOST"] or "127.0.0.1",
        "-p",
        str(settings_dict["PORT"] or 5432),
        "-U",
        settings_dict["USER"] or "postgres",
        settings_dict["NAME"],
    ]
    env = {**os.environ, "PGPASSWORD": settings_dict.get("PASSWORD") or ""}
    dump = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    assert PLAIN_MARKER in dump
    assert dump.count("hv1.") >= 6
    assert secrets_in(dump) == []
