"""Types for requests that have passed the session guard or an API token check."""

from __future__ import annotations

from django.http import HttpRequest

from .models import User


class AuthenticatedRequest(HttpRequest):
    """A request whose user is a signed-in `User` (never `AnonymousUser`): what every view and
    API operation behind a gate receives. For annotations only; Django builds the request."""

    user: User  # type: ignore[assignment]
