# ruff: noqa: S608 - every piece of SQL here is built from this module's constants: no input.
"""The triggers that keep risk_portfoliocount (models.PortfolioCount) exact, on SQLite and
PostgreSQL, and the statement that rebuilds it from scratch.

A row counts, for one user, the cases on whose team they hold at least one place and whose
current assessment has the row's values. Two tables move it:

- risk_riskassessment: a version that stops being current (or whose counted values change)
  takes one off the row of its old values for every member of its case's team; a version that
  becomes current adds one to the row of its values.
- access_teammembership (cases only): a user's first place on a case's team adds that case's
  current assessment to their rows; the removal of their last place takes it off. A member
  holding two places (manager and officer) is counted once.

Each trigger runs per row and sees the rows handled before it in the same statement (SQLite
runs AFTER row triggers row by row; PostgreSQL's membership trigger runs BEFORE each row for
the same reason: its AFTER row triggers would all see a two-row delete as complete and take
the case off twice). A take-off never creates a row (a flush that empties this table before
the others leaves nothing behind) and deletes rows that reach zero.

A SQLite table rebuild (AlterField on either table) drops its triggers: `missing()` names any
that are absent (tests/risk/test_portfolio_counts.py asserts there are none after every
migration), and a migration that rebuilds either table must call `install()` and `rebuild()`
again (as 0004 does for the append-only triggers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

Execute = Callable[[str], Any]

TABLE = "risk_portfoliocount"
KEY = (
    "user_id, classification, band, residual_likelihood, residual_impact, threat_to_life, review_on"
)
NO_DATE = "'9999-12-31'"  # models.NO_REVIEW_DATE
SQLITE_TRIGGERS: dict[str, tuple[str, ...]] = {
    "risk_riskassessment": (
        "risk_portfolio_count_ai",
        "risk_portfolio_count_au",
        "risk_portfolio_count_ad",
    ),
    "access_teammembership": (
        "risk_portfolio_team_ai",
        "risk_portfolio_team_au",
        "risk_portfolio_team_ad",
    ),
}
PG_TRIGGERS: dict[str, tuple[str, ...]] = {
    "risk_riskassessment": ("risk_portfolio_count",),
    "access_teammembership": ("risk_portfolio_team",),
}
COUNTED = (
    "is_current",
    "case_id",
    "classification",
    "band",
    "residual_likelihood",
    "residual_impact",
    "threat_to_life",
    "next_review_on",
)


def _values(row: str) -> str:
    return (
        f"{row}.classification, {row}.band, {row}.residual_likelihood, {row}.residual_impact, "
        f"{row}.threat_to_life, COALESCE({row}.next_review_on, {NO_DATE})"
    )


def _same_values(row: str) -> str:
    """The PortfolioCount row (unqualified columns) holds `row`'s counted values."""
    return (
        f"classification = {row}.classification AND band = {row}.band "
        f"AND residual_likelihood = {row}.residual_likelihood "
        f"AND residual_impact = {row}.residual_impact AND threat_to_life = {row}.threat_to_life "
        f"AND review_on = COALESCE({row}.next_review_on, {NO_DATE})"
    )


def _team(case_id: str) -> str:
    return (
        "SELECT m.user_id FROM access_teammembership m "
        f"WHERE m.object_type = 'case' AND m.object_id = {case_id}"
    )


def _upsert(select: str) -> str:
    return (
        f"INSERT INTO {TABLE} ({KEY}, n) {select} "
        f"ON CONFLICT ({KEY}) DO UPDATE SET n = {TABLE}.n + 1"
    )


def assessment_added(row: str, guard: str = "") -> list[str]:
    """Count `row` (an assessment) for every member of its case's team."""
    return [
        _upsert(
            f"SELECT DISTINCT m.user_id, {_values(row)}, 1 FROM access_teammembership m "
            f"WHERE m.object_type = 'case' AND m.object_id = {row}.case_id {guard}"
        )
    ]


def assessment_removed(row: str, guard: str = "") -> list[str]:
    where = f"user_id IN ({_team(row + '.case_id')}) AND {_same_values(row)} {guard}"
    return [
        f"UPDATE {TABLE} SET n = n - 1 WHERE {where}",
        f"DELETE FROM {TABLE} WHERE n <= 0 AND {where}",
    ]


