from __future__ import annotations

from haven.accounts.roles import Module
from tests.access.rules import Rule, module

WEB_POLICY: dict[str, Rule] = {"risk:home": module(Module.PROTECTION)}
API_POLICY: dict[tuple[str, str], Rule] = {}
