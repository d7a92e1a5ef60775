"""Tests for name/date normalisation and blind indexes (haven.vault.blind_index)."""

from __future__ import annotations

import hashlib
import hmac
import string
from datetime import date, datetime

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from haven.vault.blind_index import (
    KIND_DOB,
    KIND_NAME,
    _fold_once,
    _fold_unicode,
    blind_index,
    dob_index,
    name_dob_index,
    name_index,
    normalise_date,
    normalise_name,
    recommended_bits,
)
from haven.vault.crypto import VaultKeyError

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
valid_bits = st.integers(min_value=2, max_value=64).map(lambda quarter: quarter * 4)
ascii_names = st.text(alphabet=string.ascii_letters + " ", min_size=1, max_size=30)

# Accented letters and their plain forms, to splice into names.
ACCENTED = {"é": "e", "Á": "a", "ñ": "n", "ö": "o", "Ç": "c", "å": "a", "ł": "ł"}


# --------------------------------------------------------------------------- names


@given(st.text())
@example("\U0001d400")  # mathematical bold A: NFKD yields "A" only after casefolding
@example("\u1f88 \u01c5 \u0130 \ufb01")  # ᾈ ǅ İ ﬁ
def test_normalise_name_is_idempotent(value: str) -> None:
    once = normalise_name(value)
    assert normalise_name(once) == once


@given(st.text())
def test_normalised_name_is_trimmed_single_spaced_lowercase(value: str) -> None:
    normalised = normalise_name(value)
    assert normalised == normalised.strip()
    assert "  " not in normalised
    assert normalised == normalised.casefold()
    assert not any(character in normalised for character in "'.-\t\n\x00")


@given(ascii_names)
def test_normalise_name_ignores_case(value: str) -> None:
    assert normalise_name(value.upper()) == normalise_name(value.lower()) == normalise_name(value)


@given(
    words=st.lists(st.text(alphabet=string.ascii_letters, min_size=1), min_size=1), data=st.data()
)
def test_normalise_name_ignores_whitespace_runs(words: list[str], data: st.DataObject) -> None:
    gaps = data.draw(
        st.lists(st.sampled_from([" ", "  ", "\t", "\n ", "\u00a0"]), min_size=len(words))
    )
    padded = " \t" + "".join(word + gap for word, gap in zip(words, gaps, strict=False))
    assert normalise_name(padded) == " ".join(words).lower()


@given(prefix=ascii_names, accented=st.sampled_from(sorted(ACCENTED)), suffix=ascii_names)
def test_normalise_name_ignores_accents(prefix: str, accented: str, suffix: str) -> None:
    assume(accented != "ł")  # ł has no decomposition: it is a letter in its own right
    plain = ACCENTED[accented]
    assert normalise_name(prefix + accented + suffix) == normalise_name(prefix + plain + suffix)


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),
        ("O´Brien", "obrien"),
        ("OBRIEN", "obrien"),
        ("Jean-Luc Picard", "jean luc picard"),
        ("Jean Luc  PICARD", "jean luc picard"),
        ("St. John-Smythe", "st john smythe"),
        ("  Siobhán  Ní Dhómhnaill ", "siobhan ni dhomhnaill"),
        ("Zoë Šťastná", "zoe stastna"),
        ("STRAẞE", "strasse"),
        ("ｊｏｈｎ　ｓｍｉｔｈ", "john smith"),  # fullwidth forms and ideographic space
        ("Smith, John", "smith john"),
        ("José María", "jose maria"),
        ("Ławrence", "ławrence"),
        ("---", ""),
    ],
)
def test_normalise_name_examples(spelling: str, expected: str) -> None:
    assert normalise_name(spelling) == expected


def test_normalise_name_keeps_distinct_names_distinct() -> None:
    assert normalise_name("Ann") != normalise_name("Anne")
    assert normalise_name("Jean-Luc") != normalise_name("Jeanluc")


