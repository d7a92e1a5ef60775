"""Small-cell and secondary suppression of equality tables (pure Python)."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haven.oversight.suppression import (
    SUPPRESSED_MARK,
    CellKey,
    SuppressedTable,
    display_count,
    suppress_table,
)

Table = dict[str, dict[str, int]]


# --- an independent oracle: which hidden entries do the published equations pin down? ------


def _entries(result: SuppressedTable) -> list[tuple[CellKey, int | None]]:
    keys: list[CellKey] = [(row, column) for row in result.rows for column in result.columns]
    keys += [(row, None) for row in result.rows] + [(None, column) for column in result.columns]
    keys.append((None, None))
    return [(key, result.value_at(*key)) for key in keys]


def _equations(result: SuppressedTable) -> list[dict[CellKey, int]]:
    """Each published relation as coefficients summing to zero (cells minus their total)."""
    equations: list[dict[CellKey, int]] = []
    for row in [*result.rows, None]:
        equation: dict[CellKey, int] = {(row, column): 1 for column in result.columns}
        equations.append(equation | {(row, None): -1})
    for column in [*result.columns, None]:
        equation = {(row, column): 1 for row in result.rows}
        equations.append(equation | {(None, column): -1})
    return equations


def _rank(matrix: list[list[Fraction]]) -> int:
    rows = [line[:] for line in matrix]
    rank = 0
    for column in range(len(rows[0]) if rows else 0):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][column] != 0:
                factor = rows[r][column] / rows[rank][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank], strict=True)]
        rank += 1
    return rank


def recoverable_cells(result: SuppressedTable) -> set[CellKey]:
    """Hidden entries whose value is implied by the published ones (linear algebra)."""
    hidden = [key for key, value in _entries(result) if value is None]
    matrix = [[Fraction(eq.get(key, 0)) for key in hidden] for eq in _equations(result)]
    base_rank = _rank(matrix)
    recoverable = set()
    for index, key in enumerate(hidden):
        unit = [Fraction(int(i == index)) for i in range(len(hidden))]
        if _rank([*matrix, unit]) == base_rank:  # the unit vector is a combination of equations
            recoverable.add(key)
    return recoverable


def lines_with_one_hidden_entry(result: SuppressedTable) -> list[str]:
    lonely = []
    for row in [*result.rows, None]:
        hidden = [c for c in [*result.columns, None] if result.value_at(row, c) is None]
        if len(hidden) == 1:
            lonely.append(f"row {row}")
    for column in [*result.columns, None]:
        hidden = [r for r in [*result.rows, None] if result.value_at(r, column) is None]
        if len(hidden) == 1:
            lonely.append(f"column {column}")
    return lonely


def _plain(result: SuppressedTable) -> dict[str, dict[str, int | None]]:
    return {row: dict(columns) for row, columns in result.cells.items()}


# --- explicit examples ------------------------------------------------------------------------


def test_explicit_example_table() -> None:
    table = {
        "White": {"Upheld": 20, "Not upheld": 30, "Withdrawn": 2},
        "Black": {"Upheld": 3, "Not upheld": 12, "Withdrawn": 7},
        "Asian": {"Upheld": 9, "Not upheld": 15, "Withdrawn": 6},
    }
    result = suppress_table(table)
    # 2 and 3 are primary; 20 is the smallest partner in White's row and 7 in Black's,
    # which also gives each of the two columns its second hidden cell.
    assert _plain(result) == {
        "White": {"Upheld": None, "Not upheld": 30, "Withdrawn": None},
        "Black": {"Upheld": None, "Not upheld": 12, "Withdrawn": None},
        "Asian": {"Upheld": 9, "Not upheld": 15, "Withdrawn": 6},
    }
    assert dict(result.reasons) == {
        ("White", "Withdrawn"): "primary",
        ("Black", "Upheld"): "primary",
        ("White", "Upheld"): "secondary",
        ("Black", "Withdrawn"): "secondary",
    }
    assert dict(result.row_totals) == {"White": 52, "Black": 22, "Asian": 30}
    assert dict(result.column_totals) == {"Upheld": 32, "Not upheld": 57, "Withdrawn": 15}
    assert result.grand_total == 104
    assert recoverable_cells(result) == set()


def test_one_row_table_suppresses_matching_column_totals() -> None:
    result = suppress_table({"All": {"A": 3, "B": 10, "C": 8}})
    assert _plain(result) == {"All": {"A": None, "B": 10, "C": None}}
    # In a one-row table each column total equals its cell, so it must be hidden too.
    assert dict(result.column_totals) == {"A": None, "B": 10, "C": None}
    assert result.row_totals["All"] == 21 and result.grand_total == 21
    assert result.reasons[(None, "A")] == "primary"
    assert result.reasons[(None, "C")] == "secondary"
    assert recoverable_cells(result) == set()


def test_one_column_table_suppresses_matching_row_totals() -> None:
    result = suppress_table({"F": {"n": 12}, "M": {"n": 4}, "X": {"n": 9}})
    assert _plain(result) == {"F": {"n": 12}, "M": {"n": None}, "X": {"n": None}}
    assert dict(result.row_totals) == {"F": 12, "M": None, "X": None}
    assert result.column_totals["n"] == 25
    assert recoverable_cells(result) == set()


def test_single_small_cell_hides_everything() -> None:
    result = suppress_table({"All": {"n": 3}})
    assert result.value_at("All", "n") is None
    assert result.row_totals["All"] is None and result.column_totals["n"] is None
    assert result.grand_total is None


def test_hidden_cell_bridging_two_blocks_gets_an_extra_complement() -> None:
    # Small cells form two closed 2x2 blocks joined by the cell (r0, c2): every row and column
    # has two hidden cells, yet (r0, c2) = rows r0+r1 minus columns c0+c1. It must be protected.
    small = {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (0, 2)}
    table = {
        f"r{i}": {f"c{j}": (1 if (i, j) in small else 10 + i + j) for j in range(5)}
        for i in range(5)
    }
    result = suppress_table(table)
    assert lines_with_one_hidden_entry(result) == []
    assert recoverable_cells(result) == set()
    secondary = [key for key, reason in result.reasons.items() if reason == "secondary"]
    assert len(secondary) == 1  # one cell closing a cycle through the bridge is enough
    assert recoverable_cells(_only_primary(table)) == {("r0", "c2")}


def _only_primary(table: Table) -> SuppressedTable:
    """The same table with primary suppression alone, to show the bridge attack is real."""
    result = suppress_table(table)
    primary = {key for key, reason in result.reasons.items() if reason == "primary"}
    cells = {
        row: {col: (None if (row, col) in primary else table[row][col]) for col in table[row]}
        for row in table
    }
    return SuppressedTable(
        rows=result.rows,
        columns=result.columns,
        cells=cells,
        row_totals={row: sum(table[row].values()) for row in table},
        column_totals={col: sum(table[row][col] for row in table) for col in result.columns},
        grand_total=sum(sum(values.values()) for values in table.values()),
        reasons={key: "primary" for key in primary},
        threshold=result.threshold,
    )


def test_zeros_shown_by_default_and_optionally_suppressed() -> None:
    table = {"A": {"x": 0, "y": 30}, "B": {"x": 12, "y": 40}}
    assert suppress_table(table).value_at("A", "x") == 0
    hidden = suppress_table(table, suppress_zeros=True)
    assert hidden.reasons[("A", "x")] == "primary"
    assert recoverable_cells(hidden) == set()


def test_missing_cells_count_as_zero() -> None:
    result = suppress_table({"A": {"x": 10}, "B": {"y": 20}})
    assert result.columns == ("x", "y")
    assert result.value_at("A", "y") == 0 and result.value_at("B", "x") == 0


def test_threshold_is_configurable() -> None:
    table = {"A": {"x": 7, "y": 30}, "B": {"x": 12, "y": 40}}
    assert suppress_table(table).reasons == {}
    assert suppress_table(table, threshold=10).reasons[("A", "x")] == "primary"


@pytest.mark.parametrize(
    ("table", "options"),
    [
        ({"A": {"x": -1}}, {}),
        ({"A": {"x": 1.5}}, {}),
        ({"A": {"x": True}}, {}),
        ({}, {}),
        ({"A": {}}, {}),
        ({"A": {"x": 1}}, {"threshold": -1}),
        ({"A": {"x": 1}}, {"round_to": 0}),
    ],
)
def test_invalid_input_refused(table: Table, options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        suppress_table(table, **options)


@pytest.mark.parametrize(
    ("value", "round_to", "text"),
    [(None, None, "[c]"), (None, 5, "[c]"), (7, None, "7"), (7, 5, "5"), (8, 5, "10"), (0, 5, "0")],
)
def test_display(value: int | None, round_to: int | None, text: str) -> None:
    assert display_count(value, round_to) == text


def test_display_uses_the_table_rounding() -> None:
    table = {
        "A": {"x": 2, "y": 33, "z": 21},
        "B": {"x": 12, "y": 48, "z": 30},
        "C": {"x": 14, "y": 26, "z": 40},
    }
    result = suppress_table(table, round_to=5)
    assert result.display(result.value_at("A", "x")) == SUPPRESSED_MARK
    assert result.display(result.value_at("B", "y")) == "50"
    assert result.display(result.value_at("C", "y")) == "25"


# --- properties -------------------------------------------------------------------------------


@st.composite
def count_tables(draw: st.DrawFn, max_count: int = 20) -> Table:
    height = draw(st.integers(min_value=1, max_value=6))
    width = draw(st.integers(min_value=1, max_value=6))
    counts = st.integers(min_value=0, max_value=max_count)
    return {f"r{i}": {f"c{j}": draw(counts) for j in range(width)} for i in range(height)}


thresholds = st.integers(min_value=1, max_value=10)


@given(table=count_tables(), threshold=thresholds, suppress_zeros=st.booleans())
def test_no_line_has_exactly_one_hidden_entry(table: Table, threshold: int, suppress_zeros: bool):
    result = suppress_table(table, threshold, suppress_zeros=suppress_zeros)
    assert lines_with_one_hidden_entry(result) == []


@given(table=count_tables(), threshold=thresholds)
def test_no_hidden_entry_is_recoverable_from_published_values(table: Table, threshold: int):
    assert recoverable_cells(suppress_table(table, threshold)) == set()


@given(table=count_tables(max_count=8))
def test_dense_small_cells_stay_unrecoverable(table: Table) -> None:
    # Many small cells give tangled suppression patterns, where bridges between blocks occur.
    assert recoverable_cells(suppress_table(table)) == set()


@given(table=count_tables(), threshold=thresholds)
def test_primary_suppression_is_exactly_the_small_non_zero_cells(table: Table, threshold: int):
    result = suppress_table(table, threshold)
    for row, columns in table.items():
        for column, count in columns.items():
            is_primary = result.reasons.get((row, column)) == "primary"
            assert is_primary == (0 < count < threshold)  # counts >= threshold never primary


@given(table=count_tables(), threshold=thresholds)
def test_published_values_are_the_true_counts(table: Table, threshold: int) -> None:
    result = suppress_table(table, threshold)
    true_values: Mapping[CellKey, int] = {
        **{(r, c): v for r, cols in table.items() for c, v in cols.items()},
        **{(r, None): sum(cols.values()) for r, cols in table.items()},
        **{(None, c): sum(table[r][c] for r in table) for c in result.columns},
        (None, None): sum(sum(cols.values()) for cols in table.values()),
    }
    for key, value in _entries(result):
        assert (value is None) == (key in result.reasons)
        assert value is None or value == true_values[key]
