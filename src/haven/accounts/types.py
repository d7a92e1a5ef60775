"""Request types for annotations.

Every page behind SessionGuardMiddleware, and every API operation behind its auth, runs for a
signed-in Haven `User`; Django still builds plain `HttpRequest`s whose `user` is typed
`User | AnonymousUser`. Annotate such views with `AuthenticatedRequest` instead of casting
`request.user`; where the request may still be anonymous, narrow it with `is_authenticated`.
"""

from __future__ import annotations

from typing import TypeGuard

from django.http import HttpRequest

from haven.accounts.models import User


class AuthenticatedRequest(HttpRequest):
    """An HttpRequest whose user is a signed-in account (for annotations only)."""

    user: User


def is_authenticated(request: HttpRequest) -> TypeGuard[AuthenticatedRequest]:
    return request.user.is_authenticated


def is_verified(request: AuthenticatedRequest) -> bool:
    """Signed in with the second factor too (django-otp's OTPMiddleware adds `is_verified`)."""
    verified = getattr(request.user, "is_verified", None)
    return verified is not None and bool(verified())
