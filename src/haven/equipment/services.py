"""Equipment and deployment writes. Each is one transaction that also writes its ledger entry.

Bad input (double-booking an asset or a person, a hand-over from someone who does not hold the
item, an end before the start) raises ValidationError and saves nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.utils import timezone

from haven.access.models import TeamMembership
from haven.accounts.models import User
from haven.accounts.roles import Clearance, Module
from haven.audit import ledger, state
from haven.audit.models import Action
from haven.concurrency import references
from haven.concurrency.locking import ConflictError as ConflictError  # what callers catch
from haven.concurrency.locking import ensure_version
from haven.concurrency.transactions import service
from haven.notifications import services as notifications
from haven.notifications.models import AlertCategory
from haven.revisions import apply_changes, refuse_unknown_fields, require_reason, revise
from haven.workflow import TransitionTable

from . import permissions, selectors
from .models import (
    ASSET,
    DEPLOYABLE_STATES,
    DEPLOYMENT,
    MANUAL_TRANSITIONS,
    OPEN_STATUSES,
    OUT_OF_SERVICE,
    Asset,
    AssetRevision,
    AssetState,
    AssetType,
    CustodyEvent,
    CustodyKind,
    Deployment,
    DeploymentAsset,
    DeploymentStatus,
    KitList,
    TeamPlace,
)
from .selectors import require_operations, require_supervisor

STORE = "Store"
GENESIS = "0" * 64
INSTALL_CHECKLIST = (
    "Site survey and risk notes read",
    "Power and concealment checked",
    "Device tested and reporting",
    "Install photographed and logged",
)
RECOVERY_CHECKLIST = (
    "Device removed and counted",
    "Site left as found",
    "Kit signed back in",
)


def _fail(field: str | None, message: str) -> ValidationError:
    return ValidationError({field: message} if field else message)


# ------------------------------------------------------------------------------ assets


@service
def register_asset(
    actor: User,
    *,
    asset_type: AssetType,
    make: str,
    model_name: str,
    serial: str,
    device_id: str = "",
    firmware: str = "",
    sim_details: str = "",
    ip_details: str = "",
    notes: str = "",
    state: str = AssetState.IN_STOCK,
) -> Asset:
    """A supervisor registers kit; it is received into the store (first custody entry)."""
    require_supervisor(actor)
    errors: dict[str, str] = {}
    for name, value in (("make", make), ("model_name", model_name), ("serial", serial)):
        if not value.strip():
            errors[name] = f"Enter the {name.replace('_name', '')}"
    if serial.strip() and Asset.objects.filter(serial=serial.strip()).exists():
        errors["serial"] = "An asset with this serial is already registered"
    if device_id.strip() and Asset.objects.filter(device_id=device_id.strip()).exists():
        errors["device_id"] = "Another asset already reports with this device id"
    if state not in (AssetState.PROCURED, AssetState.IN_STOCK, AssetState.CONFIGURED):
        errors["state"] = "New kit is procured, in stock or configured"
    if errors:
        raise ValidationError(errors)
    asset = Asset(
        asset_type=asset_type,
        make=make.strip(),
        model_name=model_name.strip(),
        serial=serial.strip(),
        device_id=device_id.strip() or None,
        firmware=firmware.strip(),
        sim_details=sim_details.strip(),
        ip_details=ip_details.strip(),
        notes=notes.strip(),
        state=state,
        place=STORE,
    )
    asset.save(force_insert=True)
    _append_custody(
        asset,
        kind=CustodyKind.RECEIVED,
        from_place="Supplier",
        to_place=STORE,
        location=STORE,
        signer=actor,
        signature=actor.get_full_name() or actor.username,
        note="registered",
    )
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=ASSET,
        object_id=asset.pk,
        fields=("serial", "device_id", "sim_details", "ip_details"),
        justification="asset registered",
    )
    if asset.device_id:
        _register_tracker(actor, asset)
    return asset


# Asset types whose device id makes them a telemetry device, and the kind they report as.
TRACKER_KINDS = {
    "vehicle-tracker": "vehicle_tracker",
    "property-tracker": "property_tracker",
    "panic-button": "panic_alarm",
    "alarm-panel": "panic_alarm",
    "phone-app": "phone",
}


def _register_tracker(actor: User, asset: Asset) -> None:
    """Kit that reports with a device id is a tracker or alarm: registered with telemetry
    (unless already there), so that its receiver accepts it at once."""
    from haven.telemetry import services as telemetry

    kind = TRACKER_KINDS.get(asset.asset_type.code)
    if kind is None or telemetry.find_device(asset.device_id or "") is not None:
        return
    telemetry.register_device(
        actor,
        device_id=asset.device_id or "",
        name=f"{asset.make} {asset.model_name} {asset.serial}",
        kind=kind,
        asset_id=asset.pk,
    )


ASSET_CORRECTABLE = ("firmware", "sim_details", "ip_details", "notes", "device_id")


@service
def update_asset(
    actor: User, asset_id: UUID | str, *, version: int, reason: str, **changes: Any
) -> Asset:
    """Correct an asset's details with the version the corrector read and a reason: a stale
    version is refused (ConflictError), never overwritten; the values replaced are kept in an
    AssetRevision (the asset's history). Technical supervisors only (permissions)."""
    permissions.require_correct_asset(actor)
    asset = _locked_asset(asset_id)
    refuse_unknown_fields(changes, ASSET_CORRECTABLE, here=True)
    reason = require_reason(reason, "Say why the asset's details are being changed")
    changes = {
        name: (value or "").strip() if isinstance(value, str) or value is None else value
        for name, value in changes.items()
    }
    if "device_id" in changes:
        device_id = changes["device_id"] or None
        if device_id and Asset.objects.filter(device_id=device_id).exclude(pk=asset.pk).exists():
            raise _fail("device_id", "Another asset already reports with this device id")
        changes["device_id"] = device_id
    asset.updated_at = timezone.now()
    revise(
        actor,
        asset,
        AssetRevision(asset=asset),
        version=version,
        reason=reason,
        changes=changes,
        object_type=ASSET,
    )
    if asset.holder_id is not None and asset.holder_id != actor.pk:
        # Whoever holds the kit hears its details changed (never the person who changed them).
        notifications.notify(
            asset.holder,  # type: ignore[arg-type]
            AlertCategory.GENERAL,
            asset.serial,
            f"{actor} corrected the details of {asset.asset_type} {asset.serial}, which you hold.",
            f"/operations/assets/{asset.pk}/",
        )
    return asset


# ------------------------------------------------------------------------------ catalogue
#
# Kinds of kit are corrected (name, description, trackable) or retired, never deleted: a retired
# type is no longer offered for new kit, and the assets of that type keep showing it.

ASSET_TYPE_CORRECTABLE = ("name", "description", "trackable")


def _locked_asset_type(code: str) -> AssetType:
    try:
        return AssetType.objects.select_for_update().get(code=code)
    except AssetType.DoesNotExist as missing:
        raise selectors.NotFound("No such kind of kit") from missing


@service
def correct_asset_type(
    actor: User, code: str, *, version: int, reason: str, **changes: Any
) -> AssetType:
    """Correct a kind of kit with the version read and a reason (ledgered)."""
    permissions.require_manage_catalogue(actor)
    asset_type = _locked_asset_type(code)
    refuse_unknown_fields(changes, ASSET_TYPE_CORRECTABLE)
    reason = require_reason(reason, "Say why the kind of kit is being changed")
    changes = {k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}
    if "name" in changes and not changes["name"]:
        raise _fail("name", "Enter the name")
    previous = apply_changes(asset_type, changes, version=version, what="kind of kit")
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type="asset_type",
        object_id=str(asset_type.pk),
        fields=sorted(previous),
        justification=reason,
        details={"version": version + 1, "change": "corrected", "code": code, "was": previous},
    )
    return asset_type


