"""Audit access rules for the access matrix (tests/access/test_access_matrix.py).

- The ledger's latest signed checkpoint: anyone, without a session (a size and a hash, no
  personal data; outsiders fetch it to pin). The ledger search itself is stated in cases.
"""

from __future__ import annotations

from tests.access.rules import Rule, anyone

WEB_POLICY: dict[str, Rule] = {"ledger:checkpoint": anyone}

SESSIONLESS = {"ledger:checkpoint"}

API_POLICY: dict[tuple[str, str], Rule] = {}
