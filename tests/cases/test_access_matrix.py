"""Every URL pattern and API operation, tried as every role on a case inside and outside the
user's team. A new endpoint without an entry in the policy tables below fails this test, so
nothing ships without its access rule being stated and checked."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from haven.access.models import TeamRole
from haven.accounts import services as account_services
from haven.accounts.models import User
from haven.accounts.roles import Clearance, Module, Role
from haven.api import api
from haven.cases import services as case_services
from tests.factories import UserFactory, force_sign_in, make_case

SECRET_NAME_INSIDE = "Quentin Insidecase"
SECRET_NAME_OUTSIDE = "Rosalind Outsidecase"


@dataclass(frozen=True)
class Actor:
    role: str
    user: User
    team_role: str | None  # on the inside case's team, or None


Rule = Callable[[Actor, bool], bool]


def anyone(actor: Actor, inside: bool) -> bool:
    return True


def module(name: str) -> Rule:
    return lambda actor, inside: actor.user.can_use(name)


def case_team(actor: Actor, inside: bool) -> bool:
    return actor.user.can_use(Module.PROTECTION) and inside and actor.team_role is not None


def identity_compartment(actor: Actor, inside: bool) -> bool:
    return case_team(actor, inside) and actor.user.has_role(Role.IDENTITY_OFFICER)


def case_manager(actor: Actor, inside: bool) -> bool:
    return case_team(actor, inside) and actor.team_role == TeamRole.MANAGER


def manager_role(actor: Actor, inside: bool) -> bool:
    return actor.user.has_role(Role.PROTECTION_MANAGER)


PUBLIC = {"accounts:login", "accounts:verify", "accounts:enrol", "healthz"}
NOT_POSTED = {"accounts:logout", "accounts:logout_everywhere"}  # would end the test's session

WEB_POLICY: dict[str, Rule] = {
    "web:home": anyone,
    "accounts:profile": anyone,
    "accounts:revoke_token": anyone,
    "accounts:logout": anyone,
    "accounts:logout_everywhere": anyone,
    "web:operations": module(Module.OPERATIONS),
    "web:oversight": module(Module.OVERSIGHT),
    "web:administration": module(Module.ADMINISTRATION),
    "web:unlock_account": module(Module.ADMINISTRATION),
    "cases:purpose": module(Module.PROTECTION),
    "cases:clear_purpose": module(Module.PROTECTION),
    "cases:list": module(Module.PROTECTION),
    "cases:break_glass": manager_role,
    "cases:detail": case_team,
    "cases:identity": identity_compartment,
    "cases:team": case_manager,
    "audit:ledger": module(Module.AUDIT),
}

API_POLICY: dict[tuple[str, str], Rule] = {
    ("GET", "/api/me"): anyone,
    ("GET", "/api/cases"): module(Module.PROTECTION),
    ("GET", "/api/cases/{case_id}"): case_team,
    ("PATCH", "/api/cases/{case_id}"): case_team,
    ("GET", "/api/cases/{case_id}/identity"): identity_compartment,
    ("POST", "/api/cases/{case_id}/grants"): case_manager,
    ("POST", "/api/break-glass"): manager_role,
    ("GET", "/api/audit/entries"): module(Module.AUDIT),
}

TEAM_PLACES = {
    Role.PROTECTION_OFFICER: TeamRole.LEAD,
    Role.PROTECTION_MANAGER: TeamRole.MANAGER,
    Role.AUTHORISING_OFFICER: TeamRole.AUTHORISING,
    Role.IDENTITY_OFFICER: TeamRole.OFFICER,
}


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
    return [
        (name, route)
        for name, route in walk(get_resolver().url_patterns)
        if not name.startswith("api:")
    ]


def fill(route: str, case_id: str, actor: Actor, token_id: int) -> str:
    path = (
        route.replace("<uuid:case_id>", case_id)
        .replace("{case_id}", case_id)
        .replace("<int:token_id>", str(token_id))
        .replace("<int:user_id>", str(actor.user.pk))
    )
    return "/" + path.lstrip("/")


@pytest.fixture
def world(db: None) -> dict[str, Any]:
    actors = []
    for role in Role.values:
        roles = [role, Role.PROTECTION_OFFICER] if role == Role.IDENTITY_OFFICER else [role]
        user = UserFactory(roles=roles, clearance=Clearance.TOP_SECRET)
        actors.append(Actor(role, user, TEAM_PLACES.get(role)))
    lead = next(a.user for a in actors if a.role == Role.PROTECTION_OFFICER)
    inside = make_case(lead, name=SECRET_NAME_INSIDE)
    for actor in actors:
        if actor.team_role:
            case_services.add_member(inside, actor.user, actor.team_role)
    stranger = UserFactory(roles=[Role.PROTECTION_OFFICER], clearance=Clearance.TOP_SECRET)
    outside = make_case(stranger, name=SECRET_NAME_OUTSIDE)
    case_services.record_identity(
        next(a.user for a in actors if a.role == Role.IDENTITY_OFFICER),
        inside.pk,
        legacy_name="Legacy Person",
        new_name="Newname Person",
    )
    return {"actors": actors, "inside": inside, "outside": outside}


def test_every_web_url_has_a_stated_policy():
    missing = [name for name, _ in web_patterns() if name not in WEB_POLICY and name not in PUBLIC]
    assert not missing, f"state the access rule for these URLs in WEB_POLICY: {missing}"


def test_every_api_operation_has_a_stated_policy():
    schema = api.get_openapi_schema()
    operations = {
        (method.upper(), "/api" + path if not path.startswith("/api") else path)
        for path, methods in schema["paths"].items()
        for method in methods
    }
    missing = operations - set(API_POLICY)
    assert not missing, f"state the access rule for these API operations in API_POLICY: {missing}"


def sample_payload(key: tuple[str, str], world: dict[str, Any]) -> dict[str, Any]:
    """A valid body, so that validation cannot answer before the access check does."""
    samples: dict[tuple[str, str], dict[str, Any]] = {
        ("PATCH", "/api/cases/{case_id}"): {"version": 1, "reason": "matrix"},
        ("POST", "/api/cases/{case_id}/grants"): {
            "username": world["actors"][0].user.username,
            "reason": "matrix",
            "days": 1,
        },
        ("POST", "/api/break-glass"): {
            "reference": world["outside"].reference,
            "reason": "matrix",
        },
    }
    return samples.get(key, {})


def expectation(allowed: bool) -> str:
    return "allowed" if allowed else "denied"


def denied_status(status: int) -> bool:
    return status in (403, 404)


def test_web_access_matrix(world):
    problems = []
    for actor in world["actors"]:
        client = force_sign_in(Client(), actor.user)
        session = client.session
        session["haven_purpose"] = "case_management"
        session.save()
        token, _ = account_services.issue_api_token(actor.user, "matrix")
        for name, route in web_patterns():
            if name in PUBLIC:
                continue
            for inside in (True, False):
                case = world["inside"] if inside else world["outside"]
                path = fill(route, str(case.pk), actor, token.pk)
                allowed = WEB_POLICY[name](actor, inside)
                methods = ["GET"] if name in NOT_POSTED else ["GET", "POST"]
                for method in methods:
                    session = client.session
                    session["haven_purpose"] = "case_management"
                    session.save()
                    response = client.get(path) if method == "GET" else client.post(path, {})
                    body = response.content.decode(errors="replace")
                    leaked = SECRET_NAME_OUTSIDE in body or (
                        not allowed and SECRET_NAME_INSIDE in body
                    )
                    wrong = (
                        leaked
                        or (allowed and denied_status(response.status_code))
                        or (
                            not allowed
                            and not denied_status(response.status_code)
                            and response.status_code != 405
                        )
                        or response.status_code >= 500
                    )
                    if wrong:
                        problems.append(
                            f"{actor.role} {method} {name} {'inside' if inside else 'outside'}: "
                            f"{response.status_code} (expected {expectation(allowed)})"
                        )
                    if "revoke" in name and method == "POST":
                        token, _ = account_services.issue_api_token(actor.user, "matrix")
    assert not problems, "\n".join(problems)


def test_api_access_matrix(world):
    schema = api.get_openapi_schema()
    problems = []
    for actor in world["actors"]:
        _, secret = account_services.issue_api_token(actor.user, "matrix")
        client = Client(
            HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="case_management"
        )
        for path, methods in schema["paths"].items():
            for method in methods:
                key = (method.upper(), path)
                for inside in (True, False):
                    case = world["inside"] if inside else world["outside"]
                    url = fill(path, str(case.pk), actor, 0)
                    payload = json.dumps(sample_payload(key, world))
                    response = client.generic(
                        method.upper(), url, payload, content_type="application/json"
                    )
                    allowed = API_POLICY[key](actor, inside)
                    body = response.content.decode(errors="replace")
                    leaked = SECRET_NAME_OUTSIDE in body or (
                        not allowed and SECRET_NAME_INSIDE in body
                    )
                    refused = response.status_code in (403, 404)
                    broken = response.status_code == 405 or response.status_code >= 500
                    if leaked or refused == allowed or broken:
                        problems.append(
                            f"{actor.role} {method.upper()} {path} "
                            f"{'inside' if inside else 'outside'}: "
                            f"{response.status_code} (expected {expectation(allowed)})"
                        )
    assert not problems, "\n".join(problems)
