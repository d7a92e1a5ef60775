"""Alert endpoints for operations users: list, read, acknowledge; devices."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast
from uuid import UUID

from ninja import Query, Router, Schema
from ninja.errors import HttpError

from haven.accounts.types import AuthenticatedRequest

from . import selectors, services
from .models import Alert, AlertStatus, DeviceKind, DeviceStatus, EventType

router = Router(tags=["telemetry"])
Severity = Literal["critical", "warning", "info"]  # events.CRITICAL, WARNING, INFO


class AlertOut(Schema):
    id: UUID
    title: str
    severity: Severity
    status: AlertStatus
    late: bool
    device_id: str
    event_type: EventType
    event_key: str
    event_time: datetime
    raised_at: datetime
    escalation_level: int
    routed_to: str | None
    acknowledged_by: str | None
    acknowledged_at: datetime | None


def alert_out(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.pk,
        title=alert.title,
        severity=cast(Severity, alert.severity),
        status=AlertStatus(alert.status),
        late=alert.late,
        device_id=alert.device.device_id,
        event_type=EventType(alert.event.type),
        event_key=alert.event.key,
        event_time=alert.event.event_time,
        raised_at=alert.raised_at,
        escalation_level=alert.escalation_level,
        routed_to=alert.routed_to.username if alert.routed_to else None,
        acknowledged_by=alert.acknowledged_by.username if alert.acknowledged_by else None,
        acknowledged_at=alert.acknowledged_at,
    )


class AlertFilter(Schema):
    status: Literal["open", "acknowledged", "all"] = "open"
    page: int = 1


class AlertPage(Schema):
    count: int
    page: int
    pages: int
    items: list[AlertOut]


@router.get("/telemetry/alerts", response=AlertPage)
def list_alerts(request: AuthenticatedRequest, filters: Query[AlertFilter]) -> AlertPage:
    user = request.user
    if filters.status not in selectors.STATUS_FILTERS:
        raise HttpError(422, f"status: one of {', '.join(selectors.STATUS_FILTERS)}")
    page = selectors.list_alerts(user, filters.status, filters.page)
    return AlertPage(
        count=page.paginator.count,
        page=page.number,
        pages=page.paginator.num_pages,
        items=[alert_out(a) for a in page],
    )


@router.get("/telemetry/alerts/{alert_id}", response=AlertOut)
def get_alert(request: AuthenticatedRequest, alert_id: UUID) -> AlertOut:
    return alert_out(selectors.get_alert(request.user, alert_id))


class AcknowledgeIn(Schema):
    note: str = ""


@router.post("/telemetry/alerts/{alert_id}/acknowledge", response=AlertOut)
def acknowledge(request: AuthenticatedRequest, alert_id: UUID, body: AcknowledgeIn) -> AlertOut:
    user = request.user
    try:
        services.acknowledge(user, alert_id, body.note)
    except services.AlertNotFound as missing:
        raise selectors.NotFound("No such alert") from missing
    except services.ConflictError as conflict:
        raise HttpError(409, str(conflict)) from conflict
    return alert_out(selectors.get_alert(user, alert_id))


class DeviceOut(Schema):
    id: UUID
    device_id: str
    name: str
    kind: DeviceKind
    status: DeviceStatus
    protects_person: bool
    last_seen_at: datetime | None
    battery_level: float | None
    rota_name: str


@router.get("/telemetry/devices", response=list[DeviceOut])
def list_devices(request: AuthenticatedRequest) -> list[DeviceOut]:
    return [
        DeviceOut(
            id=d.pk,
            device_id=d.device_id,
            name=d.name,
            kind=DeviceKind(d.kind),
            status=DeviceStatus(d.status),
            protects_person=d.protects_person,
            last_seen_at=d.last_seen_at,
            battery_level=d.battery_level,
            rota_name=d.rota_name,
        )
        for d in selectors.devices(request.user)
    ]
