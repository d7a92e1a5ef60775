"""Reference numbers (``HVN-2026-00052``, ``CMP-2026-0007``) from a locked counter row.

One counter row per series (prefix and year). :func:`reserve` locks it inside the caller's
transaction, so a concurrent writer waits until that transaction ends and then takes the next
number: no two writers get the same reference, on SQLite or PostgreSQL. A series met for the
first time starts after the highest reference already stored, so rows written before the
counter existed (or by a bulk loader) are never collided with.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Length

from .models import ReferenceCounter


def format_reference(prefix: str, year: int, number: int, width: int) -> str:
    return f"{prefix}-{year}-{number:0{width}d}"


def next_reference(model: Any, prefix: str, year: int, width: int) -> str:
    """The next free ``reference`` of ``model`` in the series ``{prefix}-{year}-``."""
    return format_reference(prefix, year, reserve(model, prefix, year), width)


def reserve(model: Any, prefix: str, year: int, count: int = 1) -> int:
    """Take ``count`` consecutive numbers in the series; returns the first of them.

    Must run inside the transaction that stores the references: the lock on the counter row
    is held until that transaction commits or rolls back (a rollback gives the numbers back).
    """
    if count < 1:
        raise ValueError("reserve at least one number")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("reference numbers must be taken inside the transaction that uses them")
    counter = _locked(prefix, year)
    if counter is None:
        try:
            with transaction.atomic():  # a savepoint: losing the race must not end the caller's
                ReferenceCounter.objects.create(
                    scope=prefix, year=year, last=highest_stored(model, prefix, year)
                )
        except IntegrityError:
            pass  # a concurrent first writer created the row: queue on its lock below
        counter = _locked(prefix, year)
        assert counter is not None
    first = counter.last + 1
    counter.last += count
    counter.save(update_fields=["last"])
    return first


def _locked(prefix: str, year: int) -> ReferenceCounter | None:
    return ReferenceCounter.objects.select_for_update().filter(scope=prefix, year=year).first()


def highest_stored(model: Any, prefix: str, year: int) -> int:
    """The highest number in the series among ``model``'s stored references (0 if none)."""
    stem = f"{prefix}-{year}-"
    references = (
        model.objects.filter(reference__startswith=stem)
        .annotate(reference_length=Length("reference"))
        .order_by("-reference_length", "-reference")
        .values_list("reference", flat=True)
    )
    for reference in references.iterator():
        number = reference[len(stem) :]
        if number.isdigit():
            return int(number)
    return 0
