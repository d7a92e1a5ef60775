"""The HTTP API: django-ninja, token auth, application/problem+json errors."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from haven.access.gates import require_module
from haven.accounts import services as account_services
from haven.accounts.models import User
from haven.accounts.roles import Module, Role
from haven.accounts.security import note_refused_access

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TokenAuth(HttpBearer):
    """Any valid personal token: the operation decides what its user may do. A read-only
    token may use safe methods only."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        api_token = account_services.usable_token(token)
        if api_token is None:
            return None
        if not api_token.can_write and request.method not in SAFE_METHODS:
            raise PermissionDenied(
                "This token can only read: issue a token that may change records"
            )
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user


class ModuleTokenAuth(TokenAuth):
    """A valid token whose user's roles open the module (otherwise 404, as every refusal)
    and which was issued for that module (otherwise 403: the user knows the module)."""

    def __init__(self, module: str) -> None:
        super().__init__()
        self.module = module

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = super().authenticate(request, token)
        if user is None:
            return None
        require_module(user, self.module)
        if not request.api_token.opens(self.module):  # type: ignore[attr-defined]
            raise PermissionDenied("This token was not issued for this part of Haven")
        return user


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per token (HAVEN_API_TOKEN_RATE, read on each request), counted in the cache;
    over the rate the API answers 429 with Retry-After."""

    scope = "token"

    def __init__(self) -> None:
        super().__init__(rate=settings.API_TOKEN_RATE)

    def get_cache_key(self, request: HttpRequest) -> str | None:
        api_token = getattr(request, "api_token", None)
        if api_token is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": api_token.key_hash}

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = settings.API_TOKEN_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)


api = NinjaAPI(
    title="Haven API",
    version="1",
    description="Every capability of the Haven web interface. Authenticate with a personal "
    "token from your account page: `Authorization: Bearer hvn_…`.",
    auth=TokenAuth(),
    throttle=[TokenRateThrottle()],
    urls_namespace="api",
)

PROBLEM_TYPE = "application/problem+json"


def problem(
    request: HttpRequest, status: int, title: str, detail: str = "", **extra: Any
) -> HttpResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = PROBLEM_TYPE
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            "location": ".".join(str(part) for part in error.get("loc", [])),
            "message": error.get("msg", ""),
        }
        for error in exc.errors
    ]
    return problem(request, 422, "Invalid request", "Check the listed fields.", errors=errors)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(request, 401, "Not authenticated", "Send a valid, unexpired personal API token.")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    note_refused_access(request, 404)
    return problem(request, 404, "Not found")


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    note_refused_access(request, 403)
    return problem(request, 403, "Forbidden", str(exc) or "Your role does not allow this")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem(request, exc.status_code, str(exc) or "Request refused")


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    import logging

    logging.getLogger("haven.api").exception("unhandled API error")
    return problem(request, 500, "Internal error", "The error was logged; nothing was changed.")


def register_routers() -> None:
    from haven.audit.api import router as audit_router
    from haven.authorisations.api import router as authorisations_router
    from haven.cases.api import router as cases_router
    from haven.equipment.api import router as equipment_router
    from haven.notifications.api import router as notifications_router
    from haven.oversight.api import router as oversight_router
    from haven.risk.api import router as risk_router
    from haven.rota.api import router as rota_router
    from haven.telemetry.api import router as telemetry_router
    from haven.telemetry.export_api import router as telemetry_export_router

    # Each router mounted once, behind its module: the URL map of haven/urls.py, for the API.
    protection = ModuleTokenAuth(Module.PROTECTION)
    operations = ModuleTokenAuth(Module.OPERATIONS)
    api.add_router("/", cases_router, auth=protection)
    api.add_router("/", risk_router, auth=protection)
    api.add_router("/", equipment_router, auth=operations)
    api.add_router("/", rota_router, auth=operations)
    api.add_router("/", telemetry_router, auth=operations)
    api.add_router("/", telemetry_export_router, auth=operations)
    api.add_router("/", authorisations_router, auth=operations)
    api.add_router("/", oversight_router, auth=ModuleTokenAuth(Module.OVERSIGHT))
    api.add_router("/", audit_router, auth=ModuleTokenAuth(Module.AUDIT))
    # Everyone's own inbox: any valid token, and only its user's notifications.
    api.add_router("/", notifications_router)


register_routers()


class Me(Schema):
    username: str
    name: str
    roles: list[Role]
    clearance: str
    modules: list[Module]


@api.get("/me", response=Me, summary="Who the token belongs to", tags=["accounts"])
def me(request: HttpRequest) -> dict[str, Any]:
    user: User = request.user  # type: ignore[assignment]
    return {
        "username": user.username,
        "name": user.get_full_name(),
        "roles": user.roles,
        "clearance": user.clearance_label,
        "modules": user.modules,
    }
