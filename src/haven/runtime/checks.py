"""`haven check --deploy`: the scheduler lock must be able to work where Haven is deployed."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.db import DatabaseError, connection

from .lock import lock_file_path


@register("haven", deploy=True)
def check_scheduler_lock(**kwargs: Any) -> list[CheckMessage]:
    if connection.vendor == "postgresql":
        return _check_advisory_lock()
    path = lock_file_path()
    try:
        with path.open("a", encoding="utf-8"):
            pass  # the scheduler opens it the same way
    except OSError as error:
        return [
            Error(
                f"cannot open the scheduler lock file {path} ({error.strerror}): "
                "two schedulers could run the same jobs",
                hint="make HAVEN_DATA_DIR writable by the user running `haven scheduler`",
                id="haven.runtime.E001",
            )
        ]
    return []


def _check_advisory_lock() -> list[CheckMessage]:
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT has_function_privilege('pg_try_advisory_lock(bigint)', 'execute')"
            )
            (allowed,) = cursor.fetchone()
    except DatabaseError as error:
        allowed, reason = False, str(error).strip()
    else:
        reason = "the database user may not call pg_try_advisory_lock"
    if allowed:
        return []
    return [
        Error(
            f"the scheduler's PostgreSQL advisory lock is unavailable ({reason})",
            hint="grant EXECUTE on pg_try_advisory_lock(bigint) to Haven's database user",
            id="haven.runtime.E002",
        )
    ]
