"""The HTTP API: django-ninja, token auth, application/problem+json errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer
from ninja.throttling import SimpleRateThrottle

from haven.access.gates import require_module
from haven.accounts import services as account_services
from haven.accounts.models import User
from haven.accounts.roles import Module, Role
from haven.accounts.security import note_refused_access
from haven.accounts.types import AuthenticatedRequest
from haven.ui.errors import support_id

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reads sent by POST so that personal search terms stay out of URLs and request logs (their
# operations' url names): they change nothing, so a read-only token may send them.
READS_SENT_BY_POST = frozenset({"search_cases"})


def only_reads(request: HttpRequest) -> bool:
    match = request.resolver_match
    return request.method in SAFE_METHODS or (
        request.method == "POST" and match is not None and match.url_name in READS_SENT_BY_POST
    )


class TokenAuth(HttpBearer):
    """Any valid personal token: the operation decides what its user may do. A read-only
    token may use safe methods only."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        api_token = account_services.usable_token(token)
        if api_token is None:
            return None
        if not api_token.can_write and not only_reads(request):
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


PROBLEM_TYPE = "application/problem+json"
# RFC 9457 problem details, as `problem()` writes them; `errors` lists the fields of a 422.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "support_id": {
            "type": "string",
            "description": "Quote it to support: the server's log line for this error has it",
        },
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"location": {"type": "string"}, "message": {"type": "string"}},
                "required": ["location", "message"],
            },
        },
    },
    "required": ["type", "title", "status"],
}
PROBLEMS = {
    "400": "A required header is missing or malformed (X-Haven-Purpose on protected reads)",
    "401": "No valid, unexpired personal API token",
    "403": "The token or your role does not allow this action",
    "404": "Not found, or not yours to see (the two are never told apart)",
    "409": "The record changed since you read it (send its current version)",
    "413": "The request body is larger than HAVEN_REQUEST_BODY_MAX_BYTES",
    "415": "The body is not JSON: send it with Content-Type: application/json",
    "422": "A parameter or field is invalid, or the change is refused; the problem names it",
    "429": "Too many requests with this token (HAVEN_API_TOKEN_RATE); see Retry-After",
}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})


def problem_codes(method: str, operation: dict[str, Any]) -> list[str]:
    """The refusals an operation can answer: every one may be missing (404) or refused (403)
    or answer a bad header (400); a token-authenticated one may answer 401 and 429; one
    with parameters or a body 422; one with a body 415; a write 409 and 413."""
    codes = ["400", "403", "404"]
    if operation.get("security"):
        codes += ["401", "429"]
    if operation.get("parameters") or operation.get("requestBody"):
        codes.append("422")
    if operation.get("requestBody"):
        codes.append("415")
    if method in WRITE_METHODS:
        codes += ["409", "413", "422"]
    return sorted(set(codes))


class HavenAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document declares every operation's problem+json refusals."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem_content = {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in schema["paths"].values():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for code in problem_codes(method, operation):
                    declared = responses.setdefault(code, {"description": PROBLEMS[code]})
                    declared.setdefault("content", {}).update(problem_content)
        return schema


