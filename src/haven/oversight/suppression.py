"""Statistical disclosure control for published equality tables (rows x columns of counts).

Primary suppression hides every non-zero count below the threshold (default 5, the design's
configurable default; see uk-domain-rules.md §7). Zeros are shown by default because a zero
reveals nothing about any individual's count; pass ``suppress_zeros=True`` where a zero is itself
sensitive (e.g. "nobody in this group was upheld"). Totals are counts too, so a small row,
column or grand total is primary-suppressed as well.

Secondary suppression stops recovery by subtraction from the published totals. Picture the table
with its totals as an extended (rows + 1) x (columns + 1) grid: every row and column of that grid
is a linear equation (the cells add up to the total). A hidden cell can be recovered exactly
if and only if it is a *bridge* in the graph whose vertices are grid lines and whose edges are
hidden cells (graph theory: the solutions of the equations are the graph's cycle space). So we
repeat, until stable:

1. any grid line with exactly one hidden entry gets a complement from the same line;
2. any hidden cell that is still a bridge gets a complement that closes a cycle through it.

Complements are the smallest available counts, preferring non-zero inner cells (a hidden zero
adds little doubt), then zero inner cells, and only then totals. For a one-row or one-column
table the totals duplicate the cells, so the rules above suppress the matching totals too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

SuppressionReason = Literal["primary", "secondary"]
# (row, column) label; None stands for "Total", so (None, None) is the grand total.
CellKey = tuple[str | None, str | None]
SUPPRESSED_MARK = "[c]"  # ONS convention for "confidential"
DEFAULT_THRESHOLD = 5

_Position = tuple[int, int]  # index into the extended grid; the last row/column holds totals
_Vertex = tuple[str, int]  # ("row", i) or ("col", j): one grid line


@dataclass(frozen=True)
class SuppressedTable:
    """A table safe to publish: None marks a suppressed count, with its reason in `reasons`."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: Mapping[str, Mapping[str, int | None]]
    row_totals: Mapping[str, int | None]
    column_totals: Mapping[str, int | None]
    grand_total: int | None
    reasons: Mapping[CellKey, SuppressionReason]
    threshold: int
    round_to: int | None = None

    def value_at(self, row: str | None, column: str | None) -> int | None:
        """Published value of a cell or total (None label = total); None if suppressed."""
        if row is None and column is None:
            return self.grand_total
        if row is None:
            return self.column_totals[str(column)]
        if column is None:
            return self.row_totals[row]
        return self.cells[row][column]

    def display(self, value: int | None) -> str:
        """Text for publication: "[c]" when suppressed, else the (optionally rounded) count."""
        return display_count(value, self.round_to)


