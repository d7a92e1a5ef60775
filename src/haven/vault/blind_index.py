"""Blind indexes: exact-match search and duplicate detection over encrypted values.

A blind index is HMAC-SHA256 under a dedicated key (never the encryption key) of a
*normalised* value, so "Siobhán O'Brien" and "SIOBHAN OBRIEN" index alike while the
database holds no plaintext.

Why truncate? A full HMAC is a perfect fingerprint: anyone with read access to the table
could count equal values (how many people share a surname or birthday) and, combined with
public frequency tables, recover common values without any key. Truncating to ``bits`` maps
many distinct values to each index value, so at scale each index value matches many rows
and frequencies blur. A search therefore returns *candidates*: callers must decrypt them
and compare the normalised plaintext to drop false positives. Choose ``bits`` with
:func:`recommended_bits` so that each index value is expected to cover several rows.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date, datetime

from haven.vault.crypto import VaultKeyError

KIND_NAME = "name"
KIND_DOB = "dob"
KIND_NAME_DOB = "name+dob"

MIN_BITS = 8
MAX_BITS = 256
MIN_KEY_BYTES = 16

# --------------------------------------------------------------------------- names

# Removed outright, so "O'Brien" == "OBrien" and "St.John" == "StJohn". Acute accent is
# listed because people type it as an apostrophe ("O´Brien"); NFKD would split it to a
# space plus a combining mark.
_DELETED_CHARACTERS = frozenset("'\u2018\u2019\u201b\u02bc\u02bb\u0060\u2032.\u00b7")
_ACUTE_AS_APOSTROPHE = str.maketrans({"\u00b4": "'"})
# Nonspacing and enclosing marks are accents/decoration once NFKD has split them off.
# Spacing marks (Mc, e.g. Devanagari vowel signs) carry meaning and are kept.
_DROPPED_CATEGORIES = frozenset({"Mn", "Me"})
# Letters, digits and spacing marks are kept; anything else (hyphens, commas, slashes,
# symbols, control characters) becomes a word break, so "Jean-Luc" == "jean luc".
_KEPT_CATEGORY_PREFIXES = ("L", "N")
_ASCII_FOLD = {
    code: None if chr(code) in _DELETED_CHARACTERS else " "
    for code in range(128)
    if not chr(code).isalnum()
}


def _fold_once(text: str) -> str:
    if text.isascii():
        # ASCII is its own NFKD, casefolds to lower(), and holds no mark: each character is
        # kept (a letter or digit), deleted, or a word break, as _fold_unicode decides it
        # (one C call instead of a Python loop; most names a load or a search folds).
        return " ".join(text.lower().translate(_ASCII_FOLD).split())
    return _fold_unicode(text)


def _fold_unicode(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    characters: list[str] = []
    for character in decomposed:
        category = unicodedata.category(character)
        if character in _DELETED_CHARACTERS or category in _DROPPED_CATEGORIES:
            continue
        kept = category.startswith(_KEPT_CATEGORY_PREFIXES) or category == "Mc"
        characters.append(character if kept else " ")
    return " ".join("".join(characters).split())


def normalise_name(value: str) -> str:
    """Canonical form of a personal name for blind indexing.

    Compatibility-decomposes (NFKD), drops accents, casefolds, deletes apostrophes and
    dots, treats hyphens and other punctuation as spaces, and collapses whitespace:
    ``"  Siobhán  O’Brien-Smith "`` -> ``"siobhan obrien smith"``. Idempotent.
    """
    folded = _fold_once(value.translate(_ACUTE_AS_APOSTROPHE))
    # Casefolding can expose characters that decompose further; repeat to a fixed point.
    for _ in range(4):
        refolded = _fold_once(folded)
        if refolded == folded:
            break
        folded = refolded
    return folded


# --------------------------------------------------------------------------- dates

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}

_SEPARATOR = r"[-/.]"
_YEAR_FIRST = re.compile(rf"(\d{{4}})({_SEPARATOR})(\d{{1,2}})\2(\d{{1,2}})")
_DAY_FIRST = re.compile(rf"(\d{{1,2}})({_SEPARATOR})(\d{{1,2}})\2(\d{{4}})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_ORDINAL = r"(?:st|nd|rd|th)?"
_DAY_MONTH_NAME = re.compile(rf"(\d{{1,2}}){_ORDINAL}\s+([a-z]+)\.?,?\s+(\d{{4}})")
_MONTH_NAME_DAY = re.compile(rf"([a-z]+)\.?\s+(\d{{1,2}}){_ORDINAL},?\s+(\d{{4}})")


def _parse_date_parts(text: str) -> tuple[int, int | str, int] | None:
    """(year, month number or month name, day) from any accepted layout, else None."""
    if match := _YEAR_FIRST.fullmatch(text):
        return int(match[1]), int(match[3]), int(match[4])
    if match := _DAY_FIRST.fullmatch(text):  # UK convention: day first
        return int(match[4]), int(match[3]), int(match[1])
    if match := _COMPACT.fullmatch(text):
        return int(match[1]), int(match[2]), int(match[3])
    if match := _DAY_MONTH_NAME.fullmatch(text):
        return int(match[3]), match[2], int(match[1])
    if match := _MONTH_NAME_DAY.fullmatch(text):
        return int(match[3]), match[1], int(match[2])
    return None


def normalise_date(value: str | date) -> str:
    """ISO ``YYYY-MM-DD`` from a date or a common UK-style date string.

    Accepts "1980-03-07", "1980/03/07", "19800307", "07/03/1980", "7/3/1980",
    "07.03.1980", "07-03-1980" (numeric dates with the year last are day-first),
    "7 March 1980", "7th Mar 1980" and "March 7, 1980". Two-digit years are refused as
    ambiguous. Raises ValueError naming the input if it is unparseable or impossible.
    """
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = " ".join(value.split()).casefold()
    parts = _parse_date_parts(text)
    if parts is None:
        raise ValueError(
            f"cannot read date {value!r}: use YYYY-MM-DD, DD/MM/YYYY or '7 March 1980'"
        )
    year, month, day = parts
    if isinstance(month, str):
        if month not in _MONTHS:
            raise ValueError(f"cannot read date {value!r}: unknown month {month!r}")
        month = _MONTHS[month]
    try:
        return date(year, month, day).isoformat()
    except ValueError as error:
        raise ValueError(f"date {value!r} does not exist: {error}") from None


# --------------------------------------------------------------------------- indexes


def _check_bits(bits: int) -> None:
    if isinstance(bits, bool) or not isinstance(bits, int):
        raise ValueError(f"blind index bits must be an int, got {bits!r}")
    if not MIN_BITS <= bits <= MAX_BITS or bits % 4:
        raise ValueError(
            f"blind index bits must be a multiple of 4 from {MIN_BITS} to {MAX_BITS}, got {bits}"
        )


COLUMN_KEY_LABEL = b"haven blind index column key v1"


def column_key(key: bytes, table: str, column: str) -> bytes:
    """The key of one (table, column): HMAC-SHA256 of a fixed label and the two names under
    the blind-index key. Each column then has its own index space, so equal names in two
    tables (a protected person and a complainant) get unrelated index values and a reader of
    one table learns nothing about the other."""
    if len(key) < MIN_KEY_BYTES:
        raise VaultKeyError(f"blind index key must be at least {MIN_KEY_BYTES} bytes")
    label = b"\x00".join((COLUMN_KEY_LABEL, table.encode("utf-8"), column.encode("utf-8")))
    return hmac.new(key, label, hashlib.sha256).digest()


def blind_index(key: bytes, kind: str, normalised_value: str, bits: int = 32) -> str:
    """Truncated HMAC-SHA256 of ``kind || NUL || value`` as ``bits // 4`` hex digits.

    ``kind`` separates domains (a name and a date with the same text index differently).
    The value must already be normalised; use the wrappers below for names and dates.
    """
    _check_bits(bits)
    if len(key) < MIN_KEY_BYTES:
        raise VaultKeyError(f"blind index key must be at least {MIN_KEY_BYTES} bytes")
    if not kind or "\x00" in kind:
        raise ValueError(f"blind index kind must be non-empty without NUL, got {kind!r}")
    message = kind.encode("utf-8") + b"\x00" + normalised_value.encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[: bits // 4]


def _normalised_name_or_error(value: str) -> str:
    normalised = normalise_name(value)
    if not normalised:
        # An empty name would put every blank record in one bucket: refuse instead.
        raise ValueError(f"name {value!r} has no letters or digits to index")
    return normalised


def name_index(key: bytes, value: str, bits: int = 32) -> str:
    """Blind index of a personal name (normalised with :func:`normalise_name`)."""
    return blind_index(key, KIND_NAME, _normalised_name_or_error(value), bits)


def dob_index(key: bytes, value: str | date, bits: int = 32) -> str:
    """Blind index of a date of birth (normalised with :func:`normalise_date`)."""
    return blind_index(key, KIND_DOB, normalise_date(value), bits)


def name_dob_index(key: bytes, name: str, dob: str | date, bits: int = 32) -> str:
    """Blind index of (name, date of birth) together, for duplicate-person detection."""
    # A normalised name never contains NUL, so the pair encodes unambiguously.
    combined = _normalised_name_or_error(name) + "\x00" + normalise_date(dob)
    return blind_index(key, KIND_NAME_DOB, combined, bits)


def recommended_bits(expected_rows: int, rows_per_index_value: int = 4) -> int:
    """Largest valid ``bits`` leaving about ``rows_per_index_value`` rows per index value.

    E.g. 1,000,000 rows at 4 rows per value -> 16 bits (65,536 buckets). Never below
    MIN_BITS, so small tables get fewer rows per bucket than asked.
    """
    if expected_rows < 1 or rows_per_index_value < 1:
        raise ValueError("expected_rows and rows_per_index_value must be positive")
    buckets = max(1, expected_rows // rows_per_index_value)
    bits = (buckets.bit_length() - 1) // 4 * 4  # exact floor(log2): floats round near 2**52
    return max(MIN_BITS, min(MAX_BITS, bits))
