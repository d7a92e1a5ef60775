"""Equipment, custody and deployment endpoints (operations module).

Deployments answer 404 to anyone not on their team. Exports are disclosure entries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal, TypeVar
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from haven import csvfiles
from haven.access.purposes import parse_purpose
from haven.accounts.models import User
from haven.accounts.types import AuthenticatedRequest
from haven.revisions import CorrectionReason, HistoryOut, correction
from haven.ui.apihelpers import (
    DeploymentId,
    PageOf,
    QueryFilters,
    Reference,
    attempt,
    named_user,
    page_body,
)

from . import reports, selectors, services
from .models import AssetState, AssetType, CustodyKind, DeploymentStatus, KitList

router = Router(tags=["equipment"])


def purpose(request: AuthenticatedRequest) -> str | None:
    return parse_purpose(request.META.get("HTTP_X_HAVEN_PURPOSE"))


T = TypeVar("T")


def refuse(error: ValidationError) -> HttpError:
    return HttpError(422, "; ".join(error.messages))


def _refusing(action: Callable[[], T]) -> T:
    """Run a service call; a ValidationError it raises is this module's 422 (its messages)."""
    try:
        return action()
    except ValidationError as error:
        raise refuse(error) from error


class AssetTypeOut(Schema):
    code: str
    name: str
    trackable: bool
    description: str = ""
    active: bool = True
    version: int = 1


class AssetTypeCorrection(CorrectionReason):
    """A kind of kit's corrected values (a field left out is unchanged), version and reason."""

    name: str | None = Field(None, min_length=1, max_length=80)
    description: str | None = Field(None, max_length=200)
    trackable: bool | None = None


class Retirement(CorrectionReason):
    """A kind of kit retired: the version read and a reason."""


class AssetFields(Schema):
    """What every answer about an asset says (the register's row)."""

    id: UUID
    asset_type: str
    make: str
    model_name: str
    serial: str
    device_id: str | None
    firmware: str
    state: AssetState
    holder: str | None
    place: str


class AssetOut(AssetFields):
    """An asset read from the model: its type by code, its holder by username."""

    asset_type: str = Field(alias="asset_type.code")

    @staticmethod
    def resolve_holder(obj: Any) -> str | None:
        return obj.holder.username if obj.holder_id else None


class AssetDetailOut(AssetFields):
    version: int = 1
    sim_details: str | None = None
    ip_details: str | None = None


class AssetCorrection(CorrectionReason):
    """The details to correct (a field left out is unchanged), the version read and a reason."""

    device_id: str | None = Field(None, max_length=80)
    firmware: str | None = Field(None, max_length=80)
    sim_details: str | None = Field(None, max_length=500)
    ip_details: str | None = Field(None, max_length=500)
    notes: str | None = Field(None, max_length=500)


class AssetFilters(QueryFilters):
    q: str = ""
    state: AssetState | Literal[""] = ""
    asset_type: str = ""
    holder: str = ""
    serial: str = ""
    device_id: str = ""
    sort: str = "serial"
    page: int = Field(1, ge=1)


class AssetIn(Schema):
    asset_type: str
    make: str = Field(..., max_length=80)
    model_name: str = Field(..., max_length=80)
    serial: str = Field(..., max_length=80)
    device_id: str = Field("", max_length=80)
    firmware: str = Field("", max_length=80)
    sim_details: str = Field("", max_length=500)
    ip_details: str = Field("", max_length=500)
    notes: str = Field("", max_length=500)
    state: AssetState = AssetState.IN_STOCK


class StateIn(Schema):
    state: AssetState
    reason: str = Field(..., max_length=300)


class CustodyIn(Schema):
    kind: CustodyKind
    signature: str = Field(..., max_length=150)
    location: str = Field("", max_length=200)
    from_username: str | None = None
    deployment_id: Reference | None = None
    note: str = Field("", max_length=500)


class CustodyOut(Schema):
    sequence: int
    kind: CustodyKind
    occurred_at: datetime
    from_label: str
    to_label: str
    location: str
    signature: str
    signed_by: str = Field(alias="signed_by.username")
    deployment: str | None
    entry_hash: str

    @staticmethod
    def resolve_deployment(obj: Any) -> str | None:
        return obj.deployment.reference if obj.deployment_id else None


class KitIn(Schema):
    name: str = Field(..., max_length=120)
    description: str = Field("", max_length=500)
    asset_ids: list[UUID] = []


class KitOut(Schema):
    id: int
    name: str
    description: str
    assets: list[str]

    @staticmethod
    def resolve_assets(obj: Any) -> list[str]:
        return [a.serial for a in obj.assets.all()]


