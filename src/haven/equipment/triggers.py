"""The chain of custody is append-only (triggers installed by migration 0002)."""

from __future__ import annotations

from haven.audit.triggers import AppendOnly

CUSTODY = AppendOnly(tables=("equipment_custodyevent",), function="haven_custody_append_only")
APPEND_ONLY_TABLES = CUSTODY.tables
install = CUSTODY.install
drop_for_test_reset = CUSTODY.drop_for_test_reset
