"""Reference numbers (``HVN-2026-00052``, ``CMP-2026-0007``) from a locked counter row.

One counter row per series (prefix and year). :func:`reserve` locks it inside the caller's
transaction, so a concurrent writer waits until that transaction ends and then takes the next
number: no two writers get the same reference, on SQLite or PostgreSQL. A series met for the
first time starts after the highest reference already stored, so rows written before the
counter existed (or by a bulk loader) are never collided with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID

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


# --- naming objects by reference ---------------------------------------------------------
#
# People type and read references, never UUIDs. Each domain registers its series (prefix,
# the ledger's object type, the model) when its app is ready; core code (the ledger search,
# the UI kit's reference field) then resolves a reference without importing any domain.


@dataclass(frozen=True)
class Series:
    prefix: str
    object_type: str
    model: Any


_SERIES: dict[str, Series] = {}
_SHAPE = re.compile(r"^([A-Z]{2,5})-\d{4}-\d{1,8}$")


class UnknownReference(ValueError):
    """Neither a stored reference of the expected kind nor an object id."""


def register_series(prefix: str, object_type: str, model: Any) -> None:
    _SERIES[prefix] = Series(prefix, object_type, model)


def series_for(object_type: str) -> Series | None:
    return next((s for s in _SERIES.values() if s.object_type == object_type), None)


def normalise(text: object) -> str:
    return str(text or "").strip().upper()


def resolve(text: object, object_type: str | None = None) -> tuple[str, UUID] | None:
    """(object type, id) of the object whose reference is `text` (of `object_type`, if given),
    or None. Existence only: the caller still decides whether the user may see the object."""
    match = _SHAPE.match(normalise(text))
    series = _SERIES.get(match.group(1)) if match else None
    if series is None or (object_type and series.object_type != object_type):
        return None
    pk = series.model.objects.filter(reference=normalise(text)).values_list("pk", flat=True)
    found = pk.first()
    return (series.object_type, found) if found is not None else None


def object_id_for(text: object, object_type: str) -> UUID:
    """The id named by `text`: a reference of `object_type`, or the id itself (API clients
    and older links still send ids). UnknownReference for anything else."""
    if isinstance(text, UUID):
        return text
    resolved = resolve(text, object_type)
    if resolved is not None:
        return resolved[1]
    try:
        return UUID(str(text).strip())
    except ValueError as bad:
        raise UnknownReference(str(text)) from bad


def reference_for(object_type: str, object_id: object) -> str:
    """The reference of one object, to show instead of its id ("" when there is none)."""
    series = series_for(object_type)
    if series is None or not object_id:
        return ""
    found = series.model.objects.filter(pk=object_id).values_list("reference", flat=True).first()
    return found or ""


_WITHIN = re.compile(r"\b([A-Z]{2,5})-\d{4}-\d{1,8}\b")


def named_in(text: str) -> list[tuple[Series, str]]:
    """(series, reference) of every registered reference written in `text` (no query)."""
    return [
        (_SERIES[match.group(1)], match.group(0))
        for match in _WITHIN.finditer(text)
        if match.group(1) in _SERIES
    ]