@service
def retire_asset_type(actor: User, code: str, *, version: int, reason: str) -> AssetType:
    """Retire a kind of kit: no longer offered for new kit; its assets keep it (ledgered)."""
    permissions.require_manage_catalogue(actor)
    asset_type = _locked_asset_type(code)
    reason = (reason or "").strip()
    if not reason:
        raise _fail("reason", "Say why the kind of kit is being retired")
    if not asset_type.active:
        raise ValidationError("This kind of kit is already retired")
    ensure_version(AssetType, asset_type.pk, version, "kind of kit", active=False)
    asset_type.active, asset_type.version = False, version + 1
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type="asset_type",
        object_id=str(asset_type.pk),
        fields=("active",),
        justification=reason,
        details={"version": version + 1, "change": "retired", "code": code},
    )
    return asset_type


@service
def change_state(actor: User, asset_id: UUID | str, new_state: str, reason: str) -> Asset:
    require_supervisor(actor)
    asset = _locked_asset(asset_id)
    if not reason.strip():
        raise _fail("reason", "Say why the state is changing")
    MANUAL_TRANSITIONS.check(asset.state, new_state)
    if asset.holder_id is not None and new_state in OUT_OF_SERVICE:
        raise _fail("state", f"{asset.holder} still holds this asset: return it to the store first")
    old = asset.state
    asset.state = new_state
    asset.updated_at = timezone.now()
    asset.save(update_fields=["state", "updated_at"])
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=ASSET,
        object_id=asset.pk,
        fields=("state",),
        justification=reason.strip(),
        details={"from": old, "to": new_state},
    )
    return asset


