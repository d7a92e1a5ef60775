"""Account writes: sign-in outcomes, factors, tokens, sessions. One transaction each, with the
security event in the ledger inside it (DESIGN.md "Authentication")."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django_otp.models import Device
from django_otp.oath import TOTP

from haven.access.models import AccessGrant, TeamMembership
from haven.audit import ledger, state
from haven.audit.models import Action
from haven.concurrency.transactions import service

from .models import (
    AccessReview,
    ApiToken,
    AuthenticatorDevice,
    ExpiryNotice,
    KeptForm,
    PasswordReset,
    Qualification,
    RecoveryCode,
    RecoveryCodeDevice,
    SecurityCounter,
    User,
    factor_secret_digest,
    vetting_ceiling,
)
from .roles import Clearance, VettingLevel
from .selectors import access_review

GENERIC_REFUSAL = "Enter a correct user name and password"
# Whoever typed a user name before signing in: no account yet, so no actor.
ANONYMOUS = SimpleNamespace(pk=None, username="anonymous")


def keyed_digest(purpose: str, *parts: str) -> str:
    """A keyed hash (HMAC-SHA256 under SECRET_KEY) for values that must be matched but never
    stored: typed user names, source addresses."""
    return salted_hmac(
        f"haven.accounts.{purpose}",
        "\0".join(parts),
        secret=settings.SECRET_KEY,
        algorithm="sha256",
    ).hexdigest()


def record_security_event(event: str, *, actor: Any, account: User | None, **details: Any) -> None:
    """One security event in the ledger (action "security", the event named in details)."""
    ledger.record(
        actor=actor,
        action=Action.SECURITY,
        object_type="account",
        object_id=account.pk if account is not None else "",
        details={"event": event, **details},
    )


# ------------------------------------------------------------------ throttling


def _window_ends() -> datetime:
    return timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _failures(key: str) -> int:
    bucket = SecurityCounter.objects.filter(key=key, window_ends__gt=timezone.now()).first()
    return bucket.failures if bucket else 0


def _count_failure(key: str) -> int:
    """One more failure in the key's window (a new window if the last one ended)."""
    bucket = SecurityCounter.objects.select_for_update().filter(key=key).first()
    if bucket is None or bucket.window_ends <= timezone.now():
        SecurityCounter.objects.update_or_create(
            key=key, defaults={"failures": 1, "window_ends": _window_ends()}
        )
        return 1
    SecurityCounter.objects.filter(key=key).update(failures=F("failures") + 1)
    return bucket.failures + 1


@dataclass(frozen=True)
class SignInKeys:
    """The throttle keys of one attempt: its source address, and that address with the name."""

    address: str
    pair: str

    @classmethod
    def of(cls, username: str, source: str) -> SignInKeys:
        return cls(
            address=keyed_digest("throttle.address", source),
            pair=keyed_digest("throttle.pair", source, username),
        )

    def throttled(self) -> bool:
        return (
            _failures(self.address) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
            or _failures(self.pair) >= settings.LOGIN_FAILURE_LIMIT
        )


# ------------------------------------------------------------------ first factor


@dataclass(frozen=True)
class PasswordCheck:
    user: User | None
    # The right first password, past its expiry: said plainly (whoever typed it knows the
    # account exists), and only an administrator's reset code opens the account again.
    first_password_expired: bool = False


FIRST_PASSWORD_EXPIRED = (
    "This first password has expired. Ask your administrator to send you a password reset code."
)


@service
def check_password(username: str, password: str, source: str = "") -> PasswordCheck:
    """First factor. Unknown, wrong, throttled and locked all answer the same, after the same
    work: the password hasher always runs once. Failures count per source address, per
    (address, name) pair, and per account; one address can therefore shut itself out of a
    name, but cannot lock the account for its owner signing in from elsewhere."""
    keys = SignInKeys.of(username, source)
    throttled = keys.throttled()
    user = User.objects.select_for_update().filter(username=username, is_active=True).first()
    if user is None:
        make_password(password)  # the hasher's work, so timing does not reveal the name
        correct = False
    else:
        correct = user.check_password(password)
    if correct and user is not None and not throttled and not user.is_locked():
        SecurityCounter.objects.filter(key=keys.pair).delete()
        expires = user.first_password_expires
        if expires is not None and expires <= timezone.now():
            record_security_event(
                "sign_in_failed",
                actor=ANONYMOUS,
                account=user,
                reason="first_password_expired",
                source=source,
            )
            return PasswordCheck(user=None, first_password_expired=True)
        return PasswordCheck(user=user)
    if throttled:
        return PasswordCheck(user=None)  # already recorded when the limit was reached
    address_failures = _count_failure(keys.address)
    pair_failures = _count_failure(keys.pair)
    subject = {"source": source}
    if user is None:
        subject["name_digest"] = keyed_digest("ledger.username", username)[:32]
    record_security_event(
        "sign_in_failed",
        actor=ANONYMOUS,
        account=user,
        reason="locked" if user is not None and user.is_locked() else "password",
        **subject,
    )
    if (
        address_failures == settings.LOGIN_ADDRESS_FAILURE_LIMIT
        or pair_failures == settings.LOGIN_FAILURE_LIMIT
    ):
        record_security_event("sign_in_throttled", actor=ANONYMOUS, account=user, **subject)
    if user is not None and not user.is_locked():
        record_failure(user, settings.LOGIN_ACCOUNT_FAILURE_LIMIT)
    return PasswordCheck(user=None)


