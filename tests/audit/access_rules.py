"""Audit access rules for the access matrix (tests/access/test_access_matrix.py).

- Opening one ledger entry (its sealed reason and details): auditors only, on any entry (the
  audit module has no team, so inside and outside are the same).
- The ledger's latest signed checkpoint: anyone, without a session (a size and a hash, no
  personal data; outsiders fetch it to pin). The ledger search itself is stated in cases.
"""

from __future__ import annotations

import base64
from typing import Any

from haven.accounts.roles import Module
from haven.audit import ledger
from haven.audit.checkpoint import generate_signing_key, sign_checkpoint, utc_timestamp
from haven.audit.merkle import EMPTY_ROOT
from haven.audit.models import Action, Checkpoint
from haven.concurrency.transactions import service_transaction
from tests.access.rules import Rule, anyone, module

auditors: Rule = module(Module.AUDIT)

WEB_POLICY: dict[str, Rule] = {"audit:entry": auditors, "ledger:checkpoint": anyone}

SESSIONLESS = {"ledger:checkpoint"}

API_POLICY: dict[tuple[str, str], Rule] = {("GET", "/api/audit/entries/{entry_id}"): auditors}


def sealed_entry(world: dict[str, Any], inside: bool) -> str:
    return str(world["ledger_entry"])


PARAMS = {"entry_id": sealed_entry}


def build(world: dict[str, Any]) -> None:
    """A sealed entry to open, and a signed checkpoint to publish (the view answers 404 before
    the first one)."""
    with service_transaction():
        entry = ledger.record(
            actor=None,
            action=Action.CONSULTATION,
            object_type="matrix",
            object_id="sealed",
            justification="matrix sealed reason",
        )
    world["ledger_entry"] = entry.pk
    checkpoint = sign_checkpoint(
        generate_signing_key(), 0, EMPTY_ROOT, utc_timestamp(), "matrix.invalid/ledger"
    )
    Checkpoint.objects.create(
        origin=checkpoint.origin,
        tree_size=0,
        root_hash=EMPTY_ROOT.hex(),
        signed_at=checkpoint.timestamp,
        key_id=checkpoint.key_id,
        signature=base64.b64encode(checkpoint.signature).decode("ascii"),
    )