def _locked_asset(asset_id: UUID | str) -> Asset:
    try:
        return Asset.objects.select_for_update().get(pk=asset_id)
    except (Asset.DoesNotExist, ValueError, TypeError) as missing:
        raise selectors.NotFound("No such asset") from missing


# ------------------------------------------------------------------------------ custody


def _entry_hash(previous: str, values: dict[str, Any]) -> str:
    body = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{previous}|{body}".encode()).hexdigest()


def _append_custody(
    asset: Asset,
    *,
    kind: str,
    signer: User,
    signature: str,
    location: str,
    from_user: User | None = None,
    from_place: str = "",
    to_user: User | None = None,
    to_place: str = "",
    deployment: Deployment | None = None,
    note: str = "",
    occurred_at: datetime | None = None,
) -> CustodyEvent:
    last = CustodyEvent.objects.filter(asset=asset).order_by("-sequence").first()
    sequence = (last.sequence + 1) if last else 1
    previous = last.entry_hash if last else GENESIS
    occurred_at = occurred_at or timezone.now()
    values = {
        "asset": str(asset.pk),
        "sequence": sequence,
        "kind": kind,
        "from_user": from_user.pk if from_user else None,
        "from_place": from_place,
        "to_user": to_user.pk if to_user else None,
        "to_place": to_place,
        "occurred_at": occurred_at.isoformat(),
        "location": location,
        "signed_by": signer.pk,
        "signature": signature,
        "deployment": str(deployment.pk) if deployment else None,
        "note": note,
    }
    return CustodyEvent.objects.create(
        asset=asset,
        sequence=sequence,
        kind=kind,
        from_user=from_user,
        from_place=from_place,
        to_user=to_user,
        to_place=to_place,
        occurred_at=occurred_at,
        location=location,
        signed_by=signer,
        signature=signature,
        deployment=deployment,
        note=note,
        previous_hash=previous,
        entry_hash=_entry_hash(previous, values),
    )


def chain_is_intact(asset: Asset) -> bool:
    """Recompute every link's hash: False if any custody row was altered or removed."""
    previous = GENESIS
    for number, event in enumerate(
        CustodyEvent.objects.filter(asset=asset).order_by("sequence"), 1
    ):
        values = {
            "asset": str(event.asset_id),
            "sequence": event.sequence,
            "kind": event.kind,
            "from_user": event.from_user_id,
            "from_place": event.from_place,
            "to_user": event.to_user_id,
            "to_place": event.to_place,
            "occurred_at": event.occurred_at.isoformat(),
            "location": event.location,
            "signed_by": event.signed_by_id,
            "signature": event.signature,
            "deployment": str(event.deployment_id) if event.deployment_id else None,
            "note": event.note,
        }
        if event.sequence != number or event.previous_hash != previous:
            return False
        if event.entry_hash != _entry_hash(previous, values):
            return False
        previous = event.entry_hash
    return True


