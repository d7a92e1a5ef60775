"""Access rules for opening one ledger entry (see tests/access/rules.py): auditors only, on any
entry (the audit module has no team, so inside and outside are the same)."""

from __future__ import annotations

from typing import Any

from haven.accounts.roles import Module
from haven.audit.models import LedgerEntry
from tests.access.rules import Rule, module

auditors: Rule = module(Module.AUDIT)

WEB_POLICY: dict[str, Rule] = {"audit:entry": auditors}

API_POLICY: dict[tuple[str, str], Rule] = {("GET", "/api/audit/entries/{entry_id}"): auditors}


def first_entry(world: dict[str, Any], inside: bool) -> str:
    return str(world["ledger_entry"])


PARAMS = {"entry_id": first_entry}


def build(world: dict[str, Any]) -> None:
    world["ledger_entry"] = LedgerEntry.objects.order_by("id").values_list("id", flat=True).first()
