"""Every URL pattern and API operation, tried as every role on objects inside and outside the
user's team, and as two outsiders: an anonymous visitor and a user who gave the password but not
the second factor. The rules live beside each domain's tests (`tests/<app>/access_rules.py`, see
tests/access/rules.py); an endpoint without a stated rule fails this test.

One test item per URL and per API operation, so that xdist can share them between workers. The
world (users, sessions, tokens, every domain's inside and outside objects) is built once per
module and worker inside a transaction that is rolled back at the end; each test runs in a
savepoint of it (pytest-django's `db`), and each request in a savepoint of its own, so no request
sees what an earlier one changed.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

import tests
from haven.accounts import services as account_services
from haven.accounts.middleware import EPOCH
from haven.accounts.roles import Clearance, Role
from haven.api import api
from tests.access.rules import Actor, Rule
from tests.cases.access_rules import TEAM_PLACES
from tests.db import rolled_back
from tests.factories import PASSWORD, UserFactory, force_sign_in

PUBLIC = {
    "accounts:login",
    "accounts:verify",
    "accounts:enrol",
    "accounts:verify_recovery",
    "accounts:passkey_verify_begin",
    "accounts:passkey_verify_complete",
    "accounts:passkey_strings",
    "accounts:reset_password",
    "accounts:password_strength",
    "healthz",
}
# django-ninja's own pages (the API's description and its root): no protected data, so they
# are only checked for leaks; every other route in the API's namespace must be an operation.
API_PAGES = {"api:openapi-json", "api:openapi-view", "api:api-root"}
SIGN_IN_PAGES = ("/accounts/login/", "/accounts/verify/")


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
SESSIONLESS = {key for m in MODULES for key in getattr(m, "SESSIONLESS", set())}
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>|\{(\w+)\}")
UNNAMED = "<unnamed>"


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> list[tuple[str, str]]:
    """(namespaced name, route) of every pattern; an unnamed one cannot be given a rule, so it
    is listed under UNNAMED and fails the policy test."""
    found = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner_namespace = entry.namespace or namespace
            found += walk(entry.url_patterns, prefix + str(entry.pattern), inner_namespace)
        elif isinstance(entry, URLPattern):
            name = entry.name or UNNAMED
            name = f"{namespace}:{name}" if namespace else name
            found.append((name, prefix + str(entry.pattern)))
    return found


def all_patterns() -> list[tuple[str, str]]:
    return walk(get_resolver().url_patterns)


def web_patterns() -> list[tuple[str, str]]:
    return [(n, r) for n, r in all_patterns() if not n.startswith("api:")]


def api_operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [(m.upper(), path) for path, methods in schema["paths"].items() for m in methods]


def as_openapi_path(route: str) -> str:
    return "/" + PARAMETER.sub(lambda m: "{" + (m.group(1) or m.group(2)) + "}", route).lstrip("/")


# Collected once, in a fixed order, so that every xdist worker collects the same items.
WEB_ROUTES = {name: route for name, route in web_patterns() if name not in PUBLIC}
API_OPERATIONS = api_operations()
API_PAGE_ROUTES = {name: route for name, route in all_patterns() if name in API_PAGES}


def test_every_web_url_has_a_stated_policy():
    missing = [f"{n} ({r})" for n, r in web_patterns() if n not in WEB_POLICY and n not in PUBLIC]
    assert not missing, f"state the access rule for these URLs in an access_rules.py: {missing}"


def test_every_api_operation_has_a_stated_policy():
    missing = set(api_operations()) - set(API_POLICY)
    assert not missing, f"state the access rule for these API operations: {missing}"


def test_every_route_in_the_api_namespace_is_an_operation():
    """A view slipped into the API's namespace is neither a web URL nor an operation: refuse it."""
    operations = {path for _, path in api_operations()}
    stray = [
        f"{n} ({r})"
        for n, r in all_patterns()
        if n.startswith("api:") and n not in API_PAGES and as_openapi_path(r) not in operations
    ]
    assert not stray, f"routes under the API that are not OpenAPI operations: {stray}"


def test_every_stated_policy_names_an_endpoint():
    """A rule for an endpoint that no longer exists hides a renamed one from review."""
    stale = sorted(set(WEB_POLICY) - {n for n, _ in web_patterns()})
    stale += sorted(f"{m} {p}" for m, p in set(API_POLICY) - set(api_operations()))
    stale += sorted(str(key) for key in SESSIONLESS - set(WEB_POLICY) - set(API_POLICY))
    assert not stale, f"rules for endpoints that do not exist: {stale}"


