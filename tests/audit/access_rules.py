"""Audit access rules for the access matrix (tests/access/test_access_matrix.py).

- The ledger's latest signed checkpoint: anyone, without a session (a size and a hash, no
  personal data; outsiders fetch it to pin). The ledger search itself is stated in cases.
"""

from __future__ import annotations

import base64
from typing import Any

from haven.audit.checkpoint import generate_signing_key, sign_checkpoint, utc_timestamp
from haven.audit.merkle import EMPTY_ROOT
from haven.audit.models import Checkpoint
from tests.access.rules import Rule, anyone

WEB_POLICY: dict[str, Rule] = {"ledger:checkpoint": anyone}

SESSIONLESS = {"ledger:checkpoint"}

API_POLICY: dict[tuple[str, str], Rule] = {}


def build(world: dict[str, Any]) -> None:
    """A signed checkpoint to publish (the view answers 404 before the first one)."""
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
