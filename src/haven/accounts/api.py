"""Account administration over the API (mounted behind the administration module)."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from haven.accounts.types import AuthenticatedRequest
from haven.ui.apihelpers import attempt

from . import services
from .models import User

router = Router(tags=["administration"])


class FactorResetIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


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
    request: AuthenticatedRequest, user_id: int, payload: FactorResetIn
) -> dict[str, object]:
    account = get_object_or_404(User, pk=user_id)
    removed = attempt(
        lambda: services.reset_factors(account, by=request.user, reason=payload.reason)
    )
    return {"username": account.username, **removed}


class PasswordResetOut(Schema):
    username: str
    expires_at: dt.datetime


@router.post(
    "/accounts/{user_id}/password-reset",
    response={201: PasswordResetOut},
    summary="Send another account a one-time password reset code on its verified contact "
    "methods (the code is never in the answer)",
)
def issue_password_reset(
    request: AuthenticatedRequest, user_id: int, payload: FactorResetIn
) -> Status[dict[str, object]]:
    account = get_object_or_404(User, pk=user_id)
    reset = attempt(
        lambda: services.issue_password_reset(account, by=request.user, reason=payload.reason)
    )
    return Status(201, {"username": account.username, "expires_at": reset.expires_at})
