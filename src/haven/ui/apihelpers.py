"""Helpers the API routers share: declared purpose, named accounts, refusals, pages."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from django.core.exceptions import ValidationError
from django.core.paginator import Page
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.errors import HttpError
from pydantic import BeforeValidator, WithJsonSchema, field_validator

from haven.access.purposes import Purpose, parse_purpose
from haven.accounts.models import User
from haven.concurrency.locking import ConflictError
from haven.ui.bounds import check_within_calendar
from haven.ui.paths import OBJECT_TYPES, id_named_by
from haven.vault.blind_index import normalise_name

PURPOSE_HEADER = "HTTP_X_HAVEN_PURPOSE"

# An API field naming a case, deployment or complaint: its reference as people use it (the id
# is still accepted). The service resolves it (haven.concurrency.references.object_id_for).
Reference = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        description="A reference such as HVN-2026-00052 (or the object's id)",
        examples=["HVN-2026-00052"],
    ),
]
T = TypeVar("T")


def _id_in_path(kind: str, example: str) -> Any:
    """A path parameter naming a case, deployment, complaint (or another of the kinds
    haven.ui.paths.OBJECT_TYPES lists) by its id or its reference:
    the operation gets the id (haven.ui.paths.id_named_by). A reference that names nothing
    becomes an id that matches nothing, so it is answered 404 exactly like an unknown id or a
    record the caller may not see; text that is neither is a 422, as before."""

    object_type = OBJECT_TYPES[kind]

    def to_id(value: object) -> object:
        try:
            return id_named_by(value, object_type)
        except ValueError:
            return value  # not an id: UUID validation refuses it (422)

    return Annotated[
        UUID,
        BeforeValidator(to_id),
        WithJsonSchema(
            {
                "type": "string",
                "description": f"The id, or the reference such as {example}",
                "examples": [example],
            }
        ),
    ]


CaseId = _id_in_path("case", "HVN-2026-00052")
DeploymentId = _id_in_path("deployment", "DEP-2026-0001")
ComplaintId = _id_in_path("complaint", "CMP-2026-0007")
HearingId = _id_in_path("hearing", "MIS-2026-0003")
TribunalId = _id_in_path("tribunal", "PAT-2026-0002")
ForfeitureId = _id_in_path("forfeiture", "PEN-2026-0001")
MeetingId = _id_in_path("meeting", "GOV-2026-0004")


def named_user(username: str | None, field: str) -> User | None:
    """The active account a payload names, or a 422 naming the field."""
    if not username:
        return None
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise HttpError(422, f"{field}: no active account {username!r}")
    return user


def declared_purpose(request: HttpRequest) -> str:
    purpose = parse_purpose(request.META.get(PURPOSE_HEADER))
    if purpose is None:
        raise HttpError(400, f"Send X-Haven-Purpose: one of {', '.join(Purpose.values)}")
    return purpose


def indexable_name(value: str) -> str:
    """A searched name (a pydantic validator's check): the blind index keeps only letters and
    digits, so a name with none of them could never be found."""
    if value.strip() and not normalise_name(value):
        raise ValueError("a name needs at least one letter or digit")
    return value


def uploaded_content(content_base64: str) -> bytes:
    """An upload's ``content_base64`` as bytes; anything but strict base64 is a 422."""
    try:
        return base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError) as error:
        raise HttpError(422, "content_base64: not valid base64") from error


def refuse(error: ValidationError) -> HttpError:
    if hasattr(error, "error_dict"):
        text = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
        return HttpError(422, text)
    return HttpError(422, "; ".join(error.messages))


def attempt(action: Callable[[], T]) -> T:
    """Run a service call, turning business refusals into problem+json answers: a stale version
    (ConflictError) into 409, a ValidationError into 422."""
    try:
        return action()
    except ConflictError as conflict:
        raise HttpError(409, str(conflict)) from conflict
    except ValidationError as error:
        raise refuse(error) from error


class QueryFilters(Schema):
    """The base of every operation's query parameters (`Query[...]`): the checks every
    parameter needs, made once here instead of in each operation. A date outside the
    accepted range (haven.ui.bounds) is a 422 naming the parameter; each subclass bounds its
    own numbers and lengths with `Field(...)` so that the OpenAPI document states them."""

    @field_validator("*", mode="after", check_fields=False)
    @classmethod
    def _dates_within_calendar(cls, value: Any) -> Any:
        if isinstance(value, date):
            check_within_calendar(value)
        return value


class PageOf(Schema, Generic[T]):
    """The response schema of every paginated list operation (see page_body)."""

    count: int
    page: int
    pages: int
    results: list[T]


def page_body(page: Page[Any]) -> dict[str, Any]:
    """One page of a paginated list, as every list operation answers it."""
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": list(page.object_list),
    }