# --------------------------------------------------------------------------- dates

MARCH_7_1980_SPELLINGS: list[str | date] = [
    "1980-03-07",
    "1980-3-7",
    "1980/03/07",
    "1980.03.07",
    "19800307",
    "07/03/1980",
    "7/3/1980",
    "07.03.1980",
    "07-03-1980",
    "7 March 1980",
    "7 march 1980",
    "  7   MARCH   1980 ",
    "7th March 1980",
    "07 Mar 1980",
    "7 Mar. 1980",
    "March 7, 1980",
    "Mar 7th 1980",
    date(1980, 3, 7),
    datetime(1980, 3, 7, 23, 59),
]


@pytest.mark.parametrize("spelling", MARCH_7_1980_SPELLINGS)
def test_date_formats_agree(spelling: str | date) -> None:
    assert normalise_date(spelling) == "1980-03-07"


@given(st.dates(min_value=date(1000, 1, 1)))
def test_every_layout_of_a_date_normalises_to_iso(value: date) -> None:
    iso = value.isoformat()
    spellings: list[str | date] = [
        value,
        iso,
        value.strftime("%Y/%m/%d"),
        value.strftime("%d/%m/%Y"),
        f"{value.day}/{value.month}/{value.year}",
        value.strftime("%d.%m.%Y"),
        f"{value.day} {value.strftime('%B')} {value.year}",
        f"{value.day} {value.strftime('%b')} {value.year}",
        f"{value.strftime('%B')} {value.day}, {value.year}",
    ]
    assert {normalise_date(spelling) for spelling in spellings} == {iso}


@given(st.dates(min_value=date(1000, 1, 1)))
def test_normalise_date_is_idempotent(value: date) -> None:
    once = normalise_date(value.strftime("%d/%m/%Y"))
    assert normalise_date(once) == once


