"""Case endpoints. Protected reads need an `X-Haven-Purpose` header (logged as justification)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError

from haven.access.purposes import Purpose, parse_purpose
from haven.accounts.models import User
from haven.accounts.roles import Module

from . import selectors, services

router = Router(tags=["cases"])
PURPOSE_HEADER = "HTTP_X_HAVEN_PURPOSE"


def protection_user(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not user.can_use(Module.PROTECTION):
        raise HttpError(403, "Your role does not use the protection module")
    return user


def declared_purpose(request: HttpRequest) -> str:
    purpose = parse_purpose(request.META.get(PURPOSE_HEADER))
    if purpose is None:
        raise HttpError(400, f"Send X-Haven-Purpose: one of {', '.join(Purpose.values)}")
    return purpose


def refuse(error: ValidationError) -> HttpError:
    return HttpError(422, "; ".join(error.messages))


class CaseOut(Schema):
    id: UUID
    reference: str
    status: str
    marking: str
    subject_name: str
    subject_dob: date | None
    address: str
    version: int


class CaseSummary(Schema):
    id: UUID
    reference: str
    status: str
    marking: str
    subject_name: str


class CasePage(Schema):
    count: int
    page: int
    pages: int
    results: list[CaseSummary]


class CaseFilters(Schema):
    reference: str = ""
    name: str = ""
    dob: str = ""
    status: str = ""
    sort: str = "-created"
    page: int = Field(1, ge=1)


class IdentityOut(Schema):
    legacy_name: str
    legacy_dob: date | None
    new_name: str
    new_dob: date | None


class GrantIn(Schema):
    username: str
    reason: str = Field(..., max_length=2000)
    days: int = Field(..., ge=1, le=30)


class BreakGlassIn(Schema):
    reference: str = Field(..., max_length=20)
    reason: str = Field(..., max_length=2000)


class CaseUpdateIn(Schema):
    version: int
    reason: str = Field(..., max_length=2000)
    subject_name: str | None = Field(None, max_length=500)
    subject_dob: date | None = None
    address: str | None = Field(None, max_length=2000)


@router.get("/cases", response=CasePage, summary="Cases you may see")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> dict[str, Any]:
    user = protection_user(request)
    purpose = declared_purpose(request)
    search = selectors.CaseSearch(
        reference=filters.reference,
        name=filters.name,
        dob=filters.dob,
        status=filters.status,
        sort=filters.sort,
    )
    page = selectors.list_cases(user, search, filters.page, purpose)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": list(page.object_list),
    }


@router.get("/cases/{case_id}", response=CaseOut, summary="One case")
def get_case(request: HttpRequest, case_id: UUID) -> object:
    return selectors.get_case(protection_user(request), case_id, declared_purpose(request))


@router.patch("/cases/{case_id}", response=CaseOut, summary="Change a case's details")
def update_case(request: HttpRequest, case_id: UUID, payload: CaseUpdateIn) -> object:
    changes = payload.dict(exclude_unset=True, exclude={"version", "reason"})
    try:
        return services.update_case(
            protection_user(request),
            case_id,
            version=payload.version,
            reason=payload.reason,
            **changes,
        )
    except services.ConflictError as conflict:
        raise HttpError(409, str(conflict)) from conflict
    except ValidationError as error:
        raise refuse(error) from error


@router.get("/cases/{case_id}/identity", response=IdentityOut, summary="Identity compartment")
def get_identity(request: HttpRequest, case_id: UUID) -> object:
    record = selectors.get_identity(protection_user(request), case_id, declared_purpose(request))
    if record is None:
        raise HttpError(404, "No identity change is recorded for this case")
    return record


@router.post("/cases/{case_id}/grants", response={201: dict}, summary="Grant time-limited access")
def grant_access(request: HttpRequest, case_id: UUID, payload: GrantIn) -> tuple[int, dict]:
    grantee = User.objects.filter(username=payload.username, is_active=True).first()
    if grantee is None:
        raise HttpError(422, f"No active account {payload.username!r}")
    try:
        grant = services.grant_access(
            protection_user(request), case_id, grantee, reason=payload.reason, days=payload.days
        )
    except ValidationError as error:
        raise refuse(error) from error
    return 201, {"expires_at": grant.expires_at.isoformat()}


@router.post("/break-glass", response={201: dict}, summary="Emergency access for managers")
def break_glass(request: HttpRequest, payload: BreakGlassIn) -> tuple[int, dict]:
    try:
        case = services.break_glass(protection_user(request), payload.reference, payload.reason)
    except ValidationError as error:
        raise refuse(error) from error
    return 201, {"id": str(case.pk), "reference": case.reference}