class DeploymentSummary(Schema):
    id: UUID
    reference: str
    title: str
    status: DeploymentStatus
    starts_at: datetime
    ends_at: datetime
    marking: str


class DeploymentOut(DeploymentSummary):
    objective: str
    operation_name: str
    linked_to_case: bool
    install_address: str
    site_risk_notes: str
    overnight_stays: int
    install_checklist: list[dict]
    recovery_checklist: list[dict]
    outcome: str
    team: list[dict]
    kit: list[str]

    @staticmethod
    def resolve_linked_to_case(obj: Any) -> bool:
        return obj.case_id is not None

    @staticmethod
    def resolve_team(obj: Any) -> list[dict]:
        return [{"username": m.user.username, "place": m.place} for m in obj.team]

    @staticmethod
    def resolve_kit(obj: Any) -> list[str]:
        return [row.asset.serial for row in obj.kit.all()]


class DeploymentIn(Schema):
    title: str = Field(..., max_length=120)
    objective: str = Field(..., max_length=4000)
    starts_at: datetime
    ends_at: datetime
    install_address: str = Field("", max_length=1000)
    site_risk_notes: str = Field("", max_length=4000)
    case_id: Reference | None = None
    operation_name: str = Field("", max_length=120)
    overnight_stays: int = Field(0, ge=0, le=60)
    classification: int = Field(1, ge=1, le=3)


class TeamIn(Schema):
    username: str
    place: Literal["supervisor", "lead", "technician"] = "technician"


class AssignIn(Schema):
    asset_id: UUID | None = None
    kit_id: int | None = None


class StatusIn(Schema):
    status: DeploymentStatus
    outcome: str = Field("", max_length=4000)


class ScheduleIn(Schema):
    starts_at: datetime
    ends_at: datetime


class ChecklistIn(Schema):
    which: Literal["install", "recovery"]
    index: int = Field(..., ge=0)
    done: bool = True


class CalendarFilters(QueryFilters):
    start: date | None = None
    days: int = Field(14, ge=1, le=62)


class CalendarOut(Schema):
    days: list[date]
    rows: list[dict]


# ------------------------------------------------------------------------------ assets


@router.get("/equipment/asset-types", response=list[AssetTypeOut], summary="Kinds of kit")
def list_asset_types(request: AuthenticatedRequest) -> Any:
    return list(selectors.asset_types())


@router.patch(
    "/equipment/asset-types/{code}",
    response=AssetTypeOut,
    summary="Correct a kind of kit (with the version read and a reason)",
)
def correct_asset_type(
    request: AuthenticatedRequest, code: str, payload: AssetTypeCorrection
) -> Any:
    user = request.user
    return attempt(lambda: services.correct_asset_type(user, code, **correction(payload)))


@router.post(
    "/equipment/asset-types/{code}/retirement",
    response=AssetTypeOut,
    summary="Retire a kind of kit (no longer offered for new kit; its assets keep it)",
)
def retire_asset_type(request: AuthenticatedRequest, code: str, payload: Retirement) -> Any:
    user = request.user
    return attempt(lambda: services.retire_asset_type(user, code, **correction(payload)))


@router.get("/equipment/assets", response=PageOf[AssetOut], summary="Search the equipment register")
def list_assets(request: AuthenticatedRequest, filters: Query[AssetFilters]) -> dict[str, Any]:
    user = request.user
    search = selectors.AssetSearch(
        q=filters.q,
        state=filters.state,
        asset_type=filters.asset_type,
        holder=filters.holder,
        sort=filters.sort,
    )
    queryset = selectors.search_assets(user, search)
    if filters.serial:
        queryset = queryset.filter(serial=filters.serial)
    if filters.device_id:
        queryset = queryset.filter(device_id=filters.device_id)
    from django.core.paginator import Paginator

    page = Paginator(queryset, selectors.PAGE_SIZE).get_page(filters.page)
    return page_body(page)


@router.post("/equipment/assets", response={201: AssetDetailOut}, summary="Register kit")
def register_asset(request: AuthenticatedRequest, payload: AssetIn) -> Status[Any]:
    user = request.user
    selectors.require_supervisor(user)
    asset_type = AssetType.objects.filter(code=payload.asset_type, active=True).first()
    if asset_type is None:
        raise HttpError(422, f"asset_type: unknown type {payload.asset_type!r}")
    asset = _refusing(
        lambda: services.register_asset(
            user, asset_type=asset_type, **payload.dict(exclude={"asset_type"})
        )
    )
    return Status(201, _asset_detail(user, asset, request))


