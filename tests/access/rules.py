"""Building blocks for the access matrix (tests/access/test_access_matrix.py).

Each domain states its rules in `tests/<app>/access_rules.py`:

- WEB_POLICY: {url name: rule}; API_POLICY: {(METHOD, "/api/path/{param}"): rule}
- PARAMS: {path parameter name: value(world, inside) -> str}
- build(world): add the domain's inside/outside objects to `world`, and protected plaintext to
  world["secrets_inside"] / world["secrets_outside"] (never to appear where access is denied)
- optional SAMPLE_PAYLOADS: {(METHOD, path): payload(world) -> dict}, NOT_POSTED: {url name}
- optional SESSIONLESS: {url name or (METHOD, path)} reached without a session or token (a
  device receiver, a feed whose secret is in its URL). Everything else must send an anonymous
  or password-only visitor to sign in (web) or answer 401 (API); these are judged by their rule
  instead, which must therefore not depend on who asks.

A rule answers: may this actor reach the endpoint for the object inside (True) or outside (False)
their team? Every endpoint must have a rule, so a new endpoint cannot ship unchecked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from haven.accounts.models import User


@dataclass(frozen=True)
class Actor:
    role: str
    user: User
    team_role: str | None  # place on the inside case's team, or None


Rule = Callable[[Actor, bool], bool]


def anyone(actor: Actor, inside: bool) -> bool:
    return True


def module(name: str) -> Rule:
    return lambda actor, inside: actor.user.can_use(name)


def role(*names: str) -> Rule:
    return lambda actor, inside: actor.user.has_role(*names)


def role_and_inside(*names: str) -> Rule:
    """Module role plus membership of the inside object's team (set up by the domain's build)."""
    return lambda actor, inside: inside and actor.user.has_role(*names)
