"""Module gates at the mount points: every URL names its gate, nothing is public unless its
view says so, and each API router answers for its module only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from ninja.responses import NinjaJSONEncoder

from haven.access import gates
from haven.accounts import services as account_services
from haven.accounts.roles import Module, Role
from haven.api import api
from tests.factories import UserFactory

SRC = Path(__file__).resolve().parents[2] / "src" / "haven"

DECLARED_PUBLIC = {
    "healthz",
    "receivers:osmand",
    "receivers:owntracks",
    "accounts:login",
    "accounts:verify",
    "accounts:enrol",
    # the other second factors at sign-in, the passkey script's strings, and redeeming a
    # password reset code (the pending user or the code decides, not a session)
    "accounts:verify_recovery",
    "accounts:passkey_verify_begin",
    "accounts:passkey_verify_complete",
    "accounts:passkey_strings",
    "accounts:reset_password",
    "accounts:password_strength",  # the meter's estimate: the reset page is used signed out
    "ledger:checkpoint",  # the latest signed checkpoint: a size and a hash, for anyone to pin
}


def every_view(
    patterns: list[URLPattern | URLResolver] | None = None, namespace: str = ""
) -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{entry.namespace}:" if entry.namespace else namespace
            found += every_view(entry.url_patterns, inner)
        else:
            found.append((f"{namespace}{entry.name}", entry.callback))
    return found


def test_every_url_is_mounted_behind_a_gate():
    ungated = [name for name, view in every_view() if gates.gate_of(view) is None]
    assert ungated == []


def test_only_declared_views_are_public():
    public = {name for name, view in every_view() if gates.gate_of(view) == gates.PUBLIC}
    assert public == DECLARED_PUBLIC


def test_pages_carry_the_gate_of_their_module():
    gate = dict(every_view())
    assert gates.gate_of(gate["cases:detail"]) == Module.PROTECTION
    assert gates.gate_of(gate["risk:home"]) == Module.PROTECTION
    assert gates.gate_of(gate["equipment:home"]) == Module.OPERATIONS
    assert gates.gate_of(gate["telemetry:home"]) == Module.OPERATIONS
    assert gates.gate_of(gate["oversight:home"]) == Module.OVERSIGHT
    assert gates.gate_of(gate["audit:ledger"]) == Module.AUDIT
    assert gates.gate_of(gate["administration:accounts"]) == Module.ADMINISTRATION
    assert gates.gate_of(gate["web:home"]) == gates.SIGNED_IN
    assert gates.gate_of(gate["accounts:profile"]) == gates.SIGNED_IN


def undeclared(request: HttpRequest) -> HttpResponse:
    return HttpResponse("protected data")


@login_not_required
def declared(request: HttpRequest) -> HttpResponse:
    return HttpResponse("public")


urlpatterns = [
    path("api/plain-view/", undeclared),
    path("api/declared-view/", declared),
    path("", include("haven.urls")),
]


@override_settings(ROOT_URLCONF=__name__)
def test_a_plain_view_under_api_needs_a_session_unless_declared_public(db):
    anonymous = Client()
    refused = anonymous.get("/api/plain-view/")
    assert refused.status_code == 302 and refused["Location"].startswith("/accounts/login/")
    assert anonymous.get("/api/declared-view/").content == b"public"


@pytest.mark.django_db
def test_password_only_session_opens_no_page(client):
    from tests.factories import PASSWORD

    user = UserFactory(roles=[Role.PROTECTION_OFFICER])
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    response = client.get("/cases/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/verify/").status_code == 200


def test_a_module_gate_refuses_a_view_declared_public():
    with pytest.raises(ImproperlyConfigured):
        gates.module_urls(Module.PROTECTION, [path("x/", declared)])


def test_public_urls_refuse_an_undeclared_view():
    with pytest.raises(ImproperlyConfigured):
        gates.public_urls([path("x/", undeclared)])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "url"),
    [
        (Role.TECHNICAL_OFFICER, "/api/cases"),
        (Role.TECHNICAL_SUPERVISOR, "/api/risk/catalogue"),
        (Role.OVERSIGHT_OFFICER, "/api/equipment/assets"),
        (Role.PROTECTION_MANAGER, "/api/telemetry/alerts"),
        (Role.AUDITOR, "/api/oversight/complaints"),
        (Role.ADMINISTRATOR, "/api/audit/entries"),
    ],
)
def test_a_token_of_another_module_gets_404_problem(client, role, url):
    user = UserFactory(roles=[role])
    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


def test_every_api_operation_needs_a_token_except_the_calendar_feed(client, db):
    document = json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))
    open_operations = {
        (method.upper(), url)
        for url, operations in document["paths"].items()
        for method, operation in operations.items()
        if not operation.get("security")
    }
    assert open_operations == {("GET", "/api/rota/feeds/{feed_token}.ics")}


def test_no_view_or_endpoint_checks_the_module_itself():
    offenders = [
        str(file.relative_to(SRC))
        for pattern in ("*/views.py", "*/api.py")
        for file in SRC.glob(pattern)
        if "can_use(" in file.read_text() or "require_operations(" in file.read_text()
    ]
    assert offenders == []


@pytest.mark.django_db
def test_a_module_refusal_inside_a_domain_is_a_404_like_the_gates():
    """Services and selectors check the module too (they are called from other code): their
    refusal must not be a 403 that confirms the module's objects exist."""
    from django.http import Http404

    from haven.access import modules

    officer = UserFactory(roles=[Role.PROTECTION_OFFICER])
    with pytest.raises(Http404):
        modules.require_operations(officer)
    technician = UserFactory(roles=[Role.TECHNICAL_OFFICER])
    assert modules.require_operations(technician) == technician