def display_count(value: int | None, round_to: int | None = None) -> str:
    if value is None:
        return SUPPRESSED_MARK
    if round_to is None:
        return str(value)
    # Half rounds up, so 7 -> 5 and 8 -> 10 with round_to=5.
    return str(round_to * ((value + round_to // 2) // round_to))


def suppress_table(
    table: Mapping[str, Mapping[str, int]],
    threshold: int = DEFAULT_THRESHOLD,
    round_to: int | None = None,
    *,
    suppress_zeros: bool = False,
) -> SuppressedTable:
    """Apply primary and secondary suppression to a rows x columns table of counts.

    Columns are the union of every row's keys in first-seen order; a missing cell counts as 0.
    """
    _validate_options(threshold, round_to)
    rows, columns = _labels(table)
    grid = _extended_grid(table, rows, columns)
    reasons: dict[_Position, SuppressionReason] = dict.fromkeys(
        _primary_positions(grid, threshold, suppress_zeros), "primary"
    )
    while (complement := _next_complement(grid, reasons)) is not None:
        reasons[complement] = "secondary"
    return _published(grid, rows, columns, reasons, threshold, round_to)


def _validate_options(threshold: int, round_to: int | None) -> None:
    if threshold < 0:
        raise ValueError("threshold must not be negative")
    if round_to is not None and round_to < 1:
        raise ValueError("round_to must be at least 1")


def _labels(table: Mapping[str, Mapping[str, int]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    rows = tuple(table)
    columns = tuple(dict.fromkeys(column for row in rows for column in table[row]))
    if not rows or not columns:
        raise ValueError("table has no cells; list every category explicitly, with zeros")
    return rows, columns


def _extended_grid(
    table: Mapping[str, Mapping[str, int]], rows: tuple[str, ...], columns: tuple[str, ...]
) -> list[list[int]]:
    """Counts with a total appended to every row and a totals row appended at the bottom."""
    grid = [[_count(table[row].get(column, 0)) for column in columns] for row in rows]
    for line in grid:
        line.append(sum(line))
    grid.append([sum(line[j] for line in grid) for j in range(len(columns) + 1)])
    return grid


def _count(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"counts must be non-negative integers, got {value!r}")
    return value


def _primary_positions(
    grid: list[list[int]], threshold: int, suppress_zeros: bool
) -> list[_Position]:
    return [
        (i, j)
        for i, line in enumerate(grid)
        for j, value in enumerate(line)
        if 0 < value < threshold or (suppress_zeros and value == 0)
    ]


def _next_complement(
    grid: list[list[int]], suppressed: Mapping[_Position, SuppressionReason]
) -> _Position | None:
    """One more cell to suppress, or None once no hidden cell can be recovered."""
    lonely = _complement_for_lonely_line(grid, suppressed)
    return lonely if lonely is not None else _complement_for_bridge(grid, suppressed)


def _grid_lines(grid: list[list[int]]) -> Iterable[list[_Position]]:
    height, width = len(grid), len(grid[0])
    for i in range(height):
        yield [(i, j) for j in range(width)]
    for j in range(width):
        yield [(i, j) for i in range(height)]


def _complement_for_lonely_line(
    grid: list[list[int]], suppressed: Mapping[_Position, SuppressionReason]
) -> _Position | None:
    """A line with exactly one hidden entry gives it away by subtraction from the others."""
    for line in _grid_lines(grid):
        hidden = [position for position in line if position in suppressed]
        if len(hidden) == 1:
            return _cheapest(grid, [position for position in line if position not in suppressed])
    return None


def _complement_for_bridge(
    grid: list[list[int]], suppressed: Mapping[_Position, SuppressionReason]
) -> _Position | None:
    """A hidden cell that lies on no cycle of hidden cells is fixed by summing equations."""
    for bridge in sorted(suppressed):
        others = [position for position in suppressed if position != bridge]
        row_side = _component(("row", bridge[0]), others)
        column_side = _component(("col", bridge[1]), others)
        if ("col", bridge[1]) in row_side:
            continue  # already on a cycle
        # Any hidden cell joining the two sides closes a cycle through the bridge.
        candidates = _cells_joining(row_side, column_side) + _cells_joining(column_side, row_side)
        return _cheapest(grid, [cell for cell in candidates if cell != bridge])
    return None


def _component(start: _Vertex, edges: Iterable[_Position]) -> set[_Vertex]:
    neighbours: dict[_Vertex, list[_Vertex]] = {}
    for i, j in edges:
        neighbours.setdefault(("row", i), []).append(("col", j))
        neighbours.setdefault(("col", j), []).append(("row", i))
    reached, frontier = {start}, [start]
    while frontier:
        for vertex in neighbours.get(frontier.pop(), []):
            if vertex not in reached:
                reached.add(vertex)
                frontier.append(vertex)
    return reached


def _cells_joining(row_vertices: set[_Vertex], column_vertices: set[_Vertex]) -> list[_Position]:
    rows = [index for kind, index in row_vertices if kind == "row"]
    columns = [index for kind, index in column_vertices if kind == "col"]
    return [(i, j) for i in rows for j in columns]


def _cheapest(grid: list[list[int]], candidates: list[_Position]) -> _Position:
    """Smallest count, preferring non-zero inner cells, then zero inner cells, then totals."""
    last_row, last_column = len(grid) - 1, len(grid[0]) - 1

    def cost(position: _Position) -> tuple[bool, bool, int, _Position]:
        i, j = position
        is_total = i == last_row or j == last_column
        return (is_total, grid[i][j] == 0, grid[i][j], position)

    return min(candidates, key=cost)


def _published(
    grid: list[list[int]],
    rows: tuple[str, ...],
    columns: tuple[str, ...],
    reasons: Mapping[_Position, SuppressionReason],
    threshold: int,
    round_to: int | None,
) -> SuppressedTable:
    def shown(i: int, j: int) -> int | None:
        return None if (i, j) in reasons else grid[i][j]

    total_row, total_column = len(rows), len(columns)
    row_labels: list[str | None] = [*rows, None]
    column_labels: list[str | None] = [*columns, None]
    return SuppressedTable(
        rows=rows,
        columns=columns,
        cells=MappingProxyType(
            {
                row: MappingProxyType({column: shown(i, j) for j, column in enumerate(columns)})
                for i, row in enumerate(rows)
            }
        ),
        row_totals=MappingProxyType({row: shown(i, total_column) for i, row in enumerate(rows)}),
        column_totals=MappingProxyType(
            {column: shown(total_row, j) for j, column in enumerate(columns)}
        ),
        grand_total=shown(total_row, total_column),
        reasons=MappingProxyType(
            {(row_labels[i], column_labels[j]): reason for (i, j), reason in reasons.items()}
        ),
        threshold=threshold,
        round_to=round_to,
    )
