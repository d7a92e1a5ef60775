from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def tile_origin(url: str) -> str:
    """Where the operations map's tiles come from (settings.MAP_TILE_URL), as a CSP source:
    the map may load images from there and nowhere else outside."""
    if not url:
        return ""
    parts = urlsplit(url)
    host = parts.netloc
    if host.startswith("{s}."):  # tile subdomains a., b., c.
        host = "*." + host.removeprefix("{s}.")
    return f" {parts.scheme}://{host}"


# No inline script or style anywhere: templates load only files from STATIC_URL.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:" + tile_origin(settings.MAP_TILE_URL),
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        signed_in = request.user.is_authenticated if hasattr(request, "user") else False
        # Casework must not linger in shared caches or the browser's back button. API answers
        # are token-authenticated (Django's request.user does not show it): all of them.
        if signed_in or request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
