"""Access rules for opening one ledger entry (see tests/access/rules.py): auditors only, on any
entry (the audit module has no team, so inside and outside are the same)."""

from __future__ import annotations

from typing import Any

from haven.accounts.roles import Module
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service_transaction
from tests.access.rules import Rule, module

auditors: Rule = module(Module.AUDIT)

WEB_POLICY: dict[str, Rule] = {"audit:entry": auditors}

API_POLICY: dict[tuple[str, str], Rule] = {("GET", "/api/audit/entries/{entry_id}"): auditors}


def sealed_entry(world: dict[str, Any], inside: bool) -> str:
    return str(world["ledger_entry"])


PARAMS = {"entry_id": sealed_entry}


def build(world: dict[str, Any]) -> None:
    with service_transaction():
        entry = ledger.record(
            actor=None,
            action=Action.CONSULTATION,
            object_type="matrix",
            object_id="sealed",
            justification="matrix sealed reason",
        )
    world["ledger_entry"] = entry.pk