def signature_matches(user: User, signature: str) -> bool:
    typed = " ".join(signature.split()).casefold()
    return bool(typed) and typed in {
        " ".join(user.get_full_name().split()).casefold(),
        user.username.casefold(),
    }


@service
def record_custody(
    actor: User,
    asset_id: UUID | str,
    *,
    kind: str,
    signature: str,
    location: str = "",
    from_user: User | None = None,
    deployment_id: UUID | str | None = None,
    note: str = "",
) -> CustodyEvent:
    """Append one hand-over to an asset's chain of custody.

    issued: the actor signs for an item in the store. handover: the actor receives the item
    from `from_user`, who must hold it. deployed: the holder installs it on a deployment it is
    assigned to. recovered: a team member recovers it from the site. returned: the holder hands
    it in (or a supervisor receives it from the holder).
    """
    require_operations(actor)
    asset = _locked_asset(asset_id)
    if kind not in CustodyKind.values or kind == CustodyKind.RECEIVED:
        raise _fail("kind", "Choose what is happening to the item")
    if not signature_matches(actor, signature):
        raise _fail("signature", "Sign with your full name as it appears on your account")
    if asset.state in OUT_OF_SERVICE:
        raise _fail(None, f"This asset is {asset.get_state_display().lower()}")
    deployment = None
    if deployment_id:
        try:
            deployment_id = references.object_id_for(deployment_id, DEPLOYMENT)
        except references.UnknownReference as bad:
            raise _fail(
                "deployment_id", "Enter a deployment reference such as DEP-2026-0001"
            ) from bad
        deployment = selectors.find_visible_deployment(actor, deployment_id)
    location = location.strip()
    event_kwargs: dict[str, Any] = {}

    if kind == CustodyKind.ISSUED:
        if asset.holder_id is not None or asset.place != STORE:
            raise _fail(None, f"This item is not in the store: {asset.custodian} has it")
        if asset.state not in (*DEPLOYABLE_STATES, AssetState.RECOVERED):
            raise _fail(
                None, f"An item that is {asset.get_state_display().lower()} cannot be issued"
            )
        event_kwargs = {"from_place": STORE, "to_user": actor}
        asset.holder, asset.place = actor, ""
        location = location or STORE
    elif kind == CustodyKind.HANDOVER:
        if from_user is None:
            raise _fail("from_user", "Say who is handing the item over")
        if asset.holder_id != from_user.pk:
            raise _fail(
                "from_user", f"{from_user} does not hold this item ({asset.custodian} does)"
            )
        if from_user.pk == actor.pk:
            raise _fail("from_user", "You already hold this item")
        event_kwargs = {"from_user": from_user, "to_user": actor}
        asset.holder = actor
    elif kind == CustodyKind.DEPLOYED:
        if asset.holder_id != actor.pk:
            raise _fail(None, f"You do not hold this item ({asset.custodian} does)")
        if deployment is None or not deployment.kit.filter(asset=asset).exists():
            raise _fail("deployment", "Choose the deployment this item is assigned to")
        if not deployment.is_open:
            raise _fail(
                "deployment", f"{deployment.reference} is {deployment.get_status_display().lower()}"
            )
        event_kwargs = {"from_user": actor, "to_place": f"Site of {deployment.reference}"}
        asset.holder, asset.place, asset.state = (
            None,
            f"Site of {deployment.reference}",
            AssetState.DEPLOYED,
        )
        if deployment.status == DeploymentStatus.PLANNED:
            deployment.status = DeploymentStatus.LIVE
            deployment.save(update_fields=["status"])
        location = location or f"Site of {deployment.reference}"
    elif kind == CustodyKind.RECOVERED:
        if asset.state != AssetState.DEPLOYED:
            raise _fail(None, "This item is not deployed")
        if deployment is None or asset.place != f"Site of {deployment.reference}":
            raise _fail("deployment", f"This item is at {asset.custodian}")
        event_kwargs = {"from_place": asset.place, "to_user": actor}
        asset.holder, asset.place, asset.state = actor, "", AssetState.RECOVERED
        location = location or f"Site of {deployment.reference}"
    elif kind == CustodyKind.RETURNED:
        if asset.holder_id is None:
            raise _fail(None, f"Nobody holds this item ({asset.custodian})")
        holder = asset.holder
        if holder is None or (holder.pk != actor.pk and not selectors.is_supervisor(actor)):
            raise _fail(None, f"You do not hold this item ({asset.custodian} does)")
        event_kwargs = {"from_user": holder, "to_place": STORE}
        asset.holder, asset.place = None, STORE
        location = location or STORE
    if not location:
        raise _fail("location", "Say where the hand-over happened")
    event = _append_custody(
        asset,
        kind=kind,
        signer=actor,
        signature=" ".join(signature.split()),
        location=location,
        deployment=deployment,
        note=note.strip(),
        **event_kwargs,
    )
    asset.updated_at = timezone.now()
    asset.save(update_fields=["holder", "place", "state", "updated_at"])
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="custody",
        object_id=event.pk,
        case_id=(deployment.case_id or "") if deployment else "",
        fields=("kind", "from", "to", "location", "signature"),
        justification=f"custody {kind}",
        details={"asset": str(asset.pk), "sequence": event.sequence},
    )
    return event


