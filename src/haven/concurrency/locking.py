"""Optimistic locking: a write names the version it read, and loses if someone saved since."""

from __future__ import annotations

from typing import Any

from django.db.models import F


class ConflictError(Exception):
    """Someone else saved the record after it was read (optimistic locking), or took it first."""


def conflict(what: str) -> ConflictError:
    return ConflictError(f"This {what} was changed by someone else. Reload it and try again.")


def ensure_version(model: Any, pk: object, version: int, what: str, **changes: Any) -> None:
    """Bump the row's version (and apply ``changes``) only if it is still ``version``.

    Raises :class:`ConflictError` if no row matched: another writer saved in between.
    """
    updated = model.objects.filter(pk=pk, version=version).update(
        version=F("version") + 1, **changes
    )
    if updated == 0:
        raise conflict(what)


def check_version(current: int, version: int, what: str) -> None:
    """For a row already read (and locked) in this transaction: refuse a stale version."""
    if current != version:
        raise conflict(what)