def test_day_first_is_uk_convention() -> None:
    assert normalise_date("01/02/2000") == "2000-02-01"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("31/02/1980", "does not exist"),
        ("1980-13-01", "does not exist"),
        ("29/02/1981", "does not exist"),
        ("00/01/1980", "does not exist"),
        ("7 Smarch 1980", "unknown month 'smarch'"),
        ("07/03/80", "cannot read date"),
        ("yesterday", "cannot read date"),
        ("", "cannot read date"),
        ("1980-03/07", "cannot read date"),
        ("7 March", "cannot read date"),
    ],
)
def test_bad_dates_raise_clear_value_error(bad: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as error:
        normalise_date(bad)
    assert repr(bad) in str(error.value)


def test_leap_day_is_accepted() -> None:
    assert normalise_date("29/02/1980") == "1980-02-29"


# --------------------------------------------------------------------------- indexes


@given(bits=valid_bits, value=st.text())
def test_blind_index_length_follows_bits(bits: int, value: str) -> None:
    index = blind_index(KEY, KIND_NAME, value, bits)
    assert len(index) == bits // 4
    assert set(index) <= set("0123456789abcdef")


@given(bits=valid_bits, value=st.text())
def test_blind_index_is_prefix_of_full_hmac(bits: int, value: str) -> None:
    full = hmac.new(KEY, b"name\x00" + value.encode(), hashlib.sha256).hexdigest()
    assert blind_index(KEY, "name", value, bits) == full[: bits // 4]
    assert blind_index(KEY, "name", value, 256) == full


@pytest.mark.parametrize("bits", [0, 4, 7, 9, 30, 260, 512, -8])
def test_invalid_bits_are_refused(bits: int) -> None:
    with pytest.raises(ValueError, match="multiple of 4"):
        blind_index(KEY, KIND_NAME, "x", bits)


def test_short_key_is_refused() -> None:
    with pytest.raises(VaultKeyError):
        blind_index(b"short", KIND_NAME, "x")


@pytest.mark.parametrize("kind", ["", "na\x00me"])
def test_ambiguous_kind_is_refused(kind: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        blind_index(KEY, kind, "x")


@given(value=st.text())
def test_different_kinds_differ(value: str) -> None:
    # At 256 bits a collision would be a SHA-256 break, so inequality is a real check.
    assert blind_index(KEY, KIND_NAME, value, 256) != blind_index(KEY, KIND_DOB, value, 256)


def test_kind_and_value_boundary_is_unambiguous() -> None:
    assert blind_index(KEY, "ab", "c", 256) != blind_index(KEY, "a", "bc", 256)


def test_different_keys_differ() -> None:
    assert blind_index(KEY, KIND_NAME, "smith", 256) != blind_index(
        OTHER_KEY, KIND_NAME, "smith", 256
    )


def test_name_index_matches_across_spellings() -> None:
    assert name_index(KEY, "Siobhán O'Brien") == name_index(KEY, "SIOBHAN  OBRIEN")
    assert name_index(KEY, "Siobhán O'Brien") != name_index(KEY, "Siobhan Brien", 256)


def test_dob_index_matches_across_formats() -> None:
    indexes = {dob_index(KEY, spelling) for spelling in MARCH_7_1980_SPELLINGS}
    assert len(indexes) == 1


def test_name_dob_index_detects_duplicates() -> None:
    original = name_dob_index(KEY, "Jean-Luc Picard", "13/07/2305")
    assert name_dob_index(KEY, "jean luc PICARD", date(2305, 7, 13)) == original
    assert name_dob_index(KEY, "Jean-Luc Picard", "14/07/2305", 256) != name_dob_index(
        KEY, "Jean-Luc Picard", "13/07/2305", 256
    )


def test_name_dob_index_is_its_own_domain() -> None:
    combined = name_dob_index(KEY, "smith", "1980-03-07", 256)
    assert combined != name_index(KEY, "smith", 256)
    assert combined != dob_index(KEY, "1980-03-07", 256)


def test_wrappers_pass_bits_through() -> None:
    assert len(name_index(KEY, "smith", 16)) == 4
    assert len(dob_index(KEY, "1980-03-07", 8)) == 2
    assert len(name_dob_index(KEY, "smith", "1980-03-07", 64)) == 16


def test_empty_name_is_not_indexed() -> None:
    with pytest.raises(ValueError, match="no letters or digits"):
        name_index(KEY, " - ' ")


def test_bad_date_is_not_indexed() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        dob_index(KEY, "31/02/1980")


@pytest.mark.parametrize(
    ("rows", "per_value", "expected"),
    [(1_000_000, 4, 16), (10, 4, 8), (1, 1, 8), (2**40, 1, 40), (2**300, 1, 256)],
)
def test_recommended_bits(rows: int, per_value: int, expected: int) -> None:
    assert recommended_bits(rows, per_value) == expected


@given(rows=st.integers(min_value=1, max_value=2**64), per_value=st.integers(1, 1000))
def test_recommended_bits_always_valid_and_leaves_rows_per_bucket(
    rows: int, per_value: int
) -> None:
    bits = recommended_bits(rows, per_value)
    blind_index(KEY, KIND_NAME, "x", bits)  # accepted
    if bits > 8:
        assert rows / 2**bits >= per_value


@given(st.text(alphabet=st.characters(max_codepoint=127)))
@example("  O'Brien-Smith St.John `x` ")
@example("\t\x00a\x7fb")
def test_the_ascii_fold_is_the_unicode_fold(text: str) -> None:
    """The ASCII fast path of name folding decides each character as the general path does."""
    assert _fold_once(text) == _fold_unicode(text)


def test_every_ascii_character_folds_as_the_unicode_fold_folds_it() -> None:
    for code in range(128):
        for text in (chr(code), f"a{chr(code)}b", f"A{chr(code)}{chr(code)}B "):
            assert _fold_once(text) == _fold_unicode(text), repr(text)
