"""Policy-checked reads of equipment and deployments.

The register (types, makes, serials, states, who holds what) is open to the operations module.
SIM and IP details are shown to supervisors and to the person holding the item, and each view
is a consultation entry in the ledger. A deployment is opened only by its team: anyone else is
answered exactly as if it did not exist (404).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from haven.access import modules, policy
from haven.access.models import TeamMembership
from haven.access.visibility import Access, cleared, restrict
from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service

from .models import (
    ASSET,
    DEPLOYMENT,
    OPEN_STATUSES,
    Asset,
    AssetRevision,
    AssetType,
    CustodyEvent,
    Deployment,
    KitList,
    TeamMember,
    TeamPlace,
)

PAGE_SIZE = 25
ASSET_SORTS = {
    "serial": "serial",
    "-serial": "-serial",
    "type": "asset_type__name",
    "state": "state",
    "updated": "-updated_at",
}
DEPLOYMENT_FIELDS = (
    "objective",
    "install_address",
    "site_risk_notes",
    "install_checklist",
    "recovery_checklist",
    "outcome",
)
DEFAULT_JUSTIFICATION = "operational duty"


class NotFound(Http404):
    pass


# The operations module rules live in haven.access.modules; these names keep equipment's callers.
require_operations = modules.require_operations
is_supervisor = modules.is_technical_supervisor
require_supervisor = modules.require_technical_supervisor


# ------------------------------------------------------------------------------ assets


def asset_types(active_only: bool = True) -> QuerySet[AssetType]:
    types = AssetType.objects.all()
    return types.filter(active=True) if active_only else types


@dataclass(frozen=True)
class AssetSearch:
    q: str = ""
    state: str = ""
    asset_type: str = ""
    holder: str = ""
    sort: str = "serial"


def search_assets(user: User, search: AssetSearch) -> QuerySet[Asset]:
    require_operations(user)
    assets = restrict(Asset.objects.select_related("asset_type", "holder"), user)
    if search.q.strip():
        term = search.q.strip()
        assets = assets.filter(
            Q(serial__icontains=term)
            | Q(device_id__icontains=term)
            | Q(make__icontains=term)
            | Q(model_name__icontains=term)
        )
    if search.state:
        assets = assets.filter(state=search.state)
    if search.asset_type:
        assets = assets.filter(asset_type__code=search.asset_type)
    if search.holder == "me":
        assets = assets.filter(holder=user)
    elif search.holder == "store":
        assets = assets.filter(holder__isnull=True, place="Store")
    return assets.order_by(ASSET_SORTS.get(search.sort, "serial"), "serial")


def list_assets(user: User, search: AssetSearch, page_number: int | str | None) -> Page:
    return Paginator(search_assets(user, search), PAGE_SIZE).get_page(page_number)


def get_asset(user: User, asset_id: UUID | str) -> Asset:
    require_operations(user)
    try:
        return restrict(Asset.objects.select_related("asset_type", "holder"), user).get(pk=asset_id)
    except (Asset.DoesNotExist, ValueError, TypeError) as missing:
        raise NotFound("No such asset") from missing


def may_see_link_details(user: User, asset: Asset) -> bool:
    return is_supervisor(user) or (asset.holder_id is not None and asset.holder_id == user.pk)


@service
def asset_link_details(user: User, asset: Asset, purpose: str | None = None) -> dict[str, str]:
    """SIM and IP details: supervisors and the holder only; each view is in the ledger."""
    if not may_see_link_details(user, asset):
        return {}
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=ASSET,
        object_id=asset.pk,
        fields=("sim_details", "ip_details"),
        justification=purpose or DEFAULT_JUSTIFICATION,
    )
    return {"sim_details": asset.sim_details, "ip_details": asset.ip_details}


LINK_FIELDS = ("sim_details", "ip_details")
WITHHELD = "Withheld"


@service
def asset_history(
    user: User, asset_id: UUID | str, purpose: str | None = None
) -> tuple[Asset, list[AssetRevision]]:
    """An asset's current details and every earlier version (newest first), for anyone in
    operations who may open the asset; earlier SIM and IP details only for those who may see
    them now (supervisors and the holder). Logged as one consultation."""
    asset = get_asset(user, asset_id)
    revisions = list(AssetRevision.objects.filter(asset=asset).select_related("changed_by"))
    shown = may_see_link_details(user, asset)
    if not shown:
        for revision in revisions:
            revision.previous = {
                name: WITHHELD if name in LINK_FIELDS else value
                for name, value in revision.previous.items()
            }
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=ASSET,
        object_id=asset.pk,
        fields=(*(LINK_FIELDS if shown else ()), "history"),
        justification=purpose or DEFAULT_JUSTIFICATION,
        details={"versions": len(revisions) + 1},
    )
    return asset, revisions


def asset_by_serial(serial: str) -> Asset | None:
    """System lookup (telemetry): the asset with this serial, or None."""
    return Asset.objects.select_related("asset_type").filter(serial=serial.strip()).first()


def asset_by_device_id(device_id: str) -> Asset | None:
    """System lookup (telemetry): the asset reporting with this device id, or None."""
    if not device_id or not device_id.strip():
        return None
    return Asset.objects.select_related("asset_type").filter(device_id=device_id.strip()).first()


def live_deployment_for_asset(asset: Asset, at: datetime | None = None) -> Deployment | None:
    """System lookup (telemetry): the open deployment the asset is on at `at` (default now)."""
    return live_deployment_for_asset_id(asset.pk, at)


def live_deployment_for_asset_id(asset_id: UUID, at: datetime | None = None) -> Deployment | None:
    """System lookup (telemetry's alert routing): as live_deployment_for_asset, by asset id."""
    at = at or timezone.now()
    return (
        Deployment.objects.filter(
            kit__asset_id=asset_id,
            kit__removed_at__isnull=True,
            status__in=OPEN_STATUSES,
            starts_at__lte=at,
            ends_at__gt=at,
        )
        .order_by("starts_at")
        .first()
    )


def custody_history(user: User, asset_id: UUID | str) -> QuerySet[CustodyEvent]:
    asset = get_asset(user, asset_id)
    return CustodyEvent.objects.filter(asset=asset).select_related(
        "from_user", "to_user", "signed_by", "deployment"
    )


def kit_lists(user: User) -> QuerySet[KitList]:
    require_operations(user)
    return restrict(KitList.objects.prefetch_related("assets", "assets__asset_type"), user)


def get_kit(user: User, kit_id: int | str) -> KitList:
    try:
        return kit_lists(user).get(pk=kit_id)
    except (KitList.DoesNotExist, ValueError, TypeError) as missing:
        raise NotFound("No such kit list") from missing


# ------------------------------------------------------------------------------ deployments


def deployments_visible_to(user: User) -> QuerySet[Deployment]:
    """The deployments the user may see (visibility.deployment_rule: module role, a place on
    the team, clearance)."""
    return restrict(Deployment, user)


@dataclass(frozen=True)
class DeploymentSearch:
    q: str = ""
    status: str = ""
    sort: str = "-starts"


DEPLOYMENT_SORTS = {
    "-starts": "-starts_at",
    "starts": "starts_at",
    "reference": "reference",
    "status": "status",
}


def search_deployments(user: User, search: DeploymentSearch) -> QuerySet[Deployment]:
    deployments = deployments_visible_to(user)
    if search.q.strip():
        term = search.q.strip()
        deployments = deployments.filter(
            Q(reference__icontains=term)
            | Q(title__icontains=term)
            | Q(operation_name__icontains=term)
        )
    if search.status:
        deployments = deployments.filter(status=search.status)
    return deployments.order_by(DEPLOYMENT_SORTS.get(search.sort, "-starts_at"), "reference")


def list_deployments(user: User, search: DeploymentSearch, page_number: int | str | None) -> Page:
    """A page of deployments (titles and dates only: no protected fields are shown)."""
    return Paginator(search_deployments(user, search), PAGE_SIZE).get_page(page_number)


def find_visible_deployment(user: User, deployment_id: UUID | str) -> Deployment:
    try:
        return deployments_visible_to(user).get(pk=deployment_id)
    except (Deployment.DoesNotExist, ValueError, TypeError) as missing:
        raise NotFound("No such deployment") from missing


@service
def get_deployment(user: User, deployment_id: UUID | str, purpose: str | None = None) -> Deployment:
    """Open a deployment (team only) and write the read to the ledger."""
    deployment = find_visible_deployment(user, deployment_id)
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=DEPLOYMENT,
        object_id=deployment.pk,
        case_id=deployment.case_id or "",
        fields=DEPLOYMENT_FIELDS,
        justification=purpose or DEFAULT_JUSTIFICATION,
    )
    return deployment


