"""Module gates: every app is mounted once, behind the module its users need.

The root urlconf (`haven/urls.py`) includes each app through `module_urls(...)` and each API
router through `ModuleTokenAuth(...)`, so the URL map shows who may reach what, and no view or
endpoint checks the module itself. A user without the module gets 404, as every refusal does:
a 403 would confirm that the page exists.

Three kinds of gate, named on every view (`haven_gate`), so a test can prove none is missing:
- a module (`Module.PROTECTION` …): a fully signed-in user whose roles open that module;
- `SIGNED_IN`: any fully signed-in user (Home, your account);
- `PUBLIC`: declared with Django's `login_not_required` (sign-in pages, health, device
  receivers); and `API`: the API's own token auth decides, operation by operation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from importlib import import_module
from types import ModuleType
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver

from haven.accounts.models import User
from haven.accounts.types import AuthenticatedRequest

SIGNED_IN = "signed-in"
PUBLIC = "public"
API = "api"

View = Callable[..., HttpResponse]
Included = tuple[list[URLPattern | URLResolver], str | None, str | None]


def require_module(user: User, module: str) -> User:
    """The module rule: a role of the module opens it; nothing else does. Answers 404."""
    if not user.is_authenticated or not user.can_use(module):
        raise Http404
    return user


def is_public(view: View) -> bool:
    """Declared public with Django's `login_not_required` (no session needed)."""
    return getattr(view, "login_required", True) is False


def gate_of(view: View) -> str | None:
    return getattr(view, "haven_gate", None)


def _guarded(view: View, module: str) -> View:
    if is_public(view):
        raise ImproperlyConfigured(
            f"{view.__module__}.{view.__name__} is declared public but mounted behind the "
            f"{module} gate: mount it with public_urls()"
        )

    @wraps(view)
    def guarded(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require_module(request.user, module)
        return view(request, *args, **kwargs)

    guarded.haven_gate = module  # type: ignore[attr-defined]
    return guarded


def _marked(view: View, gate: str) -> View:
    if gate == PUBLIC and not is_public(view):
        raise ImproperlyConfigured(
            f"{view.__module__}.{view.__name__} is mounted public but not declared so: "
            "decorate it with login_not_required"
        )

    @wraps(view)
    def marked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, **kwargs)

    marked.haven_gate = PUBLIC if is_public(view) else gate  # type: ignore[attr-defined]
    return marked


def _rebuild(
    patterns: list[URLPattern | URLResolver], wrap: Callable[[View], View]
) -> list[URLPattern | URLResolver]:
    rebuilt: list[URLPattern | URLResolver] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            raise ImproperlyConfigured("A gated urlconf holds paths only: mount each app once")
        rebuilt.append(
            URLPattern(entry.pattern, wrap(entry.callback), entry.default_args, entry.name)
        )
    return rebuilt


def _load(
    urlconf: str | ModuleType | list[URLPattern | URLResolver], app_name: str | None
) -> Included:
    if isinstance(urlconf, list):
        return urlconf, app_name, app_name
    module = import_module(urlconf) if isinstance(urlconf, str) else urlconf
    name = app_name or getattr(module, "app_name", None)
    return list(module.urlpatterns), name, name


def module_urls(
    module: str,
    urlconf: str | ModuleType | list[Any],
    app_name: str | None = None,
    namespace: str | None = None,
) -> Included:
    """For `path()`: every view of `urlconf` behind the module gate. `namespace` mounts a
    second instance of an application (its own instance namespace, as Django's)."""
    patterns, name, default = _load(urlconf, app_name)
    return _rebuild(patterns, lambda view: _guarded(view, module)), name, namespace or default


def signed_in_urls(urlconf: str | ModuleType | list[Any], app_name: str | None = None) -> Included:
    """For `path()`: views any fully signed-in user may open (the session guard checks), and
    the sign-in pages among them that their view declares public."""
    patterns, name, namespace = _load(urlconf, app_name)
    return _rebuild(patterns, lambda view: _marked(view, SIGNED_IN)), name, namespace


def public_urls(urlconf: str | ModuleType | list[Any], app_name: str | None = None) -> Included:
    """For `path()`: views declared `login_not_required`, open without a session."""
    patterns, name, namespace = _load(urlconf, app_name)
    return _rebuild(patterns, lambda view: _marked(view, PUBLIC)), name, namespace


# django-ninja's own pages: the OpenAPI document, its documentation page and the API's root.
API_DOCUMENTATION = frozenset({"openapi-json", "openapi-view", "api-root"})


def api_urls(included: Included) -> Included:
    """The API's URLs: token auth on each operation decides, not the session guard. The
    documentation pages map every operation and parameter, so outside development (DEBUG)
    they need a signed-in session like any page; in development they stay open."""
    patterns, name, namespace = included

    def token_authenticated(view: View) -> View:
        view.login_required = False  # type: ignore[attr-defined]
        view.haven_gate = API  # type: ignore[attr-defined]
        return view

    def documentation(view: View) -> View:
        if settings.DEBUG:
            view.login_required = False  # type: ignore[attr-defined]
        view.haven_gate = PUBLIC if settings.DEBUG else SIGNED_IN  # type: ignore[attr-defined]
        return view

    rebuilt: list[URLPattern | URLResolver] = []
    for entry in patterns:
        if not isinstance(entry, URLPattern):
            raise ImproperlyConfigured("A gated urlconf holds paths only: mount each app once")
        wrap = documentation if entry.name in API_DOCUMENTATION else token_authenticated
        rebuilt.append(
            URLPattern(entry.pattern, wrap(entry.callback), entry.default_args, entry.name)
        )
    return rebuilt, name, namespace