# ------------------------------------------------------------------------------ kit lists


@service
def create_kit(
    actor: User, *, name: str, description: str = "", assets: Iterable[Asset] = ()
) -> KitList:
    require_supervisor(actor)
    if not name.strip():
        raise _fail("name", "Name the kit list")
    if KitList.objects.filter(name=name.strip()).exists():
        raise _fail("name", "A kit list with this name exists")
    kit = KitList.objects.create(
        name=name.strip(), description=description.strip(), created_by=actor
    )
    kit.assets.set(list(assets))
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="kit",
        object_id=kit.pk,
        justification="kit list created",
        details={"assets": [str(a.pk) for a in kit.assets.all()]},
    )
    return kit


# ------------------------------------------------------------------------------ deployments


def next_reference() -> str:
    return references.next_reference(Deployment, "DEP", timezone.localdate().year, width=4)


def _check_times(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at is None or ends_at is None:
        raise _fail("starts_at", "Enter when the deployment starts and ends")
    if ends_at <= starts_at:
        raise _fail("ends_at", "The deployment must end after it starts")


def _person_clash(
    user: User, starts_at: datetime, ends_at: datetime, exclude: Deployment | None
) -> Deployment | None:
    clashes = Deployment.objects.filter(
        pk__in=selectors.deployed_places(Deployment.objects.all(), [user.pk]).values("object_id"),
        status__in=OPEN_STATUSES,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    )
    if exclude is not None:
        clashes = clashes.exclude(pk=exclude.pk)
    return clashes.order_by("starts_at", "reference").first()


def _asset_clash(
    asset: Asset, starts_at: datetime, ends_at: datetime, exclude: Deployment | None
) -> Deployment | None:
    clashes = DeploymentAsset.objects.filter(
        asset=asset,
        deployment__status__in=OPEN_STATUSES,
        deployment__starts_at__lt=ends_at,
        deployment__ends_at__gt=starts_at,
    )
    if exclude is not None:
        clashes = clashes.exclude(deployment=exclude)
    row = clashes.select_related("deployment").first()
    return row.deployment if row else None


@service
def create_deployment(
    actor: User,
    *,
    title: str,
    objective: str,
    starts_at: datetime,
    ends_at: datetime,
    install_address: str = "",
    site_risk_notes: str = "",
    case_id: UUID | str | None = None,
    operation_name: str = "",
    overnight_stays: int = 0,
    classification: int = Clearance.OFFICIAL,
) -> Deployment:
    """A supervisor builds an operational plan; they join its team as supervising officer."""
    require_supervisor(actor)
    if not title.strip():
        raise _fail("title", "Give the deployment a title")
    if not objective.strip():
        raise _fail("objective", "State the objective")
    _check_times(starts_at, ends_at)
    if overnight_stays < 0:
        raise _fail("overnight_stays", "Overnight stays cannot be negative")
    if classification not in Clearance.values or classification > actor.effective_clearance:
        raise _fail("classification", "Choose a classification you are cleared to")
    if case_id:
        try:
            case_id = references.object_id_for(case_id, "case")
        except references.UnknownReference as bad:
            raise _fail(
                "case_id", "Enter a case reference that exists, such as HVN-2026-00052"
            ) from bad
    deployment = Deployment(
        reference=next_reference(),
        title=title.strip(),
        objective=objective.strip(),
        case_id=case_id or None,
        operation_name=operation_name.strip(),
        install_address=install_address.strip(),
        site_risk_notes=site_risk_notes.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        overnight_stays=overnight_stays,
        classification=classification,
        install_checklist=[{"item": item, "done": False} for item in INSTALL_CHECKLIST],
        recovery_checklist=[{"item": item, "done": False} for item in RECOVERY_CHECKLIST],
        created_by=actor,
    )
    deployment.save(force_insert=True)
    TeamMembership.objects.create(
        object_type=DEPLOYMENT, object_id=deployment.pk, user=actor, team_role=TeamPlace.SUPERVISOR
    )
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type=DEPLOYMENT,
        object_id=deployment.pk,
        case_id=deployment.case_id or "",
        fields=("objective", "install_address", "site_risk_notes"),
        justification="deployment planned",
        details={
            "state": [
                state.classification_change(DEPLOYMENT, deployment),
                state.team_change(DEPLOYMENT, deployment.pk, actor.pk, TeamPlace.SUPERVISOR),
            ]
        },
    )
    return deployment