def record_failure(user: User, limit: int) -> datetime | None:
    """Count a failed factor against the account; at `limit` it locks (and the lock ends its
    sessions and suspends its API tokens). Returns the lock expiry if this failure locked it."""
    User.objects.filter(pk=user.pk).update(failed_logins=F("failed_logins") + 1)
    user.refresh_from_db(fields=["failed_logins"])
    if user.failed_logins < limit:
        return None
    user.locked_until = timezone.now() + timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    user.failed_logins = 0
    user.save(update_fields=["locked_until", "failed_logins"])
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    record_security_event(
        "account_locked", actor=ANONYMOUS, account=user, until=user.locked_until.isoformat()
    )
    return user.locked_until


# ------------------------------------------------------------------ second factor


@dataclass(frozen=True)
class CodeCheck:
    device: Device | None
    locked: bool = False


@service
def verify_totp(user: User, code: str, source: str = "") -> CodeCheck:
    """Second factor against the user's confirmed device; failures count towards lockout."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_locked():
        return CodeCheck(device=None, locked=True)
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None and device.verify_token(code.strip()):
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        record_security_event("sign_in", actor=user, account=user, source=source)
        return CodeCheck(device=device)
    if device is not None:
        _note_replayed_code(user, device, code, source)
    record_security_event("sign_in_failed", actor=user, account=user, reason="code", source=source)
    locked = record_failure(user, settings.LOGIN_FAILURE_LIMIT) is not None
    return CodeCheck(device=None, locked=locked)


def _replayed_step(device: AuthenticatorDevice, code: str) -> int | None:
    """The time step of `code` if the device already accepted it (a step at or before its
    `last_t`, within its tolerance), else None: the code is a replay, not a wrong guess."""
    if not code.isdigit() or len(code) != device.digits:
        return None
    counter = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    for offset in range(-device.tolerance, device.tolerance + 1):
        counter.drift = device.drift + offset
        step = counter.t()
        token = f"{counter.token():0{device.digits}d}"
        if step <= device.last_t and constant_time_compare(token, code):
            return int(step)
    return None


def _note_replayed_code(user: User, device: AuthenticatorDevice, code: str, source: str) -> None:
    """ASVS 2.8.5: a code used a second time is ledgered as a replay, and the holder is told
    once per code's window (someone who saw or intercepted it may know the password too)."""
    step = _replayed_step(device, code.strip())
    if step is None:
        return
    record_security_event("totp_replayed", actor=user, account=user, source=source)
    key = keyed_digest("totp.replay", str(user.pk), str(step))
    now = timezone.now()
    if SecurityCounter.objects.filter(key=key, window_ends__gt=now).exists():
        return
    window = timedelta(seconds=device.step * (2 * device.tolerance + 1))
    SecurityCounter.objects.update_or_create(
        key=key, defaults={"failures": 1, "window_ends": now + window}
    )
    _notify_account(
        user,
        "A security code from your authenticator app that had already been used was tried "
        "again, and refused. If this was not you, change your password and tell your "
        "administrator at once.",
    )


def pending_totp_device(user: User) -> AuthenticatorDevice:
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).first()
    return device or _new_device(user, confirmed=False)


def _new_device(user: User, *, confirmed: bool) -> AuthenticatorDevice:
    device = AuthenticatorDevice(user=user, name="Authenticator app", confirmed=confirmed)
    device.save()
    return device


@service
def confirm_totp_enrolment(user: User, code: str, source: str = "") -> AuthenticatorDevice | None:
    device = pending_totp_device(user)
    if not device.verify_token(code.strip()):
        record_failure(user, settings.LOGIN_FAILURE_LIMIT)
        return None
    AuthenticatorDevice.objects.filter(user=user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record_security_event("factor_enrolled", actor=user, account=user, factor="totp", source=source)
    record_security_event("sign_in", actor=user, account=user, source=source)
    return device


def has_confirmed_totp(user: User) -> bool:
    return bool(AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists())


def fresh_second_factor(user: User, password: str, code: str) -> bool:
    """Re-authentication for sensitive actions: the password and a new code, now. Failures
    count towards lockout like at sign-in."""
    if not user.check_password(password):
        record_failure(user, settings.LOGIN_ACCOUNT_FAILURE_LIMIT)
        return False
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).first()
    if device is None or not device.verify_token(code.strip()):
        if device is not None:
            _note_replayed_code(user, device, code, source="")
        record_failure(user, settings.LOGIN_FAILURE_LIMIT)
        return False
    return True


# ------------------------------------------------------------------ sessions and lockout


@service
def sign_out_everywhere(user: User) -> int:
    """End every session of the user and revoke every API token; returns tokens revoked."""
    revoked = _end_sessions_and_tokens(user)
    record_security_event("signed_out_everywhere", actor=user, account=user, tokens=revoked)
    return revoked


@service
def end_session(user: User, handle: str, *, current_handle: str = "") -> None:
    """End one of the user's own signed-in sessions, named by its handle (ASVS 3.3.4). The
    session this request runs in is ended by signing out, not here."""
    from .models import HashedSession

    if len(handle) != 16 or handle == current_handle:
        raise ValidationError({"session": "Choose one of your other sessions"})
    ended, _ = HashedSession.objects.filter(
        user=user, session_key__startswith=handle, expire_date__gt=timezone.now()
    ).delete()
    if not ended:
        raise ValidationError({"session": "That session has already ended"})
    record_security_event("session_ended", actor=user, account=user, session=handle)


# ------------------------------------------------------------------ forms kept on expiry

# A form posted by a session that has just expired is kept this long for its account.
KEPT_FORM_MINUTES = 30
# An account keeps at most this many (the newest): a loop of expired posts cannot fill a table.
KEPT_FORMS_PER_ACCOUNT = 5