def nul_characters(value: Any, where: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Where a NUL character hides in a parsed body or query (keys count too)."""
    if isinstance(value, str):
        if "\x00" in value:
            yield where
    elif isinstance(value, dict):
        for key, inner in value.items():
            if "\x00" in str(key):
                yield (*where, str(key).replace("\x00", "\\0"))
            yield from nul_characters(inner, (*where, str(key)))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from nul_characters(inner, (*where, str(index)))


def refuse_nul_characters(data: Any, source: str) -> Any:
    """No text Haven stores may hold NUL (PostgreSQL refuses it mid-write): a 422 naming the
    field, for every operation's body and query parameters at once."""
    found = list(nul_characters(data, (source,)))
    if found:
        raise ValidationError(
            [{"loc": where, "msg": "NUL characters are not allowed"} for where in found]
        )
    return data


class UnsupportedMediaType(Exception):
    """A body that is not JSON (ASVS 13.1.5, 13.2.5): refused before anything reads it."""


def is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


class HavenParser(Parser):
    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        # ninja would parse any body as JSON whatever it claims to be; a client that sends
        # form fields, XML or text is told so (415) instead of having its bytes guessed at.
        if not is_json(request.content_type or ""):
            raise UnsupportedMediaType(request.content_type)
        return refuse_nul_characters(super().parse_body(request), "body")  # type: ignore[no-any-return]

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        return refuse_nul_characters(parsed, "query")  # type: ignore[no-any-return]


api = HavenAPI(
    parser=HavenParser(),
    title="Haven API",
    version="1",
    description="Every capability of the Haven web interface. Authenticate with a personal "
    "token from your account page: `Authorization: Bearer hvn_…`.",
    auth=TokenAuth(),
    throttle=[TokenRateThrottle()],
    urls_namespace="api",
)


def problem(
    request: HttpRequest, status: int, title: str, detail: str = "", **extra: Any
) -> HttpResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    body["support_id"] = support_id(request, status)
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
    if isinstance(exc.__cause__, ValidationError):
        # ninja turns any body-parser error into a 400; a refused field (NUL) names it.
        return on_validation_error(request, exc.__cause__)
    if isinstance(exc.__cause__, UnsupportedMediaType):
        return problem(request, 415, "Unsupported media type", "Send the body as application/json.")
    return problem(request, exc.status_code, str(exc) or "Request refused")


@api.exception_handler(RequestDataTooBig)
def on_body_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return problem(
        request,
        413,
        "Request body too large",
        f"Send at most {limit} bytes (HAVEN_REQUEST_BODY_MAX_BYTES).",
    )


@api.exception_handler(Exception)
def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    # problem() logs the traceback with the support id it shows.
    return problem(request, 500, "Internal error", "The error was logged; nothing was changed.")


def register_routers() -> None:
    from haven.accounts.api import router as own_account_router
    from haven.administration.api import router as administration_router
    from haven.audit.api import router as audit_router
    from haven.authorisations.api import router as authorisations_router
    from haven.cases.api import router as cases_router
    from haven.equipment.api import router as equipment_router
    from haven.notifications.api import router as notifications_router
    from haven.oversight.api import router as oversight_router
    from haven.risk.api import router as risk_router
    from haven.rota.api import protection_rota_router, protection_welfare_router
    from haven.rota.api import router as rota_router
    from haven.telemetry.api import router as telemetry_router
    from haven.telemetry.export_api import router as telemetry_export_router

    # Each router mounted once, behind its module: the URL map of haven/urls.py, for the API.
    protection = ModuleTokenAuth(Module.PROTECTION)
    operations = ModuleTokenAuth(Module.OPERATIONS)
    api.add_router("/", cases_router, auth=protection)
    api.add_router("/", risk_router, auth=protection)
    api.add_router("/protection/", protection_welfare_router, auth=protection)
    api.add_router("/protection/", protection_rota_router, auth=protection)
    api.add_router("/", equipment_router, auth=operations)
    api.add_router("/", rota_router, auth=operations)
    api.add_router("/", telemetry_router, auth=operations)
    api.add_router("/", telemetry_export_router, auth=operations)
    api.add_router("/", authorisations_router, auth=operations)
    api.add_router("/", oversight_router, auth=ModuleTokenAuth(Module.OVERSIGHT))
    api.add_router("/", audit_router, auth=ModuleTokenAuth(Module.AUDIT))
    api.add_router("/", administration_router, auth=ModuleTokenAuth(Module.ADMINISTRATION))
    # Everyone's own inbox: any valid token, and only its user's notifications.
    api.add_router("/", notifications_router)
    # Everyone's own passkeys and password: any valid token, only its own user's.
    api.add_router("/", own_account_router)


register_routers()


class Me(Schema):
    username: str
    name: str
    roles: list[Role]
    clearance: str
    modules: list[Module]


@api.get("/me", response=Me, summary="Who the token belongs to", tags=["accounts"])
def me(request: AuthenticatedRequest) -> dict[str, Any]:
    user = request.user
    return {
        "username": user.username,
        "name": user.get_full_name(),
        "roles": user.roles,
        "clearance": user.effective_clearance_label,
        "modules": user.modules,
    }