# ------------------------------------------------------------------------------ the world


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    with django_db_blocker.unblock(), rolled_back():
        yield build_world()


def build_world() -> dict[str, Any]:
    actors = []
    for code in Role.values:
        roles = [code, Role.PROTECTION_OFFICER] if code == Role.IDENTITY_OFFICER else [code]
        user = UserFactory(roles=roles, clearance=Clearance.TOP_SECRET)
        actors.append(Actor(code, user, TEAM_PLACES.get(code)))
    world: dict[str, Any] = {"actors": actors, "secrets_inside": [], "secrets_outside": []}
    for module in MODULES:
        if hasattr(module, "build"):
            module.build(world)
    # Sessions and tokens, made once: each request runs in a savepoint, so none of them is
    # ever used up (a revoked token, a cleared purpose, a signed-out session).
    world["tokens"] = {}
    world["web"], world["api"], world["password_only"] = {}, {}, {}
    for actor in actors:
        pk = actor.user.pk
        world["web"][pk] = session_of(force_sign_in(Client(), actor.user), purpose=True)
        world["tokens"][pk] = account_services.issue_api_token(
            actor.user, "matrix revoke", modules=actor.user.modules, can_write=True
        )[0].pk
        _, secret = account_services.issue_api_token(
            actor.user, "matrix", modules=actor.user.modules, can_write=True
        )
        world["api"][pk] = Client(
            HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="case_management"
        )
        world["password_only"][pk] = [
            ("password given, code not", session_of(password_given(actor.user), purpose=True)),
            (
                "signed in without a second factor",
                session_of(without_second_factor(actor.user), purpose=True),
            ),
        ]
    world["anonymous"] = (Client(), None)
    return world


def session_of(client: Client, purpose: bool = False) -> tuple[Client, str]:
    session = client.session
    if purpose:
        session["haven_purpose"] = "case_management"
    session.save()
    return client, session.session_key


def password_given(user: Any) -> Client:
    """The real first step: the password is accepted and the code is not yet given."""
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/verify/"
    return client