def _current(case_id: str) -> str:
    return f"FROM risk_riskassessment a WHERE a.case_id = {case_id} AND a.is_current"


def member_added(row: str, guard: str = "") -> list[str]:
    """Count the current assessment of `row`'s case (a membership) for its user."""
    return [
        _upsert(f"SELECT {row}.user_id, {_values('a')}, 1 {_current(row + '.object_id')} {guard}")
    ]


def member_removed(row: str, guard: str = "") -> list[str]:
    counted = (
        f"user_id = {row}.user_id AND EXISTS (SELECT 1 {_current(row + '.object_id')} AND "
        f"{TABLE}.classification = a.classification AND {TABLE}.band = a.band "
        f"AND {TABLE}.residual_likelihood = a.residual_likelihood "
        f"AND {TABLE}.residual_impact = a.residual_impact "
        f"AND {TABLE}.threat_to_life = a.threat_to_life "
        f"AND {TABLE}.review_on = COALESCE(a.next_review_on, {NO_DATE})) {guard}"
    )
    return [
        f"UPDATE {TABLE} SET n = n - 1 WHERE {counted}",
        f"DELETE FROM {TABLE} WHERE n <= 0 AND user_id = {row}.user_id {guard}",
    ]


def _other_place(row: str, exclude_self: bool) -> str:
    """Another place of `row`'s user on `row`'s case's team."""
    self_clause = f" AND o.id <> {row}.id" if exclude_self else ""
    return (
        "EXISTS (SELECT 1 FROM access_teammembership o WHERE o.object_type = 'case' "
        f"AND o.object_id = {row}.object_id AND o.user_id = {row}.user_id{self_clause})"
    )


def _sqlite(execute: Execute) -> None:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in COUNTED)
    counted = ", ".join(COUNTED)
    bodies = {
        "risk_portfolio_count_ai": (
            "AFTER INSERT ON risk_riskassessment WHEN NEW.is_current",
            assessment_added("NEW"),
        ),
        "risk_portfolio_count_ad": (
            "AFTER DELETE ON risk_riskassessment WHEN OLD.is_current",
            assessment_removed("OLD"),
        ),
        "risk_portfolio_count_au": (
            f"AFTER UPDATE OF {counted} ON risk_riskassessment "
            f"WHEN (OLD.is_current OR NEW.is_current) AND ({changed})",
            assessment_removed("OLD", "AND OLD.is_current")
            + assessment_added("NEW", "AND NEW.is_current"),
        ),
        "risk_portfolio_team_ai": (
            "AFTER INSERT ON access_teammembership WHEN NEW.object_type = 'case' "
            f"AND NOT {_other_place('NEW', True)}",
            member_added("NEW"),
        ),
        "risk_portfolio_team_ad": (
            "AFTER DELETE ON access_teammembership WHEN OLD.object_type = 'case' "
            f"AND NOT {_other_place('OLD', False)}",
            member_removed("OLD"),
        ),
        "risk_portfolio_team_au": (
            "AFTER UPDATE OF object_type, object_id, user_id ON access_teammembership "
            "WHEN OLD.object_type IS NOT NEW.object_type OR OLD.object_id IS NOT NEW.object_id "
            "OR OLD.user_id IS NOT NEW.user_id",
            member_removed(
                "OLD", f"AND OLD.object_type = 'case' AND NOT {_other_place('OLD', False)}"
            )
            + member_added(
                "NEW", f"AND NEW.object_type = 'case' AND NOT {_other_place('NEW', True)}"
            ),
        ),
    }
    for name, (when, statements) in bodies.items():
        execute(f"DROP TRIGGER IF EXISTS {name}")
        body = "; ".join(statements)
        execute(f"CREATE TRIGGER {name} {when} BEGIN {body}; END")


