"""Request-side helpers of the security events: where a request comes from, and noting a
refused request for a protected object (the interfaces' 403/404 handlers call it)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from . import services
from .types import is_authenticated


def client_address(request: HttpRequest) -> str:
    """The client's address: the connection's, or the last hop the trusted proxy added."""
    header = settings.CLIENT_ADDRESS_HEADER
    if header:
        forwarded = request.META.get("HTTP_" + header.upper().replace("-", "_"), "")
        if forwarded.strip():
            return str(forwarded.split(",")[-1].strip())[:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def note_refused_access(request: HttpRequest, status: int) -> None:
    """Ledger a 403/404 that a view raised for an object it was asked for by id: a refusal
    by need-to-know (or a guess at an id), which an auditor must be able to see. Unresolved
    URLs and pages without an object are not probes of protected data and are left out."""
    match = request.resolver_match
    if match is None or not match.kwargs or not is_authenticated(request):
        return
    services.record_refused_access(
        request.user, request.path[:200], status=status, source=client_address(request)
    )