def _asset_detail(user: User, asset: Any, request: AuthenticatedRequest) -> dict[str, Any]:
    data = AssetOut.model_validate(asset).model_dump()
    data["version"] = asset.version
    data.update(selectors.asset_link_details(user, asset, purpose(request)))
    return data


@router.get("/equipment/assets/{asset_id}", response=AssetDetailOut, summary="One asset")
def get_asset(request: AuthenticatedRequest, asset_id: UUID) -> Any:
    user = request.user
    return _asset_detail(user, selectors.get_asset(user, asset_id), request)


@router.patch(
    "/equipment/assets/{asset_id}",
    response=AssetDetailOut,
    summary="Correct an asset's details (with the version read and a reason)",
)
def correct_asset(request: AuthenticatedRequest, asset_id: UUID, payload: AssetCorrection) -> Any:
    user = request.user
    asset = attempt(lambda: services.update_asset(user, asset_id, **correction(payload)))
    return _asset_detail(user, asset, request)


@router.get(
    "/equipment/assets/{asset_id}/history",
    response=HistoryOut,
    summary="An asset's earlier details",
)
def asset_history(request: AuthenticatedRequest, asset_id: UUID) -> Any:
    asset, revisions = selectors.asset_history(request.user, asset_id, purpose(request))
    return {"version": asset.version, "earlier": revisions}


@router.post("/equipment/assets/{asset_id}/state", response=AssetOut, summary="Change state")
def change_state(request: AuthenticatedRequest, asset_id: UUID, payload: StateIn) -> Any:
    user = request.user
    selectors.require_supervisor(user)
    return _refusing(lambda: services.change_state(user, asset_id, payload.state, payload.reason))


@router.get(
    "/equipment/assets/{asset_id}/custody", response=list[CustodyOut], summary="Chain of custody"
)
def custody(request: AuthenticatedRequest, asset_id: UUID) -> Any:
    return list(selectors.custody_history(request.user, asset_id))


@router.post(
    "/equipment/assets/{asset_id}/custody",
    response={201: CustodyOut},
    summary="Sign for, hand over, deploy, recover or return an item",
)
def record_custody(
    request: AuthenticatedRequest, asset_id: UUID, payload: CustodyIn
) -> Status[Any]:
    user = request.user
    event = _refusing(
        lambda: services.record_custody(
            user,
            asset_id,
            kind=payload.kind,
            signature=payload.signature,
            location=payload.location,
            from_user=named_user(payload.from_username, "from_username"),
            deployment_id=payload.deployment_id,
            note=payload.note,
        )
    )
    return Status(201, event)


@router.get("/equipment/assets/{asset_id}/custody.csv", summary="Custody history as CSV")
def custody_csv(request: AuthenticatedRequest, asset_id: UUID) -> HttpResponse:
    asset, events = selectors.export_custody(request.user, asset_id, "csv")
    return csvfiles.attachment(reports.custody_csv(events), f"custody-{asset.serial}.csv")


# ------------------------------------------------------------------------------ kits


@router.get("/equipment/kits", response=list[KitOut], summary="Kit lists")
def list_kits(request: AuthenticatedRequest) -> Any:
    return list(selectors.kit_lists(request.user))


@router.post("/equipment/kits", response={201: KitOut}, summary="New kit list")
def create_kit(request: AuthenticatedRequest, payload: KitIn) -> Status[Any]:
    user = request.user
    selectors.require_supervisor(user)
    assets = [selectors.get_asset(user, pk) for pk in payload.asset_ids]
    kit = _refusing(
        lambda: services.create_kit(
            user, name=payload.name, description=payload.description, assets=assets
        )
    )
    return Status(201, kit)


# ------------------------------------------------------------------------------ deployments


class DeploymentFilters(QueryFilters):
    q: str = ""
    status: DeploymentStatus | Literal[""] = ""
    sort: str = "-starts"
    page: int = Field(1, ge=1)


@router.get(
    "/equipment/deployments", response=PageOf[DeploymentSummary], summary="Deployments you are on"
)
def list_deployments(
    request: AuthenticatedRequest, filters: Query[DeploymentFilters]
) -> dict[str, Any]:
    user = request.user
    search = selectors.DeploymentSearch(q=filters.q, status=filters.status, sort=filters.sort)
    page = selectors.list_deployments(user, search, filters.page)
    return page_body(page)


@router.post("/equipment/deployments", response={201: DeploymentOut}, summary="Plan a deployment")
def create_deployment(request: AuthenticatedRequest, payload: DeploymentIn) -> Status[Any]:
    user = request.user
    selectors.require_supervisor(user)
    deployment = _refusing(lambda: services.create_deployment(user, **payload.dict()))
    return Status(201, deployment)