def _pg(execute: Execute) -> None:
    changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in COUNTED)
    removed = "; ".join(assessment_removed("OLD"))
    added = "; ".join(assessment_added("NEW"))
    execute(
        "CREATE OR REPLACE FUNCTION haven_risk_portfolio_count() RETURNS trigger AS $$ BEGIN "
        "IF TG_OP = 'UPDATE' THEN "
        f"  IF NOT (OLD.is_current OR NEW.is_current) OR NOT ({changed}) THEN RETURN NULL; "
        "  END IF; END IF; "
        f"IF TG_OP <> 'INSERT' THEN IF OLD.is_current THEN {removed}; END IF; END IF; "
        f"IF TG_OP <> 'DELETE' THEN IF NEW.is_current THEN {added}; END IF; END IF; "
        "RETURN NULL; END; $$ LANGUAGE plpgsql"
    )
    execute("DROP TRIGGER IF EXISTS risk_portfolio_count ON risk_riskassessment")
    execute(
        "CREATE TRIGGER risk_portfolio_count AFTER INSERT OR UPDATE OR DELETE "
        "ON risk_riskassessment FOR EACH ROW EXECUTE FUNCTION haven_risk_portfolio_count()"
    )
    # BEFORE each row: a statement's earlier rows are visible, its later ones not yet.
    moved = "OLD.object_type <> NEW.object_type OR OLD.object_id <> NEW.object_id " + (
        "OR OLD.user_id <> NEW.user_id"
    )
    execute(
        "CREATE OR REPLACE FUNCTION haven_risk_portfolio_team() RETURNS trigger AS $$ BEGIN "
        "IF TG_OP = 'UPDATE' THEN IF NOT (" + moved + ") THEN RETURN NEW; END IF; END IF; "
        "IF TG_OP <> 'INSERT' THEN "
        f"  IF OLD.object_type = 'case' AND NOT {_other_place('OLD', True)} THEN "
        f"    {'; '.join(member_removed('OLD'))}; END IF; END IF; "
        "IF TG_OP <> 'DELETE' THEN "
        f"  IF NEW.object_type = 'case' AND NOT {_other_place('NEW', True)} THEN "
        f"    {'; '.join(member_added('NEW'))}; END IF; "
        "  RETURN NEW; END IF; "
        "RETURN OLD; END; $$ LANGUAGE plpgsql"
    )
    execute("DROP TRIGGER IF EXISTS risk_portfolio_team ON access_teammembership")
    execute(
        "CREATE TRIGGER risk_portfolio_team BEFORE INSERT OR UPDATE OR DELETE "
        "ON access_teammembership FOR EACH ROW EXECUTE FUNCTION haven_risk_portfolio_team()"
    )


def install(execute: Execute, vendor: str) -> None:
    """Create (or replace) the triggers; idempotent."""
    if vendor == "sqlite":
        _sqlite(execute)
    elif vendor == "postgresql":
        _pg(execute)


def uninstall(execute: Execute, vendor: str) -> None:
    """Drop the triggers (migrating back past the count table: left behind, they would write
    to a table that is gone and every assessment or team change would fail)."""
    if vendor == "sqlite":
        for names in SQLITE_TRIGGERS.values():
            for name in names:
                execute(f"DROP TRIGGER IF EXISTS {name}")
    elif vendor == "postgresql":
        for table, names in PG_TRIGGERS.items():
            for name in names:
                execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        execute("DROP FUNCTION IF EXISTS haven_risk_portfolio_count()")
        execute("DROP FUNCTION IF EXISTS haven_risk_portfolio_team()")


def rebuild(execute: Execute) -> None:
    """Recount every row from the teams and current assessments (the migration's backfill)."""
    execute(f"DELETE FROM {TABLE}")
    execute(
        f"INSERT INTO {TABLE} ({KEY}, n) "
        f"SELECT m.user_id, {_values('a')}, COUNT(*) FROM risk_riskassessment a "
        "JOIN (SELECT DISTINCT user_id, object_id FROM access_teammembership "
        "WHERE object_type = 'case') m ON m.object_id = a.case_id "
        "WHERE a.is_current "
        "GROUP BY m.user_id, a.classification, a.band, a.residual_likelihood, "
        f"a.residual_impact, a.threat_to_life, COALESCE(a.next_review_on, {NO_DATE})"
    )


def missing(connection: BaseDatabaseWrapper) -> list[str]:
    """The triggers absent (or disabled) on tables that exist."""
    from haven.audit.triggers import _present_triggers

    by_vendor: dict[str, dict[str, tuple[str, ...]]] = {
        "sqlite": SQLITE_TRIGGERS,
        "postgresql": PG_TRIGGERS,
    }
    expected = by_vendor.get(connection.vendor, {})
    tables = set(connection.introspection.table_names())
    if TABLE not in tables:
        return []
    present = _present_triggers(connection)
    return [
        f"{name} on {table}"
        for table, names in expected.items()
        if table in tables
        for name in names
        if (table, name) not in present
    ]
