from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import JavaScriptCatalog
from django_otp import login as otp_login

from haven.ui.helpers import add_form_errors, created, flash_outcome

from . import keptforms, passkeys, selectors, services
from .forms import (
    ApiTokenForm,
    CodeForm,
    PasskeyNameForm,
    PasswordChangeForm,
    PasswordResetForm,
    ReauthenticateForm,
    RecoveryCodeForm,
    SignInForm,
)
from .middleware import EPOCH
from .models import User
from .security import client_address
from .services import CodeCheck
from .sessions import DEVICE, LAST_SEEN, SIGNED_IN_AT, describe_user_agent
from .strength import estimate
from .types import AuthenticatedRequest

PENDING_USER = "haven_pending_user"


def refused_sign_in(request: HttpRequest, form: SignInForm) -> HttpResponse:
    """The one answer to every refused password step: unknown name, wrong password, locked
    account, throttled address. The page says what to do in each case without saying which
    it is, so it tells an attacker nothing about the account."""
    form.add_error(None, services.GENERIC_REFUSAL)
    return render(
        request,
        "accounts/sign_in.html",
        {
            "form": form,
            "refused": True,
            "lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES,
            **kept_form_context(request),
        },
    )


def kept_form_context(request: HttpRequest) -> dict[str, Any]:
    """The sign-in page says so when the link names a form kept on expiry."""
    kept = bool(keptforms.valid_handle(request.GET.get(keptforms.PARAM, "")))
    return {"kept_form": kept, "kept_minutes": services.KEPT_FORM_MINUTES}


@login_not_required
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.check_password(
            form.cleaned_data["username"], form.cleaned_data["password"], client_address(request)
        )
        if result.first_password_expired:
            form.add_error("password", services.FIRST_PASSWORD_EXPIRED)
            return render(request, "accounts/sign_in.html", {"form": form})
        if result.user is None:
            return refused_sign_in(request, form)
        request.session.cycle_key()
        request.session[PENDING_USER] = result.user.pk
        # A form kept when a session expired: restored once the second factor is done, and
        # only if it was this account's (keptforms.restore_after_sign_in).
        handle = keptforms.valid_handle(request.GET.get(keptforms.PARAM, ""))
        if handle:
            request.session[keptforms.PENDING] = handle
        else:
            request.session.pop(keptforms.PENDING, None)
        if services.has_second_factor(result.user):
            return redirect("accounts:verify")
        return redirect("accounts:enrol")
    return render(request, "accounts/sign_in.html", {"form": form, **kept_form_context(request)})


def pending_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING_USER)
    return User.objects.filter(pk=user_id, is_active=True).first() if user_id else None


def complete_sign_in(request: HttpRequest, user: User, device: object) -> HttpResponse:
    request.session.pop(PENDING_USER, None)
    kept_handle = request.session.pop(keptforms.PENDING, None)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    otp_login(request, device)
    request.session[EPOCH] = user.session_epoch
    request.session[SIGNED_IN_AT] = int(timezone.now().timestamp())
    request.session.pop(LAST_SEEN, None)
    request.session[DEVICE] = describe_user_agent(request.headers.get("user-agent", ""))
    page = keptforms.restore_after_sign_in(request, user, kept_handle) if kept_handle else None
    return redirect(page or "web:home")


def _second_factor_page(
    request: HttpRequest,
    form_class: type[forms.Form],
    check: Callable[[User, str, str], CodeCheck],
    refusal: str,
    template: str,
    context: Callable[[User], dict[str, Any]] = lambda user: {},
) -> HttpResponse:
    """The second step of signing in, after the password: `check` the code typed (a security
    code or a recovery code) for the user whose password was right; signed in once it passes,
    the lockout page once there were too many failures, else the form again with `refusal`."""
    user = pending_user(request)
    if user is None:
        return redirect("accounts:login")
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = check(user, form.cleaned_data["code"], client_address(request))
        if result.locked:
            return locked_answer(request)
        if result.device is not None:
            return complete_sign_in(request, user, result.device)
        form.add_error("code", refusal)
    return render(request, template, {"form": form, **context(user)})


@login_not_required
def verify(request: HttpRequest) -> HttpResponse:
    return _second_factor_page(
        request,
        CodeForm,
        services.verify_totp,
        "The security code is not correct or has expired",
        "accounts/verify.html",
        lambda user: {
            "passkey_config": passkeys.script_configuration(request, register=False)
            if passkeys.has_passkey(user)
            else None,
        },
    )


