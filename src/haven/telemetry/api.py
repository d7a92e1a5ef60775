"""Alert endpoints for operations users: list, read, acknowledge; devices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal, cast
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from ninja.errors import HttpError

from haven.accounts.models import User
from haven.accounts.types import AuthenticatedRequest
from haven.ui.apihelpers import QueryFilters, attempt

from . import selectors, services
from .models import (
    Alert,
    AlertStatus,
    CaseTeamRole,
    DeviceKind,
    DeviceStatus,
    EscalationPolicy,
    EventType,
    PolicySource,
    TargetKind,
)

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


class AlertFilter(QueryFilters):
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


AlertMove = Callable[[User, UUID, str], Alert]


def _alert_move(name: str, move: AlertMove) -> Callable[..., AlertOut]:
    """The operation `POST /telemetry/alerts/{alert_id}/<name>` (operation id and URL name from
    `name`): acknowledge or resolve, then answer with the alert as the caller now sees it."""

    def operation(request: AuthenticatedRequest, alert_id: UUID, body: AcknowledgeIn) -> AlertOut:
        attempt(lambda: move(request.user, alert_id, body.note))
        return alert_out(selectors.get_alert(request.user, alert_id))

    operation.__name__ = operation.__qualname__ = name
    return router.post(f"/telemetry/alerts/{{alert_id}}/{name}", response=AlertOut)(operation)


acknowledge = _alert_move("acknowledge", services.acknowledge)


class DeviceSummary(Schema):
    """The fields every answer about a device carries, read from the device's attributes."""

    id: UUID
    device_id: str
    name: str
    kind: DeviceKind
    status: DeviceStatus
    protects_person: bool
    rota_name: str


class DeviceOut(DeviceSummary):
    last_seen_at: datetime | None
    battery_level: float | None


@router.get("/telemetry/devices", response=list[DeviceOut])
def list_devices(request: AuthenticatedRequest) -> list[DeviceOut]:
    return [DeviceOut.model_validate(d) for d in selectors.devices(request.user)]


resolve = _alert_move("resolve", services.resolve)


# ------------------------------------------------------------------------ escalation policies


class TargetOut(Schema):
    kind: TargetKind
    rota_name: str
    user: str | None
    team_role: str


class StepOut(Schema):
    id: int
    position: int
    delay_seconds: int
    targets: list[TargetOut]


class AssignmentOut(Schema):
    id: int
    source: PolicySource
    source_id: UUID


class PolicyOut(Schema):
    id: UUID
    name: str
    description: str
    repeat: int
    is_default: bool
    version: int
    steps: list[StepOut]
    assignments: list[AssignmentOut]


def policy_out(policy: EscalationPolicy) -> PolicyOut:
    return PolicyOut(
        id=policy.pk,
        name=policy.name,
        description=policy.description,
        repeat=policy.repeat,
        is_default=policy.is_default,
        version=policy.version,
        steps=[
            StepOut(
                id=step.pk,
                position=step.position,
                delay_seconds=step.delay_seconds,
                targets=[
                    TargetOut(
                        kind=TargetKind(t.kind),
                        rota_name=t.rota_name,
                        user=t.user.username if t.user else None,
                        team_role=t.team_role,
                    )
                    for t in step.targets.all()
                ],
            )
            for step in policy.steps.all()
        ],
        assignments=[
            AssignmentOut(id=a.pk, source=PolicySource(a.source), source_id=a.source_id)
            for a in policy.assignments.all()
        ],
    )


class PolicyIn(Schema):
    name: str = Field(max_length=120)
    description: str = Field("", max_length=300)
    repeat: int = Field(0, ge=0, le=10)
    is_default: bool = False


class PolicyChangeIn(PolicyIn):
    version: int


class TargetIn(Schema):
    kind: TargetKind
    rota_name: str = ""
    user_id: int | None = None
    team_role: CaseTeamRole | None = None


class StepIn(Schema):
    delay_seconds: int = Field(300, ge=0, le=86400)
    targets: list[TargetIn]


class PolicyAssignIn(Schema):
    source: PolicySource
    source_id: UUID


@router.get("/telemetry/policies", response=list[PolicyOut], summary="Escalation policies")
def list_policies(request: AuthenticatedRequest) -> list[PolicyOut]:
    return [policy_out(p) for p in selectors.policies(request.user)]


@router.get("/telemetry/policies/{policy_id}", response=PolicyOut)
def get_policy(request: AuthenticatedRequest, policy_id: UUID) -> PolicyOut:
    return policy_out(selectors.get_policy(request.user, policy_id))


@router.post("/telemetry/policies", response={201: PolicyOut}, summary="Create a policy")
def create_policy(request: AuthenticatedRequest, body: PolicyIn) -> Status[PolicyOut]:
    policy = attempt(lambda: services.create_policy(request.user, **body.dict()))
    return Status(201, policy_out(selectors.get_policy(request.user, policy.pk)))


@router.put("/telemetry/policies/{policy_id}", response=PolicyOut, summary="Change a policy")
def update_policy(
    request: AuthenticatedRequest, policy_id: UUID, body: PolicyChangeIn
) -> PolicyOut:
    attempt(lambda: services.update_policy(request.user, policy_id, **body.dict()))
    return policy_out(selectors.get_policy(request.user, policy_id))


@router.post(
    "/telemetry/policies/{policy_id}/steps",
    response={201: PolicyOut},
    summary="Add a step at the end: its targets and minutes to acknowledge",
)
def add_step(request: AuthenticatedRequest, policy_id: UUID, body: StepIn) -> Status[PolicyOut]:
    targets = [
        services.TargetSpec(t.kind, t.rota_name, t.user_id, t.team_role or "") for t in body.targets
    ]
    attempt(
        lambda: services.add_step(
            request.user, policy_id, delay_seconds=body.delay_seconds, targets=targets
        )
    )
    return Status(201, policy_out(selectors.get_policy(request.user, policy_id)))


@router.delete(
    "/telemetry/policies/{policy_id}/steps/{policy_step_id}",
    response={204: None},
    summary="Remove a step",
)
def remove_step(
    request: AuthenticatedRequest, policy_id: UUID, policy_step_id: int
) -> Status[None]:
    attempt(lambda: services.remove_step(request.user, policy_id, policy_step_id))
    return Status(204, None)


@router.post(
    "/telemetry/policies/{policy_id}/assignments",
    response={201: PolicyOut},
    summary="Use the policy for a device, deployment or case",
)
def assign_policy(
    request: AuthenticatedRequest, policy_id: UUID, body: PolicyAssignIn
) -> Status[PolicyOut]:
    attempt(
        lambda: services.assign_policy(
            request.user, policy_id, source=body.source, source_id=body.source_id
        )
    )
    return Status(201, policy_out(selectors.get_policy(request.user, policy_id)))


# The register (devices, zones) and the map's positions: operations on this same router.
from . import register_api  # noqa: E402, F401