def team_place(user: User, deployment: Deployment) -> str | None:
    places = policy.team_roles(user, DEPLOYMENT, deployment.pk)
    return min(places) if places else None


def with_teams(deployments: list[Deployment]) -> list[Deployment]:
    """Load the teams of many deployments in one query (each one's `team`)."""
    teams = policy.teams_of(DEPLOYMENT, [d.pk for d in deployments])
    for deployment in deployments:
        deployment.team = [TeamMember(m.user, m.team_role) for m in teams[deployment.pk]]
    return deployments


def deployed_places(
    deployments: QuerySet[Deployment], user_ids: list[int] | None = None
) -> QuerySet[TeamMembership]:
    """Team places (not supervising) on these deployments: who is out on the ground."""
    rows = TeamMembership.objects.filter(
        object_type=DEPLOYMENT, object_id__in=deployments.values("pk")
    ).exclude(team_role=TeamPlace.SUPERVISOR)
    return rows if user_ids is None else rows.filter(user_id__in=user_ids)


def may_manage(user: User, deployment: Deployment) -> bool:
    """The supervising officer's place and the supervisor role (visibility.deployment_rule)."""
    return restrict(Deployment.objects.filter(pk=deployment.pk), user, Access.CHANGE).exists()


def deployment_for_management(user: User, deployment_id: UUID | str) -> Deployment:
    try:
        return restrict(Deployment, user, Access.CHANGE).get(pk=deployment_id)
    except (Deployment.DoesNotExist, ValueError, TypeError) as missing:
        raise NotFound("No such deployment") from missing


