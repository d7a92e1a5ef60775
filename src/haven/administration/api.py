"""The administration module's API: the same account lifecycle, vetting and training, and
access review as its pages (mounted behind the module's token auth in haven/api.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from haven.accounts import selectors, services
from haven.accounts.models import Qualification, QualificationKind, User
from haven.accounts.roles import Clearance, Module, Role, VettingLevel
from haven.accounts.types import AuthenticatedRequest
from haven.ui.apihelpers import attempt, named_user

router = Router(tags=["administration"])


class QualificationOut(Schema):
    id: int
    kind: QualificationKind
    title: str
    held_from: date
    expires_on: date | None
    lapsed: bool


class PlaceOut(Schema):
    object_type: str
    object_id: str
    label: str
    how: str


class AccountOut(Schema):
    id: int
    username: str
    name: str
    email: str
    active: bool
    locked: bool
    roles: list[Role]
    modules: list[Module]
    clearance: Clearance
    effective_clearance: Clearance
    vetting_level: VettingLevel | None
    vetting_expires: date | None
    vetting_lapsed: bool
    line_manager: str | None


class AccountDetailOut(AccountOut):
    qualifications: list[QualificationOut]
    places: list[PlaceOut]


class CreatedAccountOut(Schema):
    account: AccountOut
    first_password: str = Field(description="Shown once: hand it over by a secure route")


class NewAccountIn(Schema):
    username: str = Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    first_name: str = Field(min_length=1, max_length=150)
    last_name: str = Field(min_length=1, max_length=150)
    email: str = Field("", max_length=254)
    roles: list[Role] = Field(min_length=1)
    clearance: Clearance
    vetting_level: VettingLevel | None = None
    vetting_expires: date | None = None
    line_manager: str | None = Field(None, description="User name of the line manager")


class AccessChangeIn(Schema):
    roles: list[Role] = Field(min_length=1)
    clearance: Clearance
    reason: str = Field(min_length=1, max_length=500)


class AccountChangeReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


class VettingIn(Schema):
    vetting_level: VettingLevel | None = None
    vetting_expires: date | None = None
    line_manager: str | None = Field(None, description="User name of the line manager")


class QualificationIn(Schema):
    kind: QualificationKind
    title: str = Field(min_length=1, max_length=120)
    held_from: date
    expires_on: date | None = None


class DeactivationOut(Schema):
    account: AccountOut
    removed: list[PlaceOut]


class ReviewRowOut(Schema):
    account: AccountOut
    places: list[PlaceOut]
    grants: list[PlaceOut]


class AccessReviewOut(Schema):
    digest: str = Field(description="Send it back to confirm exactly this listing")
    last_confirmed_at: datetime | None
    last_confirmed_by: str | None
    due: datetime | None
    rows: list[ReviewRowOut]


class ReviewConfirmationIn(Schema):
    digest: str = Field(min_length=64, max_length=64)


class ReviewConfirmationOut(Schema):
    id: int
    confirmed_at: datetime
    confirmed_by: str
    accounts: int


def account_body(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.get_full_name(),
        "email": user.email,
        "active": user.is_active,
        "locked": user.is_locked(),
        "roles": user.roles,
        "modules": user.modules,
        "clearance": user.clearance,
        "effective_clearance": user.effective_clearance,
        "vetting_level": user.vetting_level or None,
        "vetting_expires": user.vetting_expires,
        "vetting_lapsed": user.vetting_lapsed,
        "line_manager": user.line_manager.username if user.line_manager else None,
    }


def place_body(place: selectors.Place) -> dict[str, Any]:
    return {**place.__dict__, "object_id": str(place.object_id)}


def _account(user_id: int) -> User:
    return get_object_or_404(selectors.accounts(), pk=user_id)


def _detail(account: User) -> dict[str, Any]:
    account = _account(account.pk)  # fresh from the database, after a write
    return {
        **account_body(account),
        "qualifications": list(selectors.qualifications(account)),
        "places": [place_body(place) for place in selectors.deactivation_losses(account)],
    }


@router.get("/accounts", response=list[AccountOut], summary="List accounts")
def list_accounts(request: AuthenticatedRequest) -> list[dict[str, Any]]:
    return [account_body(user) for user in selectors.accounts()]


@router.post(
    "/accounts",
    response={201: CreatedAccountOut},
    summary="Create an account (the person enrols their authenticator at first sign-in)",
)
def create_account(request: AuthenticatedRequest, payload: NewAccountIn) -> Status:
    new = services.NewAccount(
        username=payload.username,
        first_name=payload.first_name,
        last_name=payload.last_name,
        email=payload.email,
        roles=[str(role) for role in payload.roles],
        clearance=int(payload.clearance),
        vetting_level=str(payload.vetting_level or ""),
        vetting_expires=payload.vetting_expires,
        line_manager=named_user(payload.line_manager, "line_manager"),
    )
    account, password = attempt(lambda: services.create_account(request.user, new))
    return Status(201, {"account": account_body(account), "first_password": password})


@router.get("/accounts/{user_id}", response=AccountDetailOut, summary="One account")
def account_detail(request: AuthenticatedRequest, user_id: int) -> dict[str, Any]:
    return _detail(_account(user_id))


@router.post(
    "/accounts/{user_id}/access",
    response=AccountDetailOut,
    summary="Change roles and clearance (reason required; the person is told)",
)
def change_access(
    request: AuthenticatedRequest, user_id: int, payload: AccessChangeIn
) -> dict[str, Any]:
    account = _account(user_id)
    attempt(
        lambda: services.change_account_access(
            account,
            roles=[str(role) for role in payload.roles],
            clearance=int(payload.clearance),
            by=request.user,
            reason=payload.reason,
        )
    )
    return _detail(account)


@router.get(
    "/accounts/{user_id}/deactivation",
    response=list[PlaceOut],
    summary="The team places and grants a deactivation would remove",
)
def deactivation_preview(request: AuthenticatedRequest, user_id: int) -> list[dict[str, Any]]:
    return [place_body(place) for place in selectors.deactivation_losses(_account(user_id))]


@router.post(
    "/accounts/{user_id}/deactivate",
    response=DeactivationOut,
    summary="Deactivate: ends sessions and tokens, removes team places and grants",
)
def deactivate(
    request: AuthenticatedRequest, user_id: int, payload: AccountChangeReasonIn
) -> dict[str, Any]:
    account = _account(user_id)
    losses = selectors.deactivation_losses(account)
    attempt(lambda: services.deactivate_account(account, by=request.user, reason=payload.reason))
    return {
        "account": account_body(_account(user_id)),
        "removed": [place_body(place) for place in losses],
    }


@router.post("/accounts/{user_id}/reactivate", response=AccountDetailOut, summary="Reactivate")
def reactivate(
    request: AuthenticatedRequest, user_id: int, payload: AccountChangeReasonIn
) -> dict[str, Any]:
    account = _account(user_id)
    attempt(lambda: services.reactivate_account(account, by=request.user, reason=payload.reason))
    return _detail(account)


@router.post("/accounts/{user_id}/unlock", response=AccountDetailOut, summary="Unlock")
def unlock(request: AuthenticatedRequest, user_id: int) -> dict[str, Any]:
    account = _account(user_id)
    attempt(lambda: services.unlock_account_by_administrator(account, by=request.user))
    return _detail(account)


@router.put(
    "/accounts/{user_id}/vetting",
    response=AccountDetailOut,
    summary="Record vetting and line manager",
)
def record_vetting(
    request: AuthenticatedRequest, user_id: int, payload: VettingIn
) -> dict[str, Any]:
    account = _account(user_id)
    manager = named_user(payload.line_manager, "line_manager")
    attempt(
        lambda: services.record_vetting(
            account,
            by=request.user,
            level=str(payload.vetting_level or ""),
            expires=payload.vetting_expires,
            line_manager=manager,
        )
    )
    return _detail(account)


@router.post(
    "/accounts/{user_id}/qualifications",
    response={201: QualificationOut},
    summary="Add a designation or training",
)
def add_qualification(
    request: AuthenticatedRequest, user_id: int, payload: QualificationIn
) -> Status:
    account = _account(user_id)
    item = attempt(lambda: services.add_qualification(account, by=request.user, **payload.dict()))
    return Status(201, item)


@router.delete(
    "/accounts/{user_id}/qualifications/{qualification_id}",
    response={204: None},
    summary="Remove a designation or training",
)
def remove_qualification(
    request: AuthenticatedRequest, user_id: int, qualification_id: int
) -> Status:
    account = _account(user_id)
    try:
        attempt(
            lambda: services.remove_qualification(
                account, by=request.user, qualification_id=qualification_id
            )
        )
    except Qualification.DoesNotExist:
        raise Http404 from None
    return Status(204, None)


@router.get("/access-review", response=AccessReviewOut, summary="Who can reach what")
def access_review(request: AuthenticatedRequest) -> dict[str, Any]:
    listing = selectors.access_review()
    return {
        "digest": listing.digest,
        "last_confirmed_at": listing.last.confirmed_at if listing.last else None,
        "last_confirmed_by": listing.last.confirmed_by.username if listing.last else None,
        "due": listing.due,
        "rows": [
            {
                "account": account_body(row.user),
                "places": [place_body(place) for place in row.places],
                "grants": [place_body(place) for place in row.grants],
            }
            for row in listing.rows
        ],
    }


@router.post(
    "/access-review/confirmations",
    response={201: ReviewConfirmationOut},
    summary="Confirm the access review (send the digest of the listing reviewed)",
)
def confirm_access_review(request: AuthenticatedRequest, payload: ReviewConfirmationIn) -> Status:
    review = attempt(lambda: services.confirm_access_review(request.user, digest=payload.digest))
    return Status(
        201,
        {
            "id": review.pk,
            "confirmed_at": review.confirmed_at,
            "confirmed_by": request.user.username,
            "accounts": review.accounts,
        },
    )


class ResetFactorsOut(Schema):
    username: str
    totp: int
    passkeys: int
    recovery_codes: int
    tokens: int


@router.post(
    "/accounts/{user_id}/reset-factors",
    response=ResetFactorsOut,
    summary="Reset another account's second factors (sessions end, tokens are revoked)",
)
def reset_factors(
    request: AuthenticatedRequest, user_id: int, payload: AccountChangeReasonIn
) -> dict[str, object]:
    account = _account(user_id)
    removed = attempt(
        lambda: services.reset_factors(account, by=request.user, reason=payload.reason)
    )
    return {"username": account.username, **removed}


class PasswordResetOut(Schema):
    username: str
    expires_at: datetime


@router.post(
    "/accounts/{user_id}/password-reset",
    response={201: PasswordResetOut},
    summary="Send another account a one-time password reset code on its verified contact "
    "methods (the code is never in the answer)",
)
def issue_password_reset(
    request: AuthenticatedRequest, user_id: int, payload: AccountChangeReasonIn
) -> Status[dict[str, object]]:
    account = _account(user_id)
    reset = attempt(
        lambda: services.issue_password_reset(account, by=request.user, reason=payload.reason)
    )
    return Status(201, {"username": account.username, "expires_at": reset.expires_at})