@router.get(
    "/equipment/deployments/{deployment_id}", response=DeploymentOut, summary="One deployment"
)
def get_deployment(request: AuthenticatedRequest, deployment_id: DeploymentId) -> Any:
    return selectors.get_deployment(request.user, deployment_id, purpose(request))


@router.post(
    "/equipment/deployments/{deployment_id}/team", response={201: dict}, summary="Add to the team"
)
def add_member(
    request: AuthenticatedRequest, deployment_id: DeploymentId, payload: TeamIn
) -> Status[dict]:
    user = request.user
    selectors.deployment_for_management(user, deployment_id)
    member = named_user(payload.username, "username")
    if member is None:
        raise HttpError(422, "username: say who joins the team")
    _refusing(lambda: services.add_team_member(user, deployment_id, member, payload.place))
    return Status(201, {"username": payload.username, "place": payload.place})


class KitRemovalIn(Schema):
    version: int
    reason: str = Field(..., min_length=1, max_length=500)


class KitRemovalOut(Schema):
    serial: str = Field(alias="asset.serial")
    removed_at: datetime
    removal_reason: str


@router.post(
    "/equipment/deployments/{deployment_id}/kit/{asset_id}/removal",
    response=KitRemovalOut,
    summary="Take an asset off a deployment's kit (kept in its kit history)",
)
def remove_kit(
    request: AuthenticatedRequest,
    deployment_id: DeploymentId,
    asset_id: UUID,
    payload: KitRemovalIn,
) -> object:
    user = request.user
    return attempt(
        lambda: services.remove_asset(user, deployment_id, asset_id, **correction(payload))
    )


@router.post(
    "/equipment/deployments/{deployment_id}/kit", response={201: dict}, summary="Assign kit"
)
def assign(
    request: AuthenticatedRequest, deployment_id: DeploymentId, payload: AssignIn
) -> Status[dict]:
    user = request.user
    selectors.deployment_for_management(user, deployment_id)
    try:
        if payload.kit_id is not None:
            kit = KitList.objects.filter(pk=payload.kit_id).first()
            if kit is None:
                raise HttpError(422, "kit_id: no such kit list")
            rows = services.assign_kit(user, deployment_id, kit)
        elif payload.asset_id is not None:
            asset = selectors.get_asset(user, payload.asset_id)
            rows = [services.assign_asset(user, deployment_id, asset)]
        else:
            raise HttpError(422, "Send asset_id or kit_id")
    except ValidationError as error:
        raise refuse(error) from error
    return Status(201, {"assigned": [row.asset.serial for row in rows]})


@router.post(
    "/equipment/deployments/{deployment_id}/status",
    response=DeploymentSummary,
    summary="Start, complete or cancel",
)
def set_status(
    request: AuthenticatedRequest, deployment_id: DeploymentId, payload: StatusIn
) -> Any:
    return _refusing(
        lambda: services.set_status(request.user, deployment_id, payload.status, payload.outcome)
    )


@router.post(
    "/equipment/deployments/{deployment_id}/schedule",
    response=DeploymentSummary,
    summary="Change an open deployment's dates",
)
def reschedule(
    request: AuthenticatedRequest, deployment_id: DeploymentId, payload: ScheduleIn
) -> Any:
    return _refusing(
        lambda: services.reschedule_deployment(
            request.user, deployment_id, starts_at=payload.starts_at, ends_at=payload.ends_at
        )
    )


@router.post(
    "/equipment/deployments/{deployment_id}/checklist",
    response=DeploymentSummary,
    summary="Tick a checklist item",
)
def checklist(
    request: AuthenticatedRequest, deployment_id: DeploymentId, payload: ChecklistIn
) -> Any:
    return _refusing(
        lambda: services.tick_checklist(
            request.user,
            deployment_id,
            which=payload.which,
            index=payload.index,
            done=payload.done,
        )
    )


@router.get("/equipment/deployment-log.csv", summary="Deployment log as CSV")
def deployment_log(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    deployments = selectors.export_deployment_log(user, selectors.DeploymentSearch(), "csv")
    return csvfiles.attachment(reports.deployment_log_csv(deployments), "deployment-log.csv")


@router.get("/equipment/calendar", response=CalendarOut, summary="Who is deployed where")
def calendar(request: AuthenticatedRequest, filters: Query[CalendarFilters]) -> dict[str, Any]:
    from django.utils import timezone

    user = request.user
    days, rows = selectors.calendar(user, filters.start or timezone.localdate(), filters.days)
    return {
        "days": days,
        "rows": [
            {
                "username": row.person.username,
                "cells": [[item["reference"] for item in cell] for cell in row.cells],
            }
            for row in rows
        ],
    }