@dataclass(frozen=True)
class KeptPage:
    """A page and what had been typed into its form: {field name: [values]}."""

    page: str
    fields: dict[str, list[str]]


def _kept_form_digest(handle: str) -> str:
    return keyed_digest("kept_form", handle)


@service
def keep_form(account: User, kept: KeptPage) -> str:
    """Keep what ``account`` had typed when its session expired under the post; returns the
    random handle that names it (the sign-in link carries it: nothing else leaves the server)."""
    handle = secrets.token_urlsafe(32)
    now = timezone.now()
    KeptForm.objects.create(
        handle_digest=_kept_form_digest(handle),
        user=account,
        sealed={"page": kept.page, "fields": kept.fields},
        created_at=now,
        expires_at=now + timedelta(minutes=KEPT_FORM_MINUTES),
    )
    older = KeptForm.objects.filter(user=account).order_by("-created_at", "-pk")
    KeptForm.objects.filter(
        pk__in=list(older.values_list("pk", flat=True)[KEPT_FORMS_PER_ACCOUNT:])
    ).delete()
    record_security_event(
        "form_kept_on_expiry", actor=ANONYMOUS, account=account, page=kept.page.split("?")[0]
    )
    return handle


@service
def restore_kept_form(user: User, handle: str) -> KeptPage | None:
    """What ``user`` had typed, named by ``handle``: given once, then deleted. Another
    account's, an expired one, or one that cannot be opened gives None."""
    clear_expired_kept_forms()
    kept = (
        KeptForm.objects.select_for_update()
        .filter(handle_digest=_kept_form_digest(handle), user=user)
        .first()
    )
    if kept is None:
        return None
    try:
        content = kept.sealed
        page = KeptPage(
            page=str(content["page"]),
            fields={str(k): [str(v) for v in vs] for k, vs in content["fields"].items()},
        )
    except Exception:  # noqa: BLE001 - a sealed value that cannot be opened is simply lost
        page = None
    kept.delete()
    if page is None:
        return None
    record_security_event(
        "kept_form_restored",
        actor=user,
        account=user,
        page=page.page.split("?")[0],
        kept_at=kept.created_at.isoformat(),
    )
    return page


def clear_expired_kept_forms() -> int:
    """Delete kept forms past their time (also a periodic job); returns how many."""
    deleted, _ = KeptForm.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


@service
def unlock_account(user: User, by: User | None = None) -> None:
    User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    record_security_event("account_unlocked", actor=by or ANONYMOUS, account=user)


# ------------------------------------------------------------------ API tokens


@service
def issue_api_token(
    user: User, name: str, *, modules: Sequence[str], can_write: bool
) -> tuple[ApiToken, str]:
    """A token for `modules` (each one the user's roles open), read-only unless `can_write`."""
    scope = sorted(set(modules))
    if not scope:
        raise ValidationError({"modules": "Choose at least one module"})
    if set(scope) - set(user.modules):
        raise ValidationError({"modules": "Your roles do not open that module"})
    token, secret = ApiToken.issue(
        user, name.strip(), settings.API_TOKEN_DAYS, modules=scope, can_write=can_write
    )
    record_security_event(
        "token_issued", actor=user, account=user, token=token.pk, modules=scope, write=can_write
    )
    return token, secret


@dataclass(frozen=True)
class TokenRequest:
    name: str
    modules: Sequence[str]
    can_write: bool
    password: str
    code: str


@service
def reauthenticate(user: User, password: str, code: str) -> bool:
    """Check a fresh password and code, ledgering a failure (committed, unlike a refusal
    raised inside the transaction of the action it guards)."""
    if fresh_second_factor(user, password, code):
        record_security_event("reauthenticated", actor=user, account=user, factor="totp")
        return True
    record_security_event("reauthentication_failed", actor=user, account=user)
    return False


@service
def reauthenticate_with_passkey(
    user: User, helper: Any, state: dict[str, Any], data: dict[str, Any]
) -> bool:
    """The passkey instead of the code, after the password (the caller checked it moments ago
    with check_reauthentication_password): the library checks the assertion against the
    user's own credentials and the one-time challenge. A failure counts towards lockout and is
    ledgered like a wrong code; a success is ledgered with the passkey used."""
    try:
        with transaction.atomic():  # a savepoint: a refused assertion leaves no write behind
            device = helper.authenticate_complete(user=user, state=state, data=data)
    except Exception:  # noqa: BLE001 (any malformed or forged assertion is one refusal)
        device = None
    if device is None or not device.confirmed:
        record_failure(user, settings.LOGIN_FAILURE_LIMIT)
        record_security_event("reauthentication_failed", actor=user, account=user, factor="passkey")
        return False
    record_security_event(
        "reauthenticated", actor=user, account=user, factor="passkey", device=device.pk
    )
    return True


@service
def check_reauthentication_password(user: User, password: str) -> bool:
    """The first half of re-authentication by passkey: the password, counted like at sign-in."""
    if user.check_password(password):
        return True
    record_failure(user, settings.LOGIN_ACCOUNT_FAILURE_LIMIT)
    record_security_event("reauthentication_failed", actor=user, account=user, factor="password")
    return False


def issue_api_token_with_reauthentication(
    user: User, request: TokenRequest
) -> tuple[ApiToken, str]:
    """Issue a token only against a fresh password and second-factor code."""
    if not reauthenticate(user, request.password, request.code):
        raise ValidationError({"code": "Your password or security code is not correct"})
    return issue_api_token(user, request.name, modules=request.modules, can_write=request.can_write)


@service
def revoke_api_token(user: User, token_id: int) -> bool:
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if updated:
        record_security_event("token_revoked", actor=user, account=user, token=token_id)
    return updated == 1


