"""Account writes: sign-in outcomes, MFA enrolment, tokens, sessions. One transaction each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from haven.audit import ledger, state
from haven.audit.models import Action
from haven.concurrency.transactions import service

from .models import ApiToken, User


@dataclass(frozen=True)
class PasswordCheck:
    user: User | None
    locked_until: object = None


def lockout_message(until: object) -> str:
    local = timezone.localtime(until)  # type: ignore[arg-type]
    return (
        f"This account is locked after {settings.LOGIN_FAILURE_LIMIT} failed sign-in attempts. "
        f"Try again after {local:%H:%M} or ask an administrator to unlock it."
    )


@transaction.atomic
def check_password(username: str, password: str) -> PasswordCheck:
    """First factor. Failures count towards lockout; a locked account never checks the password."""
    user = User.objects.select_for_update().filter(username=username, is_active=True).first()
    if user is None:
        # Hash anyway so response time does not reveal whether the account exists.
        User().set_password(password)
        return PasswordCheck(user=None)
    if user.is_locked():
        return PasswordCheck(user=None, locked_until=user.locked_until)
    if not user.check_password(password):
        return PasswordCheck(user=None, locked_until=record_failure(user))
    return PasswordCheck(user=user)


def record_failure(user: User) -> object:
    """Count a failed factor; returns the lock expiry if this failure locked the account."""
    User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
    user.refresh_from_db(fields=["failed_logins"])
    if user.failed_logins >= settings.LOGIN_FAILURE_LIMIT:
        user.locked_until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
        user.failed_logins = 0
        user.save(update_fields=["locked_until", "failed_logins"])
        return user.locked_until
    return None


@dataclass(frozen=True)
class CodeCheck:
    device: TOTPDevice | None
    locked_until: object = None


@transaction.atomic
def verify_totp(user: User, code: str) -> CodeCheck:
    """Second factor against the user's confirmed device; failures count towards lockout."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_locked():
        return CodeCheck(device=None, locked_until=user.locked_until)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None and device.verify_token(code.strip()):
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        return CodeCheck(device=device)
    return CodeCheck(device=None, locked_until=record_failure(user))


def pending_totp_device(user: User) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def confirm_totp_enrolment(user: User, code: str) -> TOTPDevice | None:
    device = pending_totp_device(user)
    if not device.verify_token(code.strip()):
        record_failure(user)
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


def has_confirmed_totp(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


@transaction.atomic
def sign_out_everywhere(user: User) -> None:
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)


@transaction.atomic
def unlock_account(user: User) -> None:
    User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)


@transaction.atomic
def issue_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    return ApiToken.issue(user, name.strip(), settings.API_TOKEN_DAYS)


@transaction.atomic
def revoke_api_token(user: User, token_id: int) -> bool:
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return updated == 1


def token_user(secret: str) -> User | None:
    token = (
        ApiToken.objects.usable()
        .select_related("user")
        .filter(key_hash=ApiToken.hash_secret(secret))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token.user


@service
def create_user(
    username: str,
    password: str,
    roles: list[str],
    clearance: int,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    actor: User | None = None,
) -> User:
    """A new account; its roles and clearance go to the ledger (``haven audit verify --state``
    reports an account whose roles or clearance no entry explains)."""
    user = User(
        username=username,
        roles=roles,
        clearance=clearance,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    user.full_clean(exclude=["password"])
    password_validation.validate_password(password, user)
    user.set_password(password)
    user.save()
    ledger.record(
        actor=actor,
        action=Action.COLLECTION,
        object_type="account",
        object_id=user.pk,
        fields=("username", "roles", "clearance"),
        justification="account created",
        details={
            "roles": sorted(user.roles),
            "clearance": user.clearance,
            "state": [state.account_change(user)],
        },
    )
    return user


@transaction.atomic
def enrol_totp_now(user: User) -> TOTPDevice:
    """Enrol a confirmed device straight away (demo accounts and tests)."""
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
