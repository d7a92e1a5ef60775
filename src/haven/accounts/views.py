from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from haven.ui.helpers import add_form_errors

from . import services
from .forms import ApiTokenForm, CodeForm, SignInForm
from .middleware import EPOCH, LAST_SEEN, SIGNED_IN_AT
from .models import User
from .security import client_address
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
        {"form": form, "refused": True, "lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES},
    )


@login_not_required
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.check_password(
            form.cleaned_data["username"], form.cleaned_data["password"], client_address(request)
        )
        if result.user is None:
            return refused_sign_in(request, form)
        request.session.cycle_key()
        request.session[PENDING_USER] = result.user.pk
        if services.has_confirmed_totp(result.user):
            return redirect("accounts:verify")
        return redirect("accounts:enrol")
    return render(request, "accounts/sign_in.html", {"form": form})


def pending_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING_USER)
    return User.objects.filter(pk=user_id, is_active=True).first() if user_id else None


def complete_sign_in(request: HttpRequest, user: User, device: object) -> HttpResponse:
    request.session.pop(PENDING_USER, None)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    otp_login(request, device)
    request.session[EPOCH] = user.session_epoch
    request.session[SIGNED_IN_AT] = int(timezone.now().timestamp())
    request.session.pop(LAST_SEEN, None)
    return redirect("web:home")


@login_not_required
def verify(request: HttpRequest) -> HttpResponse:
    user = pending_user(request)
    if user is None:
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.verify_totp(user, form.cleaned_data["code"], client_address(request))
        if result.locked:
            # The password was right, so saying "locked" here tells an attacker nothing new.
            request.session.pop(PENDING_USER, None)
            return render(
                request,
                "accounts/locked.html",
                {"lockout_minutes": settings.LOGIN_LOCKOUT_MINUTES},
            )
        if result.device is not None:
            return complete_sign_in(request, user, result.device)
        form.add_error("code", "The security code is not correct or has expired")
    return render(request, "accounts/verify.html", {"form": form})


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