def usable_token(secret: str) -> ApiToken | None:
    """The token for a secret if it may be used now: unrevoked, unexpired, and its user active
    and not locked out (a lockout suspends tokens until it ends or is lifted)."""
    token = (
        ApiToken.objects.usable()
        .select_related("user")
        .filter(key_hash=ApiToken.hash_secret(secret))
        .first()
    )
    if token is None or not token.user.is_active or token.user.is_locked():
        return None
    stamp_token_use(token)
    return token


def stamp_token_use(token: ApiToken) -> None:
    """Keep the token's last use (shown to the minute) at the resolution a session's activity
    is kept: a write on every API request was one more UPDATE and commit for each of them."""
    now = timezone.now()
    resolution = timedelta(seconds=settings.SESSION_ACTIVITY_RESOLUTION_SECONDS)
    if token.last_used_at is None or now - token.last_used_at >= resolution:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


# ------------------------------------------------------------------ refused access


def _worth_recording(count: int) -> bool:
    """The 1st, 10th, 100th … refusal in a window: a probe shows, and how hard it pushed,
    without one ledger entry per request."""
    while count % 10 == 0:
        count //= 10
    return count == 1


@service
def record_refused_access(user: User, target: str, *, status: int, source: str = "") -> bool:
    """Ledger a refused request for a protected object (`target`: the route and its object
    ids), rate-limited per user and target. Returns whether an entry was written."""
    count = _count_failure(keyed_digest("refusal", str(user.pk), target))
    if not _worth_recording(count):
        return False
    record_security_event(
        "access_refused",
        actor=user,
        account=user,
        target=target,
        status=status,
        refusals_in_window=count,
        source=source,
    )
    return True


# ------------------------------------------------------------------ accounts


