"""Reads of the register. `find_*` checks access; `get_*` checks and writes the read to the
ledger. Unauthorised and missing records answer the same 404."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import F, Field, Q, QuerySet
from django.http import Http404

from haven.access import modules
from haven.access.visibility import NOTHING, Access, restrict, visible
from haven.accounts.models import User
from haven.audit import ledger
from haven.audit.models import Action
from haven.concurrency.transactions import service

from .models import AUTHORISATION, QUARANTINE, Authorisation, Link, QuarantinedPosition

Window = tuple[dt.datetime, dt.datetime]

is_supervisor = modules.is_technical_supervisor
require_supervisor = modules.require_technical_supervisor


class NotFound(Http404):
    pass


def authorisations_visible_to(user: User) -> QuerySet[Authorisation]:
    return restrict(Authorisation, user)


def find_authorisation(user: User, authorisation_id: UUID | str) -> Authorisation:
    try:
        return authorisations_visible_to(user).get(pk=authorisation_id)
    except (Authorisation.DoesNotExist, ValueError, TypeError) as missing:
        raise NotFound("No such authorisation") from missing


@service
def get_authorisation(user: User, authorisation_id: UUID | str) -> Authorisation:
    """Open one authorisation (its officer and summary are decrypted): a consultation."""
    authorisation = find_authorisation(user, authorisation_id)
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=AUTHORISATION,
        object_id=authorisation.pk,
        fields=["authorising_officer", "summary", "cancellation_reason"],
    )
    return authorisation


def may_manage(user: User) -> bool:
    """Recording, reviewing, renewing, cancelling and linking (visibility's CHANGE rule)."""
    return visible(Authorisation, user, Access.CHANGE) is not NOTHING


# ------------------------------------------------------------------------------ authority


def authority_for_devices(devices: Mapping[UUID, UUID | None]) -> dict[UUID, list[Window]]:
    """For trackers under any authorisation (linked directly, or through the deployment they are
    fitted to: `devices` maps device pk → deployment id), the periods in which they may report.
    A tracker under no authorisation is absent (it is not covert: nothing to check). One query;
    the ingest path calls this for every batch, without a user (it is not a read of the data)."""
    deployments = {deployment for deployment in devices.values() if deployment is not None}
    links: Iterable[tuple[Any, ...]]
    if connection.vendor == "postgresql":
        # The same query as below, as two array parameters (not one per id) and without the
        # ORM's compiling, which cost more than the rest of the query for each ingest batch.
        connection.ensure_connection()
        with connection.wrap_database_errors, connection.cursor() as cursor:
            cursor.execute(_links_sql(), [list(devices), list(deployments)])
            links = cursor.fetchall()
    else:
        links = Link.objects.filter(
            Q(device_pk__in=list(devices)) | Q(deployment_id__in=list(deployments))
        ).values_list(
            "device_pk",
            "deployment_id",
            "authorisation__granted_at",
            "authorisation__expires_at",
            "authorisation__cancelled_at",
        )
    by_deployment: dict[UUID, list[Window]] = defaultdict(list)
    windows: dict[UUID, list[Window]] = defaultdict(list)
    for device_pk, deployment_id, granted, expires, cancelled in links:
        ends = min(expires, cancelled) if cancelled is not None else expires
        if device_pk is not None:
            windows[device_pk].append((granted, ends))
        elif deployment_id is not None:
            by_deployment[deployment_id].append((granted, ends))
    for device_pk, deployment_id in devices.items():
        if deployment_id in by_deployment:
            windows[device_pk] += by_deployment[deployment_id]
    return dict(windows)


@cache
def _links_sql() -> str:
    """Links of any of the devices (uuid[]) or deployments (uuid[]), with their periods."""
    qn = connection.ops.quote_name

    def column(model: type[Link] | type[Authorisation], name: str) -> str:
        field = model._meta.get_field(name)
        assert isinstance(field, Field) and field.column is not None
        return qn(field.column)

    device_pk, deployment = column(Link, "device_pk"), column(Link, "deployment_id")
    periods = ", ".join(
        f"a.{column(Authorisation, name)}" for name in ("granted_at", "expires_at", "cancelled_at")
    )
    join = f"a.{column(Authorisation, 'id')} = l.{column(Link, 'authorisation')}"
    return (
        f"SELECT l.{device_pk}, l.{deployment}, {periods} "  # noqa: S608
        f"FROM {qn(Link._meta.db_table)} l JOIN {qn(Authorisation._meta.db_table)} a ON {join} "
        f"WHERE l.{device_pk} = ANY(%s::uuid[]) OR l.{deployment} = ANY(%s::uuid[])"
    )


def covered(windows: Iterable[Window], moment: dt.datetime) -> bool:
    return any(start <= moment < end for start, end in windows)


def gap_around(
    windows: Iterable[Window], moment: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The unauthorised period `moment` (covered by none of `windows`) falls in: from the end
    of the last authorised period before it (None: before any) to the start of the next one
    after it (None: none yet). Quarantine tells supervisors once per such period."""
    windows = list(windows)
    starts = max((end for _, end in windows if end <= moment), default=None)
    ends = min((start for start, _ in windows if start > moment), default=None)
    return starts, ends


@dataclass(frozen=True)
class DeploymentCheck:
    """A linked deployment and whether its planned period lies inside the authority."""

    link: Link
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None

    def problems(self, authorisation: Authorisation) -> list[str]:
        if self.starts_at is None or self.ends_at is None:
            return ["the deployment is not visible to you or no longer exists"]
        found = []
        if self.starts_at < authorisation.granted_at:
            found.append("starts before the authorisation was granted")
        if self.ends_at > authorisation.ends_at:
            state = "cancelled" if authorisation.ends_at != authorisation.expires_at else "expires"
            found.append(f"continues after the authorisation {state}")
        return found


def deployment_checks(
    authorisation: Authorisation, periods: Mapping[UUID, tuple[dt.datetime, dt.datetime]]
) -> list[tuple[DeploymentCheck, list[str]]]:
    """Each linked deployment with what is wrong with it (empty: inside its authority).
    `periods` gives the deployments' planned (starts, ends), from haven.equipment."""
    checks = []
    for link in authorisation.links.filter(deployment_id__isnull=False):
        starts, ends = periods.get(link.deployment_id, (None, None))  # type: ignore[arg-type]
        check = DeploymentCheck(link, starts, ends)
        checks.append((check, check.problems(authorisation)))
    return checks


def outside_authority(
    authorisations: Iterable[Authorisation],
    periods: Mapping[UUID, tuple[dt.datetime, dt.datetime]],
) -> set[UUID]:
    """The authorisations with a linked deployment planned outside their period."""
    flagged = set()
    for authorisation in authorisations:
        if any(problems for _, problems in deployment_checks(authorisation, periods)):
            flagged.add(authorisation.pk)
    return flagged


def linked_deployment_ids(authorisations: Iterable[Authorisation]) -> set[UUID]:
    ids = [a.pk for a in authorisations]
    found = Link.objects.filter(authorisation_id__in=ids, deployment_id__isnull=False)
    return set(found.values_list("deployment_id", flat=True))  # type: ignore[arg-type]


def due_reminders(now: dt.datetime, before: dt.timedelta) -> QuerySet[Authorisation]:
    """In force, expiring within `before`, not yet reminded for this expiry."""
    return (
        Authorisation.objects.filter(
            cancelled_at__isnull=True, granted_at__lte=now, expires_at__gt=now
        )
        .filter(expires_at__lte=now + before)
        .exclude(reminded_for__isnull=False, reminded_for=F("expires_at"))
    )


# ------------------------------------------------------------------------------ quarantine


def quarantine_visible_to(user: User) -> QuerySet[QuarantinedPosition]:
    return restrict(QuarantinedPosition, user)


@service
def get_quarantine(user: User) -> list[QuarantinedPosition]:
    """The positions kept apart (supervisors only; anyone else 404): their reports are
    decrypted, so the read is a consultation in the ledger."""
    require_supervisor(user)
    rows = list(quarantine_visible_to(user)[:500])
    ledger.record(
        actor=user,
        action=Action.CONSULTATION,
        object_type=QUARANTINE,
        object_id="list",
        fields=["report"],
        details={"count": len(rows)},
    )
    return rows