@service
def reschedule_deployment(
    actor: User, deployment_id: UUID | str, *, starts_at: datetime, ends_at: datetime
) -> Deployment:
    """Move an open deployment's period, refused if it would put a team member or an asset on
    two deployments at once (as planning and assigning refuse it); a finished deployment keeps
    the dates it had."""
    deployment = selectors.deployment_for_management(actor, deployment_id)
    if not deployment.is_open:
        raise _fail(None, f"A {deployment.get_status_display().lower()} deployment keeps its dates")
    _check_times(starts_at, ends_at)
    for member in deployment.team:
        if member.place == TeamPlace.SUPERVISOR:
            continue
        clash = _person_clash(member.user, starts_at, ends_at, deployment)
        if clash:
            raise _fail("starts_at", f"{member.user} is already on {clash.reference} then")
    for row in deployment.kit.select_related("asset"):
        clash = _asset_clash(row.asset, starts_at, ends_at, deployment)
        if clash:
            raise _fail("starts_at", f"{row.asset.serial} is already on {clash.reference} then")
    deployment.starts_at, deployment.ends_at = starts_at, ends_at
    deployment.save(update_fields=["starts_at", "ends_at"])
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=DEPLOYMENT,
        object_id=deployment.pk,
        case_id=deployment.case_id or "",
        fields=("starts_at", "ends_at"),
        justification="deployment rescheduled",
    )
    when = (
        f"{timezone.localtime(starts_at):%-d %b %Y %H:%M} to "
        f"{timezone.localtime(ends_at):%-d %b %Y %H:%M}"
    )
    notifications.notify_each(  # their days are planned round it
        (member.user for member in deployment.team if member.user != actor),
        AlertCategory.GENERAL,
        deployment.reference,
        f"{actor} moved deployment {deployment.reference} to {when}.",
        f"/operations/deployments/{deployment.pk}/",
    )
    return deployment


