"""The decision log and the workflow and status histories are append-only (migration 0002)."""

from __future__ import annotations

from haven.audit.triggers import AppendOnly

HISTORIES = AppendOnly(
    tables=("risk_decisionlogentry", "risk_measurestatuschange", "risk_assessmentevent"),
    function="haven_risk_append_only",
)
APPEND_ONLY_TABLES = HISTORIES.tables
install = HISTORIES.install
drop = HISTORIES.drop
drop_for_test_reset = HISTORIES.drop_for_test_reset
