"""Every URL pattern and API operation, tried as every role on objects inside and outside the
user's team. The rules live beside each domain's tests (`tests/<app>/access_rules.py`, see
tests/access/rules.py); an endpoint without a stated rule fails this test."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

import tests
from haven.accounts import services as account_services
from haven.accounts.roles import Clearance, Role
from haven.api import api
from tests.access.rules import Actor
from tests.cases.access_rules import TEAM_PLACES
from tests.factories import UserFactory, force_sign_in

PUBLIC = {"accounts:login", "accounts:verify", "accounts:enrol", "healthz"}


def rule_modules() -> list[ModuleType]:
    found = []
    for package in pkgutil.iter_modules([str(Path(tests.__file__).parent)]):
        if (
            package.ispkg
            and (Path(tests.__file__).parent / package.name / "access_rules.py").exists()
        ):
            found.append(importlib.import_module(f"tests.{package.name}.access_rules"))
    return found


MODULES = rule_modules()
WEB_POLICY = {name: rule for m in MODULES for name, rule in m.WEB_POLICY.items()}
API_POLICY = {key: rule for m in MODULES for key, rule in m.API_POLICY.items()}
# Path parameters are resolved by the module that states the endpoint's rule, so two domains
# may use the same parameter name for different objects.
SHARED_PARAMS = {n: maker for m in MODULES for n, maker in getattr(m, "PARAMS", {}).items()}
OWNER = {name: m for m in MODULES for name in m.WEB_POLICY} | {
    key: m for m in MODULES for key in m.API_POLICY
}
SAMPLES = {k: v for m in MODULES for k, v in getattr(m, "SAMPLE_PAYLOADS", {}).items()}
NOT_POSTED = {name for m in MODULES for name in getattr(m, "NOT_POSTED", set())}
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\{(\w+)\}")


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner_namespace = entry.namespace or namespace
            found += walk(entry.url_patterns, prefix + str(entry.pattern), inner_namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            found.append((name, prefix + str(entry.pattern)))
    return found


def web_patterns() -> list[tuple[str, str]]:
    return [(n, r) for n, r in walk(get_resolver().url_patterns) if not n.startswith("api:")]


def api_operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [(m.upper(), path) for path, methods in schema["paths"].items() for m in methods]


def fill(route: str, world: dict[str, Any], actor: Actor, inside: bool, owner: Any) -> str:
    params = SHARED_PARAMS | getattr(owner, "PARAMS", {})

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name == "token_id":
            return str(world["tokens"][actor.user.pk])
        if name == "user_id":
            return str(actor.user.pk)
        if name not in params:
            raise AssertionError(f"no PARAMS entry for {name!r} in {owner.__name__} ({route})")
        return params[name](world, inside)

    return "/" + PARAMETER.sub(value, route).lstrip("/")


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    actors = []
    for code in Role.values:
        roles = [code, Role.PROTECTION_OFFICER] if code == Role.IDENTITY_OFFICER else [code]
        user = UserFactory(roles=roles, clearance=Clearance.TOP_SECRET)
        actors.append(Actor(code, user, TEAM_PLACES.get(code)))
    world: dict[str, Any] = {"actors": actors, "secrets_inside": [], "secrets_outside": []}
    for module in MODULES:
        if hasattr(module, "build"):
            module.build(world)
    return world


def leaks(body: str, world: dict[str, Any], allowed: bool) -> bool:
    if any(secret in body for secret in world["secrets_outside"]):
        return True
    return not allowed and any(secret in body for secret in world["secrets_inside"])


def test_every_web_url_has_a_stated_policy():
    missing = [n for n, _ in web_patterns() if n not in WEB_POLICY and n not in PUBLIC]
    assert not missing, f"state the access rule for these URLs in an access_rules.py: {missing}"


def test_every_api_operation_has_a_stated_policy():
    missing = set(api_operations()) - set(API_POLICY)
    assert not missing, f"state the access rule for these API operations: {missing}"


def set_purpose(client: Client) -> None:
    session = client.session
    session["haven_purpose"] = "case_management"
    session.save()


def test_web_access_matrix(world):
    problems = []
    for actor in world["actors"]:
        client = force_sign_in(Client(), actor.user)
        for name, route in web_patterns():
            if name in PUBLIC:
                continue
            for inside in (True, False):
                methods = ["GET"] if name in NOT_POSTED else ["GET", "POST"]
                for method in methods:
                    token, _ = account_services.issue_api_token(actor.user, "matrix")
                    world.setdefault("tokens", {})[actor.user.pk] = token.pk
                    path = fill(route, world, actor, inside, OWNER[name])
                    set_purpose(client)
                    response = client.get(path) if method == "GET" else client.post(path, {})
                    allowed = WEB_POLICY[name](actor, inside)
                    status = response.status_code
                    wrong = (
                        leaks(response.content.decode(errors="replace"), world, allowed)
                        or (allowed and status in (403, 404))
                        or (not allowed and status not in (403, 404, 405))
                        or status >= 500
                    )
                    if wrong:
                        where = "inside" if inside else "outside"
                        expected = "allowed" if allowed else "denied"
                        problems.append(
                            f"{actor.role} {method} {name} {where}: {status} (expected {expected})"
                        )
    assert not problems, "\n".join(problems)


def test_api_access_matrix(world):
    problems = []
    for actor in world["actors"]:
        _, secret = account_services.issue_api_token(actor.user, "matrix")
        client = Client(
            HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="case_management"
        )
        for method, path in api_operations():
            for inside in (True, False):
                url = fill(path, world, actor, inside, OWNER[(method, path)])
                # A valid body, so that validation cannot answer before the access check does.
                sample = SAMPLES.get((method, path))
                payload = json.dumps(sample(world) if sample else {})
                response = client.generic(method, url, payload, content_type="application/json")
                allowed = API_POLICY[(method, path)](actor, inside)
                status = response.status_code
                refused = status in (403, 404)
                body = response.content.decode(errors="replace")
                if (
                    leaks(body, world, allowed)
                    or refused == allowed
                    or status == 405
                    or status >= 500
                ):
                    where = "inside" if inside else "outside"
                    expected = "allowed" if allowed else "denied"
                    problems.append(
                        f"{actor.role} {method} {path} {where}: {status} (expected {expected})"
                    )
    assert not problems, "\n".join(problems)