def deployment_windows(
    user_ids: list[int] | None, start: datetime, end: datetime
) -> list[tuple[int, datetime, datetime, str]]:
    """(user id, starts, ends, reference) of open or completed deployments overlapping the
    range, for welfare calculations. Carries no protected field."""
    deployments = Deployment.objects.filter(
        starts_at__lt=end, ends_at__gt=start, status__in=(*OPEN_STATUSES, "completed")
    )
    rows = deployed_places(deployments, user_ids).values_list("user_id", "object_id")
    windows = {
        pk: (starts, ends, reference)
        for pk, starts, ends, reference in deployments.filter(
            pk__in=rows.values("object_id")
        ).values_list("pk", "starts_at", "ends_at", "reference")
    }
    return [(user_id, *windows[object_id]) for user_id, object_id in rows]


def deployment_periods(deployment_ids: list[UUID]) -> dict[UUID, tuple[datetime, datetime]]:
    """Planned (starts, ends) of these deployments, for checking them against their legal
    authority (haven.authorisations). Carries no protected field: dates only."""
    rows = Deployment.objects.filter(pk__in=deployment_ids).values_list(
        "pk", "starts_at", "ends_at"
    )
    return {pk: (starts, ends) for pk, starts, ends in rows}


# ------------------------------------------------------------------------------ calendar


@dataclass
class CalendarRow:
    person: User
    cells: list[list[dict[str, Any]]] = field(default_factory=list)


