"""Statutory time limits: working-day calendars, versioned rules and deadline arithmetic."""

from haven.timelimits.calendar import (
    JURISDICTIONS,
    Jurisdiction,
    add_working_days,
    easter_sunday,
    is_working_day,
    working_days_between,
)
from haven.timelimits.rules import (
    RULES,
    Deadline,
    Kind,
    Registry,
    Starts,
    TimeLimitRule,
    add_months,
    build_registry,
    compute_deadline,
    compute_due_at,
    get_rule,
    is_in_time,
    recurring_due_dates,
    rule_in_force,
)

__all__ = [
    "JURISDICTIONS",
    "RULES",
    "Deadline",
    "Jurisdiction",
    "Kind",
    "Registry",
    "Starts",
    "TimeLimitRule",
    "add_months",
    "add_working_days",
    "build_registry",
    "compute_deadline",
    "compute_due_at",
    "easter_sunday",
    "get_rule",
    "is_in_time",
    "is_working_day",
    "recurring_due_dates",
    "rule_in_force",
    "working_days_between",
]
