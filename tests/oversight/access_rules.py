from __future__ import annotations

from haven.accounts.roles import Module
from tests.access.rules import Rule, module

WEB_POLICY: dict[str, Rule] = {"oversight:home": module(Module.OVERSIGHT)}
API_POLICY: dict[tuple[str, str], Rule] = {}