def calendar(user: User, first_day: date, days: int = 14) -> tuple[list[date], list[CalendarRow]]:
    """Who is deployed where: one row per person, one cell per day. Deployments the user is
    not on show only their reference (no title, address or objective)."""
    require_operations(user)
    days = max(1, min(days, 62))
    tz = timezone.get_current_timezone()
    day_list = [first_day + timedelta(days=offset) for offset in range(days)]
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=tz)
    end = start + timedelta(days=days)
    visible = set(deployments_visible_to(user).values_list("pk", flat=True))
    deployments = Deployment.objects.filter(
        starts_at__lt=end,
        ends_at__gt=start,
        status__in=OPEN_STATUSES + ("completed",),
    ).filter(cleared(user))
    if not is_supervisor(user):
        deployments = deployments.filter(pk__in=visible)
    by_id = {deployment.pk: deployment for deployment in deployments}
    members = sorted(
        TeamMembership.objects.filter(object_type=DEPLOYMENT, object_id__in=list(by_id))
        .select_related("user")
        .order_by("user__username"),
        key=lambda member: (member.user.username, by_id[member.object_id].starts_at),
    )
    rows: dict[int, CalendarRow] = {}
    for member in members:
        row = rows.setdefault(member.user_id, CalendarRow(member.user, [[] for _ in day_list]))
        deployment = by_id[member.object_id]
        place = TeamMember(member.user, member.team_role)
        for index, day in enumerate(day_list):
            day_start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
            if (
                deployment.starts_at < day_start + timedelta(days=1)
                and deployment.ends_at > day_start
            ):
                row.cells[index].append(
                    {
                        "reference": deployment.reference,
                        "title": deployment.title if deployment.pk in visible else "",
                        "id": deployment.pk if deployment.pk in visible else None,
                        "place": place.get_place_display(),
                    }
                )
    return day_list, list(rows.values())


# ------------------------------------------------------------------------------ exports


def _disclose(
    user: User, object_type: str, object_id: object, what: str, fmt: str, **extra: Any
) -> None:
    ledger.record(
        actor=user,
        action=Action.DISCLOSURE,
        object_type=object_type,
        object_id=object_id,
        recipients=[user.username],
        justification=f"{what} exported as {fmt}",
        details=extra,
    )


@service
def export_custody(user: User, asset_id: UUID | str, fmt: str) -> tuple[Asset, list[CustodyEvent]]:
    asset = get_asset(user, asset_id)
    events = list(custody_history(user, asset.pk))
    _disclose(user, ASSET, asset.pk, "custody history", fmt, entries=len(events))
    return asset, events


@service
def export_deployment_log(user: User, search: DeploymentSearch, fmt: str) -> list[Deployment]:
    deployments = with_teams(
        list(search_deployments(user, search).prefetch_related("kit__asset")[:2000])
    )
    _disclose(
        user, DEPLOYMENT, "log", "deployment log", fmt, deployments=[str(d.pk) for d in deployments]
    )
    return deployments


@service
def export_plan(user: User, deployment_id: UUID | str) -> Deployment:
    deployment = find_visible_deployment(user, deployment_id)
    ledger.record(
        actor=user,
        action=Action.DISCLOSURE,
        object_type=DEPLOYMENT,
        object_id=deployment.pk,
        case_id=deployment.case_id or "",
        fields=DEPLOYMENT_FIELDS,
        recipients=[user.username],
        justification="operational plan exported as PDF",
    )
    return deployment


@dataclass(frozen=True)
class CaseDeployment:
    """What a protection case's team may know of a deployment protecting the case: that it
    exists, when and in what state. The plan (address, kit, team, notes) stays need-to-know
    of the deployment's own team."""

    reference: str
    status: str
    starts_at: datetime
    ends_at: datetime


def deployments_protecting(user: User, case_id: UUID) -> list[CaseDeployment]:
    """The deployments linked to a case, within the user's clearance. The caller has opened
    the case for the user (cases.selectors), which is what entitles them to this list."""
    rows = Deployment.objects.filter(cleared(user), case_id=case_id)
    return [
        CaseDeployment(d.reference, d.get_status_display(), d.starts_at, d.ends_at)
        for d in rows.order_by("-starts_at")
    ]