@service
def add_team_member(
    actor: User, deployment_id: UUID | str, member: User, place: str
) -> TeamMembership:
    deployment = selectors.deployment_for_management(actor, deployment_id)
    if place not in TeamPlace.values:
        raise _fail("place", "Choose a place on the team")
    if not member.can_use(Module.OPERATIONS):
        raise _fail("user", f"{member} is not a technical officer or supervisor")
    if place == TeamPlace.SUPERVISOR and not selectors.is_supervisor(member):
        raise _fail("place", f"{member} is not a technical supervisor")
    if member.effective_clearance < deployment.classification:
        raise _fail("user", f"{member} is not cleared to {deployment.marking}")
    if any(on_team.user.pk == member.pk for on_team in deployment.team):
        raise _fail("user", f"{member} is already on this deployment")
    if place != TeamPlace.SUPERVISOR:
        clash = _person_clash(member, deployment.starts_at, deployment.ends_at, deployment)
        if clash:
            raise _fail(
                "user",
                f"{member} is already deployed on {clash.reference} at that time (double-booked)",
            )
    row = TeamMembership.objects.create(
        object_type=DEPLOYMENT, object_id=deployment.pk, user=member, team_role=place
    )
    ledger.record(
        actor=actor,
        action=Action.ACCESS_GRANT,
        object_type=DEPLOYMENT,
        object_id=deployment.pk,
        case_id=deployment.case_id or "",
        recipients=[member.username],
        justification=f"added to deployment team as {place}",
        details={"state": [state.team_change(DEPLOYMENT, deployment.pk, member.pk, place)]},
    )
    if member != actor:
        notifications.notify(
            member,
            AlertCategory.ACCESS,
            deployment.reference,
            f"{actor} added you to deployment {deployment.reference} as "
            f"{TeamPlace(place).label.lower()}.",
            f"/operations/deployments/{deployment.pk}/",
        )
    return row


@service
def assign_asset(actor: User, deployment_id: UUID | str, asset: Asset) -> DeploymentAsset:
    deployment = selectors.deployment_for_management(actor, deployment_id)
    if not deployment.is_open:
        raise _fail("asset", f"{deployment.reference} is {deployment.get_status_display().lower()}")
    asset = _locked_asset(asset.pk)
    if asset.state in OUT_OF_SERVICE or asset.state == AssetState.MAINTENANCE:
        raise _fail("asset", f"{asset.serial} is {asset.get_state_display().lower()}")
    if deployment.kit.filter(asset=asset).exists():
        raise _fail("asset", f"{asset.serial} is already on this deployment")
    clash = _asset_clash(asset, deployment.starts_at, deployment.ends_at, deployment)
    if clash:
        raise _fail(
            "asset", f"{asset.serial} is already assigned to live deployment {clash.reference}"
        )
    row = DeploymentAsset.objects.create(deployment=deployment, asset=asset, assigned_by=actor)
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=DEPLOYMENT,
        object_id=deployment.pk,
        case_id=deployment.case_id or "",
        fields=("kit",),
        justification="asset assigned",
        details={"asset": str(asset.pk)},
    )
    return row


def kit_row(deployment: Deployment, asset_id: UUID | str) -> DeploymentAsset:
    """The asset's place on the deployment's current kit (404 if it is not on it)."""
    try:
        return deployment.kit.select_related("asset").get(asset_id=asset_id)
    except (DeploymentAsset.DoesNotExist, ValueError, ValidationError) as missing:
        raise selectors.NotFound("This asset is not on the deployment's kit") from missing


