"""Access rules for the administration module (see tests/access/rules.py): every page and
operation is the administrators' and nobody else's. The matrix fills `user_id` with the
actor's own account, on which every change is refused (a 302 back to the page, or a 422)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from haven.accounts.models import Qualification
from haven.accounts.roles import Module
from tests.access.rules import Rule, module
from tests.factories import UserFactory

administrators = module(Module.ADMINISTRATION)

WEB_POLICY: dict[str, Rule] = {
    name: administrators
    for name in (
        "administration:accounts",
        "administration:new_account",
        "administration:account",
        "administration:change_access",
        "administration:vetting",
        "administration:add_qualification",
        "administration:remove_qualification",
        "administration:deactivate",
        "administration:reactivate",
        "administration:unlock_account",
        "administration:access_review",
    )
}

API_POLICY: dict[tuple[str, str], Rule] = {
    key: administrators
    for key in (
        ("GET", "/api/accounts"),
        ("POST", "/api/accounts"),
        ("GET", "/api/accounts/{user_id}"),
        ("POST", "/api/accounts/{user_id}/access"),
        ("GET", "/api/accounts/{user_id}/deactivation"),
        ("POST", "/api/accounts/{user_id}/deactivate"),
        ("POST", "/api/accounts/{user_id}/reactivate"),
        ("POST", "/api/accounts/{user_id}/unlock"),
        ("PUT", "/api/accounts/{user_id}/vetting"),
        ("POST", "/api/accounts/{user_id}/qualifications"),
        ("DELETE", "/api/accounts/{user_id}/qualifications/{qualification_id}"),
        ("GET", "/api/access-review"),
        ("POST", "/api/access-review/confirmations"),
    )
}

PARAMS = {"qualification_id": lambda world, inside: str(world["qualification"].pk)}


def build(world: dict[str, Any]) -> None:
    world["qualification"] = Qualification.objects.create(
        user=UserFactory(),
        kind="training",
        title="Information management",
        held_from=dt.date(2026, 1, 1),
    )