def locked_answer(request: HttpRequest) -> HttpResponse:
    # The password was right, so saying "locked" here tells an attacker nothing new.
    request.session.pop(PENDING_USER, None)
    return render(
        request, "accounts/locked.html", {"lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES}
    )


@login_not_required
def verify_recovery(request: HttpRequest) -> HttpResponse:
    """The second factor by a single-use recovery code (a lost phone or key)."""
    return _second_factor_page(
        request,
        RecoveryCodeForm,
        services.use_recovery_code,
        "The recovery code is not correct or was already used",
        "accounts/verify_recovery.html",
    )


def json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def refusal(detail: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


@login_not_required
@require_POST
def passkey_verify_begin(request: HttpRequest) -> HttpResponse:
    """Options for the browser's passkey prompt: the pending user's own credentials only."""
    user = pending_user(request)
    if user is None:
        return refusal("Sign in with your user name and password first", 403)
    options, state = passkeys.helper(request).authenticate_begin(
        user=user, require_user_verification=False
    )
    request.session[passkeys.AUTHENTICATE_STATE] = state
    return JsonResponse(options)


@login_not_required
@require_POST
def passkey_verify_complete(request: HttpRequest) -> HttpResponse:
    user = pending_user(request)
    # The challenge is used once, whatever happens next.
    state = request.session.pop(passkeys.AUTHENTICATE_STATE, None)
    request.session.save()
    if user is None or state is None:
        return refusal("Start again: sign in with your user name and password", 403)
    result = services.verify_passkey(
        user, passkeys.helper(request), state, json_body(request), client_address(request)
    )
    if result.locked:
        request.session.pop(PENDING_USER, None)
        return refusal("Your account is locked. Try again later.", 403)
    if result.device is None:
        return refusal("The passkey could not be verified. Try again or use a security code.")
    signed_in = complete_sign_in(request, user, result.device)
    return JsonResponse({"id": result.device.pk, "redirect_url": signed_in["Location"]})


def qr_code_data_uri(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_not_required
def enrol(request: HttpRequest) -> HttpResponse:
    user = pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if services.has_confirmed_totp(user):
        return redirect("accounts:verify")
    device = services.pending_totp_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = services.confirm_totp_enrolment(
            user, form.cleaned_data["code"], client_address(request)
        )
        if confirmed is not None:
            return complete_sign_in(request, user, confirmed)
        form.add_error("code", "The security code is not correct: check the time on your device")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "accounts/enrol.html",
        {"form": form, "qr_code": qr_code_data_uri(device.config_url), "secret": secret},
    )


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You have signed out.")
    return redirect("accounts:login")


@require_POST
def sign_out_everywhere(request: AuthenticatedRequest) -> HttpResponse:
    services.sign_out_everywhere(request.user)
    logout(request)
    messages.info(request, "You have signed out on every device.")
    return redirect("accounts:login")


def profile(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = ApiTokenForm(user, request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _, new_secret = services.issue_api_token_with_reauthentication(
                user, form.token_request()
            )
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            form = ApiTokenForm(user)
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "tokens": user.api_tokens.all(),
            "new_secret": new_secret,
            "token_days": settings.API_TOKEN_DAYS,
        },
    )


@require_POST
def keep_alive(request: AuthenticatedRequest) -> HttpResponse:
    """ "Stay signed in" from the timeout warning: the session guard has just stamped activity."""
    return HttpResponse(status=204)


@require_POST
def revoke_token(request: AuthenticatedRequest, token_id: int) -> HttpResponse:
    if services.revoke_api_token(request.user, token_id):
        messages.success(request, "The token was revoked.")
    else:
        messages.error(request, "That token does not exist or was already revoked.")
    return redirect("accounts:profile")


# ------------------------------------------------------------------ sign-in and security

REAUTHENTICATED_AT = "haven_reauthenticated_at"


def recently_reauthenticated(request: HttpRequest) -> bool:
    at = request.session.get(REAUTHENTICATED_AT)
    now = timezone.now().timestamp()
    return at is not None and now - at <= settings.FACTOR_CHANGE_REAUTH_SECONDS


# Re-authentication by passkey is two steps: the password (this long ago at most), then the
# passkey ceremony against the signed-in user's own credentials.
PASSWORD_CONFIRMED_AT = "haven_reauth_password_at"
PASSKEY_REAUTH_STATE = "haven_passkey_reauth_state"
PASSWORD_STEP_SECONDS = 2 * 60


def password_recently_confirmed(request: HttpRequest) -> bool:
    at = request.session.get(PASSWORD_CONFIRMED_AT)
    return at is not None and timezone.now().timestamp() - at <= PASSWORD_STEP_SECONDS


def security(request: AuthenticatedRequest) -> HttpResponse:
    """Your factors and password. Changing a factor first needs the password and a code, or
    the password and one of your passkeys ("Use a passkey instead of a code")."""
    user = request.user
    form = ReauthenticateForm(request.POST or None)
    with_passkey = request.method == "POST" and request.POST.get("with") == "passkey"
    if with_passkey and passkeys.has_passkey(user):
        if services.check_reauthentication_password(user, request.POST.get("password", "")):
            request.session[PASSWORD_CONFIRMED_AT] = int(timezone.now().timestamp())
            return redirect("accounts:security")
        form.is_valid()  # bound: the errors below are the only ones shown
        form.errors.pop("code", None)
        form.errors.pop("password", None)
        form.add_error("password", "Your password is not correct")
    elif request.method == "POST" and form.is_valid():
        if services.reauthenticate(user, form.cleaned_data["password"], form.cleaned_data["code"]):
            request.session[REAUTHENTICATED_AT] = int(timezone.now().timestamp())
            return redirect("accounts:security")
        form.add_error("code", "Your password or security code is not correct")
    fresh = recently_reauthenticated(request)
    confirm_with_passkey = not fresh and password_recently_confirmed(request)
    has_passkeys = passkeys.has_passkey(user)
    return render(
        request,
        "accounts/security.html",
        {
            "form": form,
            "fresh": fresh,
            "has_passkeys": has_passkeys,
            "confirm_with_passkey": confirm_with_passkey and has_passkeys,
            "authenticator": services.confirmed_authenticator(user),
            "passkeys": passkeys.passkeys_of(user),
            "recovery_codes_left": services.recovery_codes_left(user),
            "sessions": selectors.signed_in_sessions(user),
            "current_session": selectors.current_session_handle(request.session.session_key),
            "recovery_code_count": settings.RECOVERY_CODE_COUNT,
            "passkey_config": passkeys.script_configuration(request, register=True)
            if fresh
            else passkeys.script_configuration(request, register=False, reauthenticate=True)
            if confirm_with_passkey and has_passkeys
            else None,
        },
    )


@require_POST
def end_session(request: AuthenticatedRequest) -> HttpResponse:
    """End one of your other sessions; like a factor change, it needs a fresh confirmation."""
    if not recently_reauthenticated(request):
        return refused_factor_change(request)
    flash_outcome(
        request,
        lambda: services.end_session(
            request.user,
            request.POST.get("session", ""),
            current_handle=selectors.current_session_handle(request.session.session_key),
        ),
        "That session has ended: it must sign in again.",
    )
    return redirect("accounts:security")


@require_POST
def passkey_reauth_begin(request: AuthenticatedRequest) -> HttpResponse:
    """Options for the passkey prompt that confirms it is you: the user's own credentials,
    only after their password was confirmed moments ago."""
    if not password_recently_confirmed(request):
        return refusal("Confirm your password first")
    options, state = passkeys.helper(request).authenticate_begin(
        user=request.user, require_user_verification=False
    )
    request.session[PASSKEY_REAUTH_STATE] = state
    return JsonResponse(options)


@require_POST
def passkey_reauth_complete(request: AuthenticatedRequest) -> HttpResponse:
    # The challenge and the password step are used once, whatever happens next.
    state = request.session.pop(PASSKEY_REAUTH_STATE, None)
    password_ok = password_recently_confirmed(request)
    request.session.pop(PASSWORD_CONFIRMED_AT, None)
    request.session.save()
    if state is None or not password_ok:
        return refusal("Confirm your password first")
    if not services.reauthenticate_with_passkey(
        request.user, passkeys.helper(request), state, json_body(request)
    ):
        return refusal("The passkey could not be verified. Try again or use a security code.")
    request.session[REAUTHENTICATED_AT] = int(timezone.now().timestamp())
    return JsonResponse({"redirect_url": reverse("accounts:security")})


def refused_factor_change(request: HttpRequest) -> HttpResponse:
    messages.error(request, "Confirm your password and security code first.")
    return redirect("accounts:security")


@never_cache
@require_POST
def recovery_codes(request: AuthenticatedRequest) -> HttpResponse:
    """New recovery codes, shown on this one answer and never again."""
    if not recently_reauthenticated(request):
        return refused_factor_change(request)
    codes = services.generate_recovery_codes(request.user)
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@require_POST
def passkey_register_begin(request: AuthenticatedRequest) -> HttpResponse:
    if not recently_reauthenticated(request):
        return refusal("Confirm your password and security code first")
    options, state = passkeys.helper(request).register_begin(user=request.user)
    request.session[passkeys.REGISTER_STATE] = state
    return JsonResponse(options)


@require_POST
def passkey_register_complete(request: AuthenticatedRequest) -> HttpResponse:
    state = request.session.pop(passkeys.REGISTER_STATE, None)
    request.session.save()
    if not recently_reauthenticated(request) or state is None:
        return refusal("Confirm your password and security code first")
    device = services.register_passkey(
        request.user, passkeys.helper(request), state, json_body(request)
    )
    if device is None:
        return refusal("The passkey could not be added. Try again.")
    return JsonResponse({"id": device.pk})


@require_POST
def passkey_rename(request: AuthenticatedRequest, device_id: int) -> HttpResponse:
    form = PasskeyNameForm(request.POST)
    if form.is_valid() and services.rename_passkey(
        request.user, device_id, form.cleaned_data["name"]
    ):
        messages.success(request, "The passkey was renamed.")
    else:
        messages.error(request, "Enter a name of up to 64 characters for one of your passkeys.")
    return redirect("accounts:security")


@require_POST
def passkey_remove(request: AuthenticatedRequest, device_id: int) -> HttpResponse:
    if not recently_reauthenticated(request):
        return refused_factor_change(request)
    if services.remove_passkey(request.user, device_id):
        messages.success(request, "The passkey was removed.")
    else:
        messages.error(request, "That passkey does not exist.")
    return redirect("accounts:security")


def change_password(request: AuthenticatedRequest) -> HttpResponse:
    form = PasswordChangeForm(request.POST or None)

    def change() -> int:
        data = form.cleaned_data
        asked = services.PasswordChange(
            current=data["current_password"], new=data["new_password"], code=data["code"]
        )
        return services.change_password(request.user, asked)

    epoch = created(request, form, change, "Your password was changed. Other sessions have ended.")
    if epoch is not None:
        # This session carries on; every other one has ended with the old password.
        update_session_auth_hash(request, request.user)
        request.session[EPOCH] = epoch
        return redirect("accounts:security")
    return render(request, "accounts/change_password.html", {"form": form})


@login_not_required
def reset_password(request: HttpRequest) -> HttpResponse:
    """Redeem a reset code an administrator had sent. Every refusal reads the same."""
    form = PasswordResetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        reset = services.PasswordResetRequest(
            username=data["username"],
            code=data["code"],
            new_password=data["new_password"],
            source=client_address(request),
        )
        try:
            done = services.redeem_password_reset(reset)
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            if done:
                messages.success(request, "Your password was reset. Sign in with it now.")
                return redirect("accounts:login")
            form.add_error(None, services.RESET_REFUSAL)
    return render(request, "accounts/reset_password.html", {"form": form})


@login_not_required
@require_POST
def password_strength(request: HttpRequest) -> HttpResponse:
    """The strength meter's estimate for a password being typed (ASVS 2.1.8), from the same
    zxcvbn check the validator applies. Public because the reset page is used signed out; a
    POST with the CSRF token, so the password never sits in a URL, and nothing is stored."""
    password = request.POST.get("password", "")
    user = request.user
    names = [user.username, user.first_name, user.last_name] if user.is_authenticated else []
    names.append(request.POST.get("username", "")[:150])
    strength = estimate(password, names)
    return JsonResponse({"score": strength.score, "hint": strength.hint})


# The library's script calls gettext(); Haven is in English, so the catalogue is empty.
passkey_strings = login_not_required(JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]))