@service
def remove_asset(
    actor: User, deployment_id: UUID | str, asset_id: UUID | str, *, version: int, reason: str
) -> DeploymentAsset:
    """Take an asset off a deployment's kit: the assignment ends (who, when, why) and is kept.

    Only while the deployment is open, and not while the asset sits deployed at the site (it is
    recovered through the chain of custody first)."""
    deployment = selectors.deployment_for_management(actor, deployment_id)
    row = kit_row(deployment, asset_id)
    reason = (reason or "").strip()
    if not reason:
        raise _fail("reason", "Say why the asset is coming off the deployment")
    if not deployment.is_open:
        raise _fail(None, f"{deployment.reference} is {deployment.get_status_display().lower()}")
    asset = _locked_asset(row.asset_id)
    last = asset.custody.order_by("-sequence").first()
    if (
        asset.state == AssetState.DEPLOYED
        and last is not None
        and last.deployment_id == deployment.pk
    ):
        raise _fail(None, f"{asset.serial} is deployed at the site: recover it first")
    now = timezone.now()
    ensure_version(  # a concurrent removal no longer matches the current kit: a conflict
        DeploymentAsset,
        row.pk,
        version,
        "kit assignment",
        removed_at=now,
        removed_by=actor,
        removal_reason=reason,
    )
    row.refresh_from_db(from_queryset=DeploymentAsset.history.all())
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=DEPLOYMENT,
        object_id=deployment.pk,
        case_id=deployment.case_id or "",
        fields=("kit",),
        justification=reason,
        details={"asset": str(asset.pk), "removed": True, "version": version + 1},
    )
    return row


@service
def assign_kit(actor: User, deployment_id: UUID | str, kit: KitList) -> list[DeploymentAsset]:
    """All the kit list's assets, or none of them."""
    return [assign_asset(actor, deployment_id, asset) for asset in kit.assets.all()]


STATUS_MOVES = TransitionTable.from_moves(
    "deployment",
    {
        DeploymentStatus.PLANNED: (DeploymentStatus.LIVE, DeploymentStatus.CANCELLED),
        DeploymentStatus.LIVE: (DeploymentStatus.COMPLETED,),
        DeploymentStatus.COMPLETED: (),
        DeploymentStatus.CANCELLED: (),
    },
    labels=dict(DeploymentStatus.choices),
    field="status",
    refusal=lambda table, source, target: (
        f"A {table.label(source).lower()} deployment cannot become {target}"
    ),
)


@service
def set_status(
    actor: User, deployment_id: UUID | str, status: str, outcome: str = ""
) -> Deployment:
    deployment = selectors.deployment_for_management(actor, deployment_id)
    STATUS_MOVES.check(deployment.status, status)
    if status == DeploymentStatus.COMPLETED:
        if not outcome.strip():
            raise _fail("outcome", "Record the outcome")
        still_out = Asset.objects.filter(
            state=AssetState.DEPLOYED, place=f"Site of {deployment.reference}"
        )
        if still_out.exists():
            raise _fail(
                "status", f"Recover every item first ({', '.join(a.serial for a in still_out)})"
            )
        deployment.outcome = outcome.strip()
    if status == DeploymentStatus.CANCELLED and outcome.strip():
        deployment.outcome = outcome.strip()
    deployment.status = status
    deployment.save()
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=DEPLOYMENT,
        object_id=deployment.pk,
        case_id=deployment.case_id or "",
        fields=("status", "outcome"),
        justification=f"deployment {status}",
    )
    return deployment


@service
def tick_checklist(
    actor: User, deployment_id: UUID | str, *, which: str, index: int, done: bool
) -> Deployment:
    deployment = selectors.find_visible_deployment(actor, deployment_id)
    if which not in ("install", "recovery"):
        raise _fail("which", "Choose the install or the recovery checklist")
    attribute = f"{which}_checklist"
    items = list(getattr(deployment, attribute) or [])
    if not 0 <= index < len(items):
        raise _fail("index", "No such checklist item")
    items[index] = {
        **items[index],
        "done": bool(done),
        "by": actor.username if done else "",
        "at": timezone.now().isoformat() if done else "",
    }
    setattr(deployment, attribute, items)
    deployment.save()
    ledger.record(
        actor=actor,
        action=Action.ALTERATION,
        object_type=DEPLOYMENT,
        object_id=deployment.pk,
        case_id=deployment.case_id or "",
        fields=(attribute,),
        justification="checklist updated",
    )
    return deployment