@service
def create_user(
    username: str,
    password: str,
    roles: list[str],
    clearance: int,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    by: User | None = None,
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
    record_security_event(
        "account_created",
        actor=by or ANONYMOUS,
        account=user,
        roles=roles,
        clearance=clearance,
        state=[state.account_change(user)],
    )
    return user


@service
def change_roles_and_clearance(
    user: User, *, roles: list[str], clearance: int, by: User | None, reason: str
) -> User:
    """Set an account's roles and clearance; the ledger keeps before and after."""
    before = {"roles": list(user.roles), "clearance": user.clearance}
    user.roles, user.clearance = roles, clearance
    user.full_clean(exclude=["password"])
    user.save(update_fields=["roles", "clearance"])
    record_security_event(
        "roles_changed",
        actor=by or ANONYMOUS,
        account=user,
        before=before,
        after={"roles": roles, "clearance": clearance},
        reason=reason,
        state=[state.account_change(user)],
    )
    return user


@service
def enrol_totp_now(user: User) -> AuthenticatorDevice:
    """Enrol a confirmed device straight away (demo accounts and tests)."""
    AuthenticatorDevice.objects.filter(user=user).delete()
    device = _new_device(user, confirmed=True)
    record_security_event("factor_enrolled", actor=ANONYMOUS, account=user, factor="totp")
    return device


# ------------------------------------------------------------------ account lifecycle
# An administrator's writes on other people's accounts (issue 18 items 5 and 6). Each refuses
# the administrator's own account: nobody raises, keeps or restores their own access.


def _refuse_own_account(account: User, by: User | None, field: str = "__all__") -> None:
    if by is not None and by.pk == account.pk:
        raise ValidationError(
            {field: "You cannot change your own account: ask another administrator"}
        )


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter the reason"})
    return reason


def vetting_supports(clearance: int, level: str, expires: date | None) -> str:
    """Why `clearance` is more than the vetting (level, expiry) supports, or "" if it is not.
    OFFICIAL needs no national security vetting."""
    if int(clearance) <= Clearance.OFFICIAL:
        return ""
    wanted = Clearance(int(clearance)).label
    if not level:
        return f"Record a vetting that supports {wanted} before giving this clearance"
    if expires is not None and expires < timezone.localdate():
        return f"The vetting lapsed on {expires:%-d %B %Y}: {wanted} needs current vetting"
    ceiling = vetting_ceiling(level)
    if ceiling < int(clearance):
        return (
            f"{VettingLevel(level).label} supports clearance up to "
            f"{Clearance(ceiling).label}, not {wanted}"
        )
    return ""


@dataclass(frozen=True)
class NewAccount:
    username: str
    first_name: str
    last_name: str
    email: str
    roles: list[str]
    clearance: int
    vetting_level: str = ""
    vetting_expires: date | None = None
    line_manager: User | None = None


@service
def create_account(by: User, new: NewAccount) -> tuple[User, str]:
    """A new account made by an administrator, with a first password to hand over."""
    if User.objects.filter(username__iexact=new.username.strip()).exists():
        raise ValidationError({"username": "That user name is taken"})
    refusal = vetting_supports(new.clearance, new.vetting_level, new.vetting_expires)
    if refusal:
        raise ValidationError({"clearance": refusal})
    _check_vetting_dates(new.vetting_level, new.vetting_expires)
    password = secrets.token_urlsafe(18)
    user = create_user(
        new.username.strip(),
        password,
        roles=list(new.roles),
        clearance=new.clearance,
        first_name=new.first_name.strip(),
        last_name=new.last_name.strip(),
        email=new.email.strip(),
        by=by,
    )
    user.vetting_level, user.vetting_expires = new.vetting_level, new.vetting_expires
    user.line_manager = new.line_manager
    user.first_password_expires = timezone.now() + timedelta(hours=settings.FIRST_PASSWORD_HOURS)
    user.save(
        update_fields=["vetting_level", "vetting_expires", "line_manager", "first_password_expires"]
    )
    if new.vetting_level:
        record_security_event(
            "vetting_recorded",
            actor=by,
            account=user,
            level=new.vetting_level,
            state=[state.vetting_change(user)],
        )
    return user, password


@service
def change_account_access(
    account: User, *, roles: list[str], clearance: int, by: User, reason: str
) -> User:
    """An administrator's change of roles and clearance: reason required, never on their own
    account, never above the person's current vetting; the person is told."""
    _refuse_own_account(account, by, "roles")
    reason = _require_reason(reason)
    refusal = vetting_supports(clearance, account.vetting_level, account.vetting_expires)
    if refusal:
        raise ValidationError({"clearance": refusal})
    change_roles_and_clearance(account, roles=roles, clearance=clearance, by=by, reason=reason)
    _notify_account(
        account,
        f"Your roles are now {', '.join(account.role_labels) or 'none'} and your clearance "
        f"{account.clearance_label}.",
        page="accounts:profile",
    )
    return account


def _end_sessions_and_tokens(user: User) -> int:
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@service
def deactivate_account(account: User, *, by: User, reason: str) -> list[list[str]]:
    """A leaver: no sign-in, sessions ended, tokens revoked, every team place and live grant
    removed. Returns the removed places as [object type, object id, team role]."""
    _refuse_own_account(account, by)
    reason = _require_reason(reason)
    if not account.is_active:
        raise ValidationError({"__all__": "This account is already deactivated"})
    places = TeamMembership.objects.filter(user=account)
    removed = [
        [object_type, str(object_id), team_role]
        for object_type, object_id, team_role in places.values_list(
            "object_type", "object_id", "team_role"
        )
    ]
    places.delete()
    grants, _ = AccessGrant.objects.filter(user=account, expires_at__gt=timezone.now()).delete()
    account.is_active = False
    account.save(update_fields=["is_active"])
    tokens = _end_sessions_and_tokens(account)
    record_security_event(
        "account_deactivated",
        actor=by,
        account=account,
        reason=reason,
        removed=removed,
        grants=grants,
        token=tokens,
        state=[state.active_change(account)],
    )
    return removed


@service
def reactivate_account(account: User, *, by: User, reason: str) -> User:
    """Let a deactivated account sign in again; its team places are not restored."""
    _refuse_own_account(account, by)
    reason = _require_reason(reason)
    if account.is_active:
        raise ValidationError({"__all__": "This account is active"})
    account.is_active = True
    account.save(update_fields=["is_active"])
    record_security_event(
        "account_reactivated",
        actor=by,
        account=account,
        reason=reason,
        state=[state.active_change(account)],
    )
    return account


@service
def unlock_account_by_administrator(account: User, *, by: User) -> None:
    _refuse_own_account(account, by)
    unlock_account(account, by=by)


# ------------------------------------------------------------------ vetting and training


def _check_vetting_dates(level: str, expires: date | None) -> None:
    if expires is not None and not level:
        raise ValidationError({"vetting_expires": "Choose the vetting level this date is for"})
    if expires is not None and expires < timezone.localdate():
        raise ValidationError({"vetting_expires": "The expiry date must be today or later"})


@service
def record_vetting(
    account: User,
    *,
    by: User,
    level: str,
    expires: date | None,
    line_manager: User | None,
) -> User:
    """The person's vetting and line manager. A vetting below their clearance lowers their
    effective clearance at once (User.effective_clearance), which the account page shows."""
    _refuse_own_account(account, by, "vetting_level")
    _check_vetting_dates(level, expires)
    if vetting_supports(account.clearance, level, expires):
        # Clearance never exceeds the vetting on record: lowering (or clearing) the vetting of
        # a cleared person is a change of their access, made with a reason, first.
        raise ValidationError(
            {
                "vetting_level": f"This vetting does not support {account.clearance_label}: "
                "lower the clearance first (Change roles and clearance)"
            }
        )
    if line_manager is not None and line_manager.pk == account.pk:
        raise ValidationError({"line_manager": "A person cannot be their own line manager"})
    changed = (account.vetting_level, account.vetting_expires) != (level, expires)
    account.vetting_level, account.vetting_expires = level, expires
    account.line_manager = line_manager
    account.save(update_fields=["vetting_level", "vetting_expires", "line_manager"])
    record_security_event(
        "vetting_recorded",
        actor=by,
        account=account,
        level=level,
        line_manager=line_manager.pk if line_manager else None,
        state=[state.vetting_change(account)],
    )
    if changed:
        _notify_account(account, _vetting_sentence(account), page="accounts:profile")
    return account


def _vetting_sentence(account: User) -> str:
    if not account.vetting_level:
        return "No vetting is recorded for you."
    until = f" until {account.vetting_expires:%-d %B %Y}" if account.vetting_expires else ""
    return (
        f"Your vetting is recorded as {account.get_vetting_level_display()}{until}; "
        f"your clearance in Haven is {account.effective_clearance_label}."
    )


@service
def add_qualification(
    account: User,
    *,
    by: User,
    kind: str,
    title: str,
    held_from: date,
    expires_on: date | None,
) -> Qualification:
    _refuse_own_account(account, by, "title")
    if expires_on is not None and expires_on < held_from:
        raise ValidationError({"expires_on": "The expiry date must be after the start date"})
    item = Qualification(
        user=account, kind=kind, title=title.strip(), held_from=held_from, expires_on=expires_on
    )
    item.full_clean()
    item.save()
    record_security_event("qualification_added", actor=by, account=account, kind=kind, key=item.pk)
    return item


@service
def remove_qualification(account: User, *, by: User, qualification_id: int) -> None:
    _refuse_own_account(account, by)
    deleted, _ = Qualification.objects.filter(user=account, pk=qualification_id).delete()
    if not deleted:
        raise Qualification.DoesNotExist
    record_security_event("qualification_removed", actor=by, account=account, key=qualification_id)


# ------------------------------------------------------------------ expiry notices


def _expiring_items(today: date, horizon: date) -> list[tuple[User, str, str, date]]:
    """(person, item key, what, expiry) of every active person's vetting, designation or
    training that lapses by `horizon` (lapsed ones included: they get one last notice)."""
    items: list[tuple[User, str, str, date]] = []
    vetted = User.objects.filter(
        is_active=True, vetting_expires__isnull=False, vetting_expires__lte=horizon
    ).exclude(vetting_level="")
    for user in vetted.select_related("line_manager"):
        what = f"{user.get_vetting_level_display()} vetting"
        items.append((user, "vetting", what, user.vetting_expires))  # type: ignore[arg-type]
    held = Qualification.objects.filter(
        user__is_active=True, expires_on__isnull=False, expires_on__lte=horizon
    ).select_related("user", "user__line_manager")
    for item in held:
        what = f"{item.get_kind_display().lower()} {item.title}"
        items.append((item.user, f"qualification:{item.pk}", what, item.expires_on))  # type: ignore[arg-type]
    return items


def _notice_due(user: User, key: str, expires: date, days_left: int) -> list[int]:
    """The notice thresholds (days before expiry, 0 for "has lapsed") this item has reached
    and not been sent; empty when the nearest one was sent already."""
    reached = [days for days in (*settings.EXPIRY_NOTICE_DAYS, 0) if days_left <= days]
    if not reached:
        return []
    sent = ExpiryNotice.objects.filter(
        user=user, item=key, expires_on=expires, days_before=min(reached)
    ).exists()
    return [] if sent else reached


@service
def send_expiry_notices(today: date | None = None) -> int:
    """Tell each person, and their line manager, about vetting, designations and training
    that lapse within the notice periods (settings.EXPIRY_NOTICE_DAYS) or have lapsed; each
    notice once per item and expiry date. Returns how many items were announced."""
    from haven.notifications.services import notify

    today = today or timezone.localdate()
    horizon = today + timedelta(days=max(settings.EXPIRY_NOTICE_DAYS, default=0))
    announced = 0
    for user, key, what, expires in _expiring_items(today, horizon):
        days_left = (expires - today).days
        reached = _notice_due(user, key, expires, days_left)
        if not reached:
            continue
        when = (
            f"lapsed on {expires:%-d %B %Y}" if days_left < 0 else f"lapses on {expires:%-d %B %Y}"
        )
        notify(user, "reminder", "vetting and training", f"Your {what} {when}.")
        manager = user.line_manager
        if manager is not None and manager.is_active:
            notify(manager, "reminder", "vetting and training", f"{user}'s {what} {when}.")
        for days in reached:
            ExpiryNotice.objects.get_or_create(
                user=user, item=key, expires_on=expires, days_before=days
            )
        announced += 1
    return announced


# ------------------------------------------------------------------ access review


@service
def confirm_access_review(by: User, *, digest: str) -> AccessReview:
    """Record that `by` reviewed who can reach what; `digest` is that of the listing they saw
    (selectors.access_review), refused when the access changed since."""
    current = access_review()
    if digest != current.digest:
        raise ValidationError(
            {"digest": "Access changed while you were reviewing it: review the new list"}
        )
    review = AccessReview.objects.create(
        confirmed_by=by, accounts=len(current.rows), digest=current.digest
    )
    record_security_event(
        "access_review_confirmed",
        actor=by,
        account=None,
        key=review.pk,
        digest=current.digest,
        lines=[row.line() for row in current.rows],
    )
    return review


# ------------------------------------------------------------------ factors and passwords


def confirmed_authenticator(user: User) -> AuthenticatorDevice | None:
    device: AuthenticatorDevice | None = AuthenticatorDevice.objects.filter(
        user=user, confirmed=True
    ).first()
    return device


# Crockford's base32 without the look-alikes (30 symbols, 4.9 bits each): a reset code of 16
# characters (valid minutes) carries 78 random bits; a recovery code of 24 (six groups of four)
# carries 117, above the 112 ASVS 2.6.2 asks of a secret that stays valid until used.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
RECOVERY_CODE_GROUPS = 6


def _one_time_secret(groups: int) -> str:
    return "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(4)) for _ in range(groups))


def _notify_account(user: User, message: str, *, page: str = "accounts:security") -> None:
    """Tell the account holder about a change to their account: how they sign in, or (with
    page="accounts:profile") their roles, clearance and vetting. Inbox and their verified
    contact methods; only the category leaves Haven. The one helper for every such notice."""
    from haven.notifications import services as notifications
    from haven.notifications.models import AlertCategory

    notifications.notify(user, AlertCategory.SECURITY, "", message, link=reverse(page))


def recovery_codes_left(user: User) -> int | None:
    """Unused recovery codes, or None if the account never generated any."""
    device = RecoveryCodeDevice.objects.filter(user=user).first()
    return device.unused_count() if device else None


@service
def generate_recovery_codes(user: User) -> list[str]:
    """A new set of single-use recovery codes, replacing any earlier set. Only their keyed
    hashes are kept: the caller shows the codes once."""
    device, _ = RecoveryCodeDevice.objects.get_or_create(
        user=user, defaults={"name": "Recovery codes", "confirmed": True}
    )
    device.codes.all().delete()
    # Codes of an earlier, shorter set keep working until this replaces them: the digest
    # ignores length and dashes.
    codes = [_one_time_secret(RECOVERY_CODE_GROUPS) for _ in range(settings.RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.bulk_create(
        RecoveryCode(device=device, digest=factor_secret_digest("recovery", user.pk, code))
        for code in codes
    )
    record_security_event(
        "factor_enrolled", actor=user, account=user, factor="recovery_codes", count=len(codes)
    )
    return codes


@service
def use_recovery_code(user: User, code: str, source: str = "") -> CodeCheck:
    """A recovery code as the second factor at sign-in: used up whether or not the sign-in
    then completes, ledgered, and the account holder told (someone else may hold their
    codes). A wrong code counts towards lockout like a wrong security code."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_locked():
        return CodeCheck(device=None, locked=True)
    device = RecoveryCodeDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None and device.verify_token(code):
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        left = device.unused_count()
        record_security_event(
            "recovery_code_used", actor=user, account=user, count=left, source=source
        )
        record_security_event("sign_in", actor=user, account=user, source=source)
        _notify_account(
            user,
            f"A recovery code was used to sign in to your account; {left} codes are left. "
            "If this was not you, tell your administrator at once.",
        )
        return CodeCheck(device=device)
    record_security_event(
        "sign_in_failed", actor=user, account=user, reason="recovery_code", source=source
    )
    locked = record_failure(user, settings.LOGIN_FAILURE_LIMIT) is not None
    return CodeCheck(device=None, locked=locked)


def has_second_factor(user: User) -> bool:
    """Whether the account can sign in without enrolling first: an authenticator app (the
    factor every account keeps; passkeys and recovery codes come beside it)."""
    return has_confirmed_totp(user)


@service
def passkey_signed_in(user: User, device: Device, source: str = "") -> None:
    User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
    record_security_event(
        "sign_in", actor=user, account=user, factor="passkey", device=device.pk, source=source
    )


@service
def passkey_refused(user: User, source: str = "") -> bool:
    """A passkey assertion that failed verification; returns whether it locked the account."""
    record_security_event(
        "sign_in_failed", actor=user, account=user, reason="passkey", source=source
    )
    return record_failure(user, settings.LOGIN_FAILURE_LIMIT) is not None


@service
def passkey_registered(user: User, device: Device, name: str) -> None:
    """Name a passkey the ceremony has just stored, and ledger it."""
    type(device).objects.filter(pk=device.pk).update(name=name[:64] or "Passkey")
    record_security_event(
        "factor_enrolled", actor=user, account=user, factor="passkey", device=device.pk
    )
    _notify_account(user, "A passkey or security key was added to your account.")


@service
def rename_passkey(user: User, device_id: int, name: str) -> bool:
    from django_otp_webauthn.models import WebAuthnCredential

    name = name.strip()
    if not name:
        raise ValidationError({"name": "Enter a name for the passkey"})
    renamed = WebAuthnCredential.objects.filter(pk=device_id, user=user).update(name=name[:64])
    if renamed:
        record_security_event(
            "factor_renamed", actor=user, account=user, factor="passkey", device=device_id
        )
    return bool(renamed == 1)


@service
def remove_passkey(user: User, device_id: int) -> bool:
    from django_otp_webauthn.models import WebAuthnCredential

    removed, _ = WebAuthnCredential.objects.filter(pk=device_id, user=user).delete()
    if removed:
        record_security_event(
            "factor_removed", actor=user, account=user, factor="passkey", device=device_id
        )
        _notify_account(user, "A passkey or security key was removed from your account.")
    return bool(removed)


def _validate_new_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"new_password": error.messages}) from error


@dataclass(frozen=True)
class PasswordChange:
    current: str
    new: str
    code: str


def change_password(user: User, change: PasswordChange) -> int:
    """The signed-in user's own password, against the current one and a fresh code. Ends the
    account's other sessions (the caller keeps its own: returns the new session epoch).
    The new password is checked first (so a refused one does not use up the code); a wrong
    password or code is counted and ledgered in its own transaction (reauthenticate), so the
    refusal cannot roll the count back."""
    _validate_new_password(change.new, user)
    if not reauthenticate(user, change.current, change.code):
        raise ValidationError({"code": "Your current password or security code is not correct"})
    return _set_own_password(user, change.new)


@service
def _set_own_password(user: User, new: str) -> int:
    user.set_password(new)
    user.first_password_expires = None
    user.save(update_fields=["password", "first_password_expires"])
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    record_security_event("password_changed", actor=user, account=user)
    _notify_account(
        user, "Your password was changed. If this was not you, tell your administrator."
    )
    return user.session_epoch


def _reset_code_text(code: str) -> str:
    minutes = settings.PASSWORD_RESET_MINUTES
    return (
        f"Your Haven password reset code is {code}. It works once, for {minutes} minutes: "
        "choose 'Reset your password with a code' on the Haven sign-in page."
    )


@service
def issue_password_reset(user: User, *, by: User, reason: str) -> PasswordReset:
    """An administrator starts a password reset: a one-time code, valid for
    PASSWORD_RESET_MINUTES, goes only to the account's verified contact methods (never to the
    administrator, who sees that it was sent). Earlier unused codes stop working. The second
    factor is untouched: a new password still needs the account's code or passkey."""
    from haven.notifications import channels
    from haven.notifications import services as notifications

    _refuse_own_account(user, by)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the password is being reset"})
    contacts = list(notifications.verified_contacts(user))
    if not contacts:
        raise ValidationError(
            {"reason": "This account has no verified contact method to send a reset code to"}
        )
    PasswordReset.objects.filter(user=user, used_at__isnull=True).update(used_at=timezone.now())
    code = _one_time_secret(4)
    reset = PasswordReset.objects.create(
        user=user,
        digest=factor_secret_digest("password_reset", user.pk, code),
        issued_by=by,
        expires_at=timezone.now() + timedelta(minutes=settings.PASSWORD_RESET_MINUTES),
    )
    record_security_event(
        "password_reset_issued",
        actor=by,
        account=user,
        reason=reason.strip(),
        sent_to=len(contacts),
    )

    def send_code() -> None:
        failed = 0
        for contact in contacts:
            try:
                channels.send(contact, _reset_code_text(code), subject="Haven password reset")
            except channels.DeliveryError:
                failed += 1  # another verified method may still reach the person
        if failed:
            reset_code_undelivered(user, by=by, failed=failed, of=len(contacts))

    transaction.on_commit(send_code)
    return reset


@service
def reset_code_undelivered(user: User, *, by: User, failed: int, of: int) -> None:
    """Some contact method did not take the reset code: ledger it and tell the administrator
    who issued it (the code itself is not kept, so it cannot be re-sent; issue a new one)."""
    record_security_event("password_reset_undelivered", actor=by, account=user, count=failed, n=of)
    _notify_account(
        by,
        f"The password reset code for {user.username} could not be sent on {failed} of {of} "
        "contact methods. If none reached them, issue a new reset.",
    )


RESET_REFUSAL = "The user name or reset code is not correct, or the code has expired"


@dataclass(frozen=True)
class PasswordResetRequest:
    username: str
    code: str
    new_password: str
    source: str = ""


@service
def redeem_password_reset(request: PasswordResetRequest) -> bool:
    """Set a new password with a reset code. Unknown name, wrong, used or expired code all
    answer False alike (throttled like sign-in by address and name); a weak password raises
    ValidationError only once the code has proved the account. Success ends every session
    and token of the account."""
    keys = SignInKeys.of(request.username, request.source)
    if keys.throttled():
        return False
    user = (
        User.objects.select_for_update().filter(username=request.username, is_active=True).first()
    )
    reset = None
    if user is not None:
        reset = (
            PasswordReset.objects.select_for_update()
            .filter(
                user=user,
                digest=factor_secret_digest("password_reset", user.pk, request.code),
                used_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .first()
        )
    if user is None or reset is None:
        _count_failure(keys.address)
        _count_failure(keys.pair)
        subject = {"source": request.source}
        if user is None:
            subject["name_digest"] = keyed_digest("ledger.username", request.username)[:32]
        record_security_event("password_reset_failed", actor=ANONYMOUS, account=user, **subject)
        return False
    _validate_new_password(request.new_password, user)
    user.set_password(request.new_password)
    user.failed_logins, user.locked_until = 0, None
    user.first_password_expires = None
    user.save(update_fields=["password", "failed_logins", "locked_until", "first_password_expires"])
    PasswordReset.objects.filter(pk=reset.pk).update(used_at=timezone.now())
    revoked = _end_sessions_and_tokens(user)
    record_security_event(
        "password_reset", actor=user, account=user, tokens=revoked, source=request.source
    )
    _notify_account(user, "Your password was reset with a reset code.")
    return True


@service
def reset_factors(user: User, *, by: User, reason: str) -> dict[str, int]:
    """An administrator removes every second factor of another account (authenticator app,
    passkeys, recovery codes): its sessions end, its tokens are revoked, the holder is told,
    and at the next sign-in they enrol a new authenticator app after their password."""
    from django_otp_webauthn.models import WebAuthnCredential

    _refuse_own_account(user, by)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the factors are being reset"})
    removed = {
        "totp": AuthenticatorDevice.objects.filter(user=user).delete()[0],
        "passkeys": WebAuthnCredential.objects.filter(user=user).count(),
        "recovery_codes": RecoveryCodeDevice.objects.filter(user=user).count(),
    }
    WebAuthnCredential.objects.filter(user=user).delete()
    RecoveryCodeDevice.objects.filter(user=user).delete()
    removed["tokens"] = _end_sessions_and_tokens(user)
    record_security_event(
        "factors_reset", actor=by, account=user, reason=reason.strip(), removed=removed
    )
    _notify_account(
        user,
        "An administrator reset your sign-in factors: at your next sign-in you will set up a "
        "new authenticator app. Your API tokens were revoked.",
    )
    return removed


@service
def verify_passkey(
    user: User, helper: Any, state: dict[str, Any], data: dict[str, Any], source: str = ""
) -> CodeCheck:
    """The second factor by passkey: the library checks the assertion against the pending
    user's own credentials and the one-time challenge; a failure counts towards lockout."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_locked():
        return CodeCheck(device=None, locked=True)
    try:
        with transaction.atomic():  # a savepoint: a refused assertion leaves no write behind
            device = helper.authenticate_complete(user=user, state=state, data=data)
    except Exception:  # noqa: BLE001 (any malformed or forged assertion is one refusal)
        return CodeCheck(device=None, locked=passkey_refused(user, source))
    if not device.confirmed:
        return CodeCheck(device=None, locked=passkey_refused(user, source))
    passkey_signed_in(user, device, source)
    return CodeCheck(device=device)


@service
def register_passkey(
    user: User, helper: Any, state: dict[str, Any], data: dict[str, Any]
) -> Device | None:
    """Store the passkey the browser just made (the library verifies the attestation against
    the one-time challenge), named after today; None if it does not verify."""
    try:
        with transaction.atomic():  # a savepoint: a refused response leaves no write behind
            device = helper.register_complete(user=user, state=state, data=data)
    except Exception:  # noqa: BLE001 (a malformed or forged response is a refusal, not a 500)
        return None
    passkey_registered(user, device, f"Passkey added {timezone.localdate():%-d %b %Y}")
    return device
