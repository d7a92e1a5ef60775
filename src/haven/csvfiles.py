"""The one way Haven writes and reads CSV: formula cells are neutralised on export and refused
on import (CSV injection, OWASP).

A spreadsheet treats a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
as a formula, so a value such as ``=HYPERLINK(...)`` typed into a form would run when an export
is opened. Every export goes through :func:`csv_text`, :func:`csv_bytes` or :func:`csv_response`,
which prefix such text cells with ``'``; numbers stay numbers. Imports ask :func:`formula_problem`
about each cell.

This module is a leaf of the ``haven`` package: it imports nothing from the domains or the web,
so any layer may use it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPE = "text/csv; charset=utf-8"
# A signed number or a telephone number: digits, spaces, ( ) . + - only. Without letters or
# any of = @ ! | " it can neither call a function nor refer to a cell, so it is safe to accept.
_NUMBER_LIKE = re.compile(r"[+-][0-9 ().+-]*")


def is_formula(value: str) -> bool:
    """Whether a spreadsheet would read this text as a formula."""
    return value.startswith(FORMULA_STARTS)


def neutralise(cell: object) -> object:
    """A cell that a spreadsheet would read as a formula, as text prefixed with ``'``.

    Numbers (int, float, Decimal; bool) and None pass unchanged, so a real negative number stays
    a number. Anything else is written as its text, so it is checked as text: a model instance
    whose ``str()`` begins with ``=`` is neutralised like the string itself."""
    if cell is None or isinstance(cell, int | float | Decimal):
        return cell
    text = cell if isinstance(cell, str) else str(cell)
    return "'" + text if is_formula(text) else text


def neutralised(row: Iterable[object]) -> list[object]:
    return [neutralise(cell) for cell in row]


def csv_text(header: Sequence[object], rows: Iterable[Iterable[object]]) -> str:
    """Header and rows as CSV text, every cell neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(neutralised(header))
    writer.writerows(neutralised(row) for row in rows)
    return buffer.getvalue()


def csv_bytes(header: Sequence[object], rows: Iterable[Iterable[object]]) -> bytes:
    """:func:`csv_text` as UTF-8 with a byte-order mark, so spreadsheets read the accents."""
    return csv_text(header, rows).encode("utf-8-sig")


def attachment(content: str | bytes, filename: str) -> HttpResponse:
    """A CSV download of content already made by :func:`csv_text` or :func:`csv_bytes`."""
    response = HttpResponse(content, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(
    filename: str, header: Sequence[object], rows: Iterable[Iterable[object]]
) -> HttpResponse:
    """A CSV download (Content-Disposition: attachment), every cell neutralised."""
    return attachment(csv_bytes(header, rows), filename)


def formula_problem(value: str) -> str | None:
    """Why an imported cell is refused (it would be a formula in a spreadsheet), or None.

    Leading spaces are ignored, since importers strip them. A signed number or a telephone
    number (``-12.5``, ``+44 (0)20 7946 0000``) is accepted."""
    text = value.lstrip(" ")
    if not is_formula(text):
        return None
    if _NUMBER_LIKE.fullmatch(text.strip()):
        return None
    return (
        f"starts with {text[:1]!r}, which a spreadsheet reads as a formula; "
        "remove the character or put the value in words"
    )


__all__ = [
    "CONTENT_TYPE",
    "FORMULA_STARTS",
    "attachment",
    "csv_bytes",
    "csv_response",
    "csv_text",
    "formula_problem",
    "is_formula",
    "neutralise",
    "neutralised",
]
