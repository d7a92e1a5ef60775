"""Your own account over the API: your passkeys (list, rename, remove) and your password.

Any valid token reaches these (they are its own user's, like the inbox); a change needs a token
that may write and, in the same request, the password and a current code from the
authenticator app (the re-authentication the web asks for; a passkey needs a browser, so the
API takes the code). A wrong password or code is counted towards lockout and ledgered, and
answers 422 naming the field; another person's passkey, or none, answers 404."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from haven.ui.apihelpers import attempt, refuse

from . import passkeys, selectors, services
from .models import HashedSession
from .types import AuthenticatedRequest

router = Router(tags=["accounts"])

REFUSED = {"code": "Your password or security code is not correct"}


class OwnPasskeyOut(Schema):
    id: int
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None


class OwnSessionOut(Schema):
    id: str = Field(..., description="The session's handle (never its key)")
    device: str
    signed_in_at: dt.datetime | None
    last_seen_at: dt.datetime | None

    @staticmethod
    def resolve_id(session: HashedSession) -> str:
        return session.handle


class Reauthentication(Schema):
    password: str = Field(..., min_length=1, max_length=256)
    code: str = Field(..., pattern=r"^\s*\d{6}\s*$", description="A current authenticator code")


class PasskeyRenameIn(Reauthentication):
    name: str = Field(..., min_length=1, max_length=64)


class OwnPasswordIn(Schema):
    current_password: str = Field(..., min_length=1, max_length=256)
    new_password: str = Field(..., min_length=1, max_length=256)
    code: str = Field(..., pattern=r"^\s*\d{6}\s*$", description="A current authenticator code")


def _own_passkey(request: AuthenticatedRequest, passkey_id: int) -> OwnPasskeyOut:
    passkey = passkeys.passkeys_of(request.user).filter(pk=passkey_id).first()
    if passkey is None:
        raise HttpError(404, "No such passkey")
    return passkey  # type: ignore[no-any-return]


def _reauthenticate(request: AuthenticatedRequest, body: Reauthentication) -> None:
    """Committed on its own (services.reauthenticate), so a refusal's count stays."""
    if not services.reauthenticate(request.user, body.password, body.code):
        raise refuse(ValidationError(REFUSED))


@router.get(
    "/account/passkeys", response=list[OwnPasskeyOut], summary="Your passkeys and security keys"
)
def list_own_passkeys(request: AuthenticatedRequest) -> object:
    return list(passkeys.passkeys_of(request.user))


@router.patch(
    "/account/passkeys/{passkey_id}",
    response=OwnPasskeyOut,
    summary="Rename one of your passkeys (password and code required)",
)
def rename_own_passkey(
    request: AuthenticatedRequest, passkey_id: int, payload: PasskeyRenameIn
) -> object:
    _own_passkey(request, passkey_id)
    _reauthenticate(request, payload)
    attempt(lambda: services.rename_passkey(request.user, passkey_id, payload.name))
    return _own_passkey(request, passkey_id)


@router.post(
    "/account/passkeys/{passkey_id}/remove",
    response={204: None},
    summary="Remove one of your passkeys (password and code required)",
)
def remove_own_passkey(
    request: AuthenticatedRequest, passkey_id: int, payload: Reauthentication
) -> Status[None]:
    _own_passkey(request, passkey_id)
    _reauthenticate(request, payload)
    services.remove_passkey(request.user, passkey_id)
    return Status(204, None)


@router.post(
    "/account/password",
    response={204: None},
    summary="Change your password (current password and code required; other sessions end)",
)
def change_own_password(request: AuthenticatedRequest, payload: OwnPasswordIn) -> Status[None]:
    change = services.PasswordChange(
        current=payload.current_password, new=payload.new_password, code=payload.code
    )
    attempt(lambda: services.change_password(request.user, change))
    return Status(204, None)


@router.get(
    "/account/sessions",
    response=list[OwnSessionOut],
    summary="Where you are signed in: your browser sessions",
)
def list_own_sessions(request: AuthenticatedRequest) -> object:
    return list(selectors.signed_in_sessions(request.user))


@router.post(
    "/account/sessions/{session_id}/end",
    response={204: None},
    summary="End one of your browser sessions (password and code required)",
)
def end_own_session(
    request: AuthenticatedRequest, session_id: str, payload: Reauthentication
) -> Status[None]:
    own = selectors.signed_in_sessions(request.user)
    if len(session_id) != 16 or not own.filter(session_key__startswith=session_id).exists():
        raise HttpError(404, "No such session")
    _reauthenticate(request, payload)
    attempt(lambda: services.end_session(request.user, session_id))
    return Status(204, None)
