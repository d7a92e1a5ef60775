"""Every model change ships with its migration: a model edited without `makemigrations` would
pass a suite whose test database is built from the same models' migrations."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration() -> None:
    output = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=output)
    except SystemExit as exited:  # --check exits 1 when a migration would be written
        pytest.fail(
            f"models changed without a migration (exit {exited.code}):\n{output.getvalue()}"
        )
