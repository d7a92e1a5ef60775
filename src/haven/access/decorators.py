from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from haven.accounts.types import is_authenticated

View = Callable[..., HttpResponse]


def module_required(module: str) -> Callable[[View], View]:
    """A module page needs a role of that module; case access is decided by selectors, not here."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not is_authenticated(request) or not request.user.can_use(module):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.haven_module = module  # type: ignore[attr-defined]
        return wrapper

    return decorate
