"""The one CSV helper: formula cells neutralised on export, refused on import (OWASP)."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from haven import csvfiles


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_cell_starting_with_a_formula_character_gets_a_quote(start):
    assert csvfiles.neutralise(f"{start}HYPERLINK(1)") == f"'{start}HYPERLINK(1)"


@pytest.mark.parametrize("value", ["Midshire Police", "", "a=b", "1+1", "'=quoted"])
def test_ordinary_text_is_unchanged(value):
    assert csvfiles.neutralise(value) == value


@pytest.mark.parametrize("number", [-3, -2.5, Decimal("-10.50"), 0, True])
def test_numbers_stay_numbers(number):
    assert csvfiles.neutralise(number) is number


def test_none_and_dates_are_written_as_before():
    assert csvfiles.neutralise(None) is None
    assert csvfiles.neutralise(date(2025, 1, 6)) == "2025-01-06"


def test_an_object_is_checked_by_the_text_it_is_written_as():
    class Person:
        def __str__(self) -> str:
            return "=cmd|' /C calc'!A0"

    assert csvfiles.neutralise(Person()) == "'=cmd|' /C calc'!A0"


def read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_text_neutralises_every_cell_and_keeps_numbers():
    text = csvfiles.csv_text(
        ["name", "amount"], [['=HYPERLINK("http://x","y")', -5], ["@SUM(A1)", Decimal("-1.5")]]
    )
    assert read(text) == [
        ["name", "amount"],
        ['\'=HYPERLINK("http://x","y")', "-5"],
        ["'@SUM(A1)", "-1.5"],
    ]


def test_csv_bytes_starts_with_a_byte_order_mark():
    content = csvfiles.csv_bytes(["a"], [["-x"]])
    assert content.startswith(b"\xef\xbb\xbf")
    assert read(content.decode("utf-8-sig")) == [["a"], ["'-x"]]


def test_csv_response_is_an_attachment_with_neutralised_cells():
    response = csvfiles.csv_response("list.csv", ["ref"], [["+44 formula"], ["plain"]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="list.csv"'
    assert read(response.content.decode("utf-8-sig")) == [["ref"], ["'+44 formula"], ["plain"]]


@pytest.mark.parametrize(
    "value",
    ["=HYPERLINK(1)", "+cmd", "-2+A1", "@SUM(A1)", "\tx", "\r=1", "  =1+1", "-1e3", "\t5"],
)
def test_import_refuses_a_cell_a_spreadsheet_would_run(value):
    problem = csvfiles.formula_problem(value)
    assert problem is not None and "formula" in problem


@pytest.mark.parametrize(
    "value", ["", "FR/2025/1", "a=b", "-12.5", "+44 (0)20 7946 0000", "-", " -3 ", "1-2"]
)
def test_import_accepts_text_numbers_and_telephone_numbers(value):
    assert csvfiles.formula_problem(value) is None
