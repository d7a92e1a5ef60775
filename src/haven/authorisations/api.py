"""The covert authorisations register over the API (operations module; changes and the
quarantine for technical supervisors)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from ninja import Router, Schema, Status
from ninja.errors import HttpError

from haven.accounts.types import AuthenticatedRequest
from haven.equipment import selectors as equipment
from haven.telemetry import selectors as telemetry
from haven.ui.apihelpers import attempt

from . import selectors, services
from .models import AuthorisationKind

router = Router(tags=["authorisations"])


class AuthorisationSummary(Schema):
    id: UUID
    reference: str
    kind: AuthorisationKind
    granted_at: dt.datetime
    expires_at: dt.datetime
    cancelled_at: dt.datetime | None
    state: str
    deployment_outside_authority: bool = False


class AuthorisationLinkOut(Schema):
    label: str
    deployment_id: UUID | None
    device_pk: UUID | None
    outside_authority: list[str] = []


class AuthorisationReviewOut(Schema):
    reviewed_at: dt.datetime
    note: str


class AuthorisationRenewalOut(Schema):
    renewed_at: dt.datetime
    previous_expires_at: dt.datetime
    expires_at: dt.datetime
    note: str


class AuthorisationOut(AuthorisationSummary):
    authorising_officer: str
    summary: str
    next_review_at: dt.datetime | None
    cancellation_reason: str
    version: int
    links: list[AuthorisationLinkOut]
    reviews: list[AuthorisationReviewOut]
    renewals: list[AuthorisationRenewalOut]


class AuthorisationIn(Schema):
    reference: str
    kind: AuthorisationKind
    authorising_officer: str
    granted_at: dt.datetime
    expires_at: dt.datetime
    next_review_at: dt.datetime | None = None
    summary: str = ""


class AuthorisationReviewIn(Schema):
    reviewed_at: dt.datetime
    next_review_at: dt.datetime | None = None
    note: str = ""


class AuthorisationRenewalIn(Schema):
    renewed_at: dt.datetime
    expires_at: dt.datetime
    note: str = ""
    version: int


class AuthorisationCancellationIn(Schema):
    cancelled_at: dt.datetime
    reason: str
    version: int


class AuthorisationLinkIn(Schema):
    deployment_reference: str = ""
    device_id: str = ""


class QuarantinedPositionOut(Schema):
    device_label: str
    fix_time: dt.datetime
    received_at: dt.datetime
    reason: str
    report: dict[str, Any]


SUMMARY_FIELDS = ("id", "reference", "kind", "granted_at", "expires_at", "cancelled_at")
PLAIN_FIELDS = (
    *SUMMARY_FIELDS,
    "authorising_officer",
    "summary",
    "next_review_at",
    "cancellation_reason",
    "version",
)


def _detail(user: Any, authorisation_id: UUID) -> dict[str, Any]:
    authorisation = selectors.get_authorisation(user, authorisation_id)
    periods = equipment.deployment_periods(list(selectors.linked_deployment_ids([authorisation])))
    problems = {
        check.link.pk: found for check, found in selectors.deployment_checks(authorisation, periods)
    }
    links = [
        {
            "label": link.label,
            "deployment_id": link.deployment_id,
            "device_pk": link.device_pk,
            "outside_authority": problems.get(link.pk, []),
        }
        for link in authorisation.links.all()
    ]
    return {
        **{field: getattr(authorisation, field) for field in PLAIN_FIELDS},
        "state": authorisation.state(),
        "deployment_outside_authority": any(problems.values()),
        "links": links,
        "reviews": list(authorisation.reviews.all()),
        "renewals": list(authorisation.renewals.all()),
    }


@router.get(
    "/authorisations", response=list[AuthorisationSummary], summary="The authorisations register"
)
def list_authorisations(request: AuthenticatedRequest) -> Any:
    rows = list(selectors.authorisations_visible_to(request.user))
    periods = equipment.deployment_periods(list(selectors.linked_deployment_ids(rows)))
    flagged = selectors.outside_authority(rows, periods)
    return [
        {
            **{field: getattr(row, field) for field in SUMMARY_FIELDS},
            "state": row.state(),
            "deployment_outside_authority": row.pk in flagged,
        }
        for row in rows
    ]


@router.post("/authorisations", response={201: AuthorisationOut}, summary="Record an authorisation")
def record_authorisation(request: AuthenticatedRequest, payload: AuthorisationIn) -> Status[Any]:
    user = request.user
    made = attempt(lambda: services.record_authorisation(user, **payload.dict()))
    return Status(201, _detail(user, made.pk))


@router.get(
    "/authorisations/quarantine",
    response=list[QuarantinedPositionOut],
    summary="Positions received outside authority (technical supervisors)",
)
def quarantine(request: AuthenticatedRequest) -> Any:
    return selectors.get_quarantine(request.user)


@router.get(
    "/authorisations/{authorisation_id}", response=AuthorisationOut, summary="One authorisation"
)
def get_authorisation(request: AuthenticatedRequest, authorisation_id: UUID) -> Any:
    return _detail(request.user, authorisation_id)


@router.post(
    "/authorisations/{authorisation_id}/reviews",
    response=AuthorisationOut,
    summary="Record a review",
)
def review(
    request: AuthenticatedRequest, authorisation_id: UUID, payload: AuthorisationReviewIn
) -> Any:
    user = request.user
    attempt(lambda: services.record_review(user, authorisation_id, **payload.dict()))
    return _detail(user, authorisation_id)


@router.post(
    "/authorisations/{authorisation_id}/renewals",
    response=AuthorisationOut,
    summary="Record a renewal (moves the expiry)",
)
def renew(
    request: AuthenticatedRequest, authorisation_id: UUID, payload: AuthorisationRenewalIn
) -> Any:
    user = request.user
    attempt(lambda: services.renew(user, authorisation_id, **payload.dict()))
    return _detail(user, authorisation_id)


@router.post(
    "/authorisations/{authorisation_id}/cancellation",
    response=AuthorisationOut,
    summary="Record the cancellation",
)
def cancel(
    request: AuthenticatedRequest, authorisation_id: UUID, payload: AuthorisationCancellationIn
) -> Any:
    user = request.user
    attempt(lambda: services.cancel(user, authorisation_id, **payload.dict()))
    return _detail(user, authorisation_id)


@router.post(
    "/authorisations/{authorisation_id}/links",
    response=AuthorisationOut,
    summary="Put a deployment (by reference) or a tracker (by its id) under the authorisation",
)
def link(
    request: AuthenticatedRequest, authorisation_id: UUID, payload: AuthorisationLinkIn
) -> Any:
    user = request.user
    selectors.require_supervisor(user)
    selectors.find_authorisation(user, authorisation_id)
    if bool(payload.deployment_reference) == bool(payload.device_id):
        raise HttpError(422, "Send deployment_reference or device_id, not both")
    if payload.deployment_reference:
        reference = payload.deployment_reference.strip()
        deployment = equipment.deployments_visible_to(user).filter(reference=reference).first()
        if deployment is None:
            raise HttpError(422, "deployment_reference: no deployment with that reference")
        attempt(
            lambda: services.link(
                user, authorisation_id, label=reference, deployment_id=deployment.pk
            )
        )
    else:
        device = telemetry.devices(user).filter(device_id=payload.device_id.strip()).first()
        if device is None:
            raise HttpError(422, "device_id: no tracker reports with that id")
        attempt(
            lambda: services.link(
                user, authorisation_id, label=device.device_id, device_pk=device.pk
            )
        )
    return _detail(user, authorisation_id)