def without_second_factor(user: Any) -> Client:
    """A current, authenticated session that never passed the TOTP step (as a bypass would
    leave): everything force_sign_in sets except the verified device."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session[EPOCH] = user.session_epoch
    session.save()
    return client


def send(
    signed: tuple[Client, str | None], method: str, path: str, payload: str | None = None
) -> tuple[HttpResponse, str]:
    """One request in a savepoint of its own, on the session the client was given."""
    client, session_key = signed
    client.cookies.clear()
    if session_key:
        client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    with rolled_back():
        if payload is not None:
            response = client.generic(method, path, payload, content_type="application/json")
        elif method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, {})
        content = b"".join(response.streaming_content) if response.streaming else response.content
    return response, content.decode(errors="replace")


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


def tried(
    route: str, world: dict[str, Any], actor: Actor, owner: Any, rule: Rule
) -> list[tuple[bool, str, bool]]:
    """(inside, path, allowed) for the actor's object inside its team and outside it. A route
    with no object in its path makes the same request, with the same expected answer, both
    times: it is sent once."""
    paths: dict[tuple[str, bool], bool] = {}
    for inside in (True, False):
        paths.setdefault((fill(route, world, actor, inside, owner), rule(actor, inside)), inside)
    return [(inside, path, allowed) for (path, allowed), inside in paths.items()]


def leaks(body: str, world: dict[str, Any], allowed: bool) -> bool:
    if any(secret in body for secret in world["secrets_outside"]):
        return True
    return not allowed and any(secret in body for secret in world["secrets_inside"])


def outsiders(
    world: dict[str, Any], rule: Rule
) -> Iterator[tuple[str, Actor, tuple[Client, str | None]]]:
    """The anonymous visitor, and the password-only sessions of a user whom the rule lets in
    (so that a missing second-factor check would show them the inside object)."""
    let_in = [a for a in world["actors"] if rule(a, True)] or world["actors"]
    holder = let_in[0]
    yield "anonymous", holder, world["anonymous"]
    for label, signed in world["password_only"][holder.user.pk]:
        yield f"{holder.role} with {label}", holder, signed


def wrong_web_answer(status: int, body: str, world: dict[str, Any], allowed: bool) -> bool:
    """Refusals are 403 or 404 (405 for a method the refused page does not take)."""
    return (
        leaks(body, world, allowed)
        or (allowed and status in (403, 404))
        or (not allowed and status not in (403, 404, 405))
        or status >= 500
    )


def wrong_api_answer(status: int, body: str, world: dict[str, Any], allowed: bool) -> bool:
    """403 and 404 both count as refusals (a wrong module answers 404, a wrong role 403)."""
    refused = status in (403, 404)
    return leaks(body, world, allowed) or refused == allowed or status == 405 or status >= 500


def sent_to_sign_in(response: HttpResponse) -> bool:
    return response.status_code == 302 and response["Location"].startswith(SIGN_IN_PAGES)


def owner_of(key: Any) -> ModuleType:
    if key not in OWNER:
        pytest.fail(f"state the access rule for {key} in an access_rules.py")
    return OWNER[key]


# ------------------------------------------------------------------------------ web


@pytest.mark.parametrize("name", list(WEB_ROUTES))
def test_web_access(name: str, world: dict[str, Any], db: None) -> None:
    route, owner = WEB_ROUTES[name], owner_of(name)
    rule = WEB_POLICY[name]
    methods = ["GET"] if name in NOT_POSTED else ["GET", "POST"]
    problems = []
    for actor in world["actors"]:
        for inside, path, allowed in tried(route, world, actor, owner, rule):
            for method in methods:
                response, body = send(world["web"][actor.user.pk], method, path)
                status = response.status_code
                if wrong_web_answer(status, body, world, allowed):
                    where = "inside" if inside else "outside"
                    expected = "allowed" if allowed else "denied"
                    problems.append(
                        f"{actor.role} {method} {name} {where}: {status} (expected {expected})"
                    )
    for label, holder, signed in outsiders(world, rule):
        for _, path, holder_allowed in tried(route, world, holder, owner, rule):
            for method in ("GET", "POST"):
                response, body = send(signed, method, path)
                if name in SESSIONLESS:
                    if wrong_web_answer(response.status_code, body, world, holder_allowed):
                        problems.append(f"{label} {method} {path}: {response.status_code}")
                elif not sent_to_sign_in(response) or leaks(body, world, allowed=False):
                    where = response.get("Location", "")
                    problems.append(
                        f"{label} {method} {path}: {response.status_code} {where} "
                        "(expected a redirect to sign in, showing nothing)"
                    )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(API_PAGE_ROUTES))
def test_api_pages_show_no_protected_data(name: str, world: dict[str, Any], db: None) -> None:
    path = "/" + API_PAGE_ROUTES[name].lstrip("/")
    for label, _, signed in outsiders(world, lambda actor, inside: True):
        response, body = send(signed, "GET", path)
        assert response.status_code < 500 and not leaks(body, world, allowed=False), label


# ------------------------------------------------------------------------------ API


@pytest.mark.parametrize(
    ("method", "path"), API_OPERATIONS, ids=[f"{m} {p}" for m, p in API_OPERATIONS]
)
def test_api_access(method: str, path: str, world: dict[str, Any], db: None) -> None:
    owner = owner_of((method, path))
    rule = API_POLICY[(method, path)]
    # A valid body, so that validation cannot answer before the access check does.
    sample = SAMPLES.get((method, path))
    payload = json.dumps(sample(world) if sample else {})
    problems = []
    for actor in world["actors"]:
        for inside, url, allowed in tried(path, world, actor, owner, rule):
            response, body = send((world["api"][actor.user.pk], None), method, url, payload)
            if wrong_api_answer(response.status_code, body, world, allowed):
                where = "inside" if inside else "outside"
                expected = "allowed" if allowed else "denied"
                problems.append(
                    f"{actor.role} {method} {path} {where}: {response.status_code} "
                    f"(expected {expected})"
                )
    # The API takes tokens only: no session, full or half, and no credentials at all, opens it.
    for label, holder, signed in outsiders(world, rule):
        for _, url, holder_allowed in tried(path, world, holder, owner, rule):
            response, body = send(signed, method, url, payload)
            if (method, path) in SESSIONLESS:
                if wrong_api_answer(response.status_code, body, world, holder_allowed):
                    problems.append(f"{label} {method} {url}: {response.status_code}")
            elif response.status_code != 401 or leaks(body, world, allowed=False):
                problems.append(
                    f"{label} {method} {url}: {response.status_code} "
                    "(expected 401, showing nothing)"
                )
    assert not problems, "\n".join(problems)
