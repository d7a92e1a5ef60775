"""The administration module's pages (mounted behind its gate in haven/urls.py): accounts,
their lifecycle, vetting and training, and the periodic access review."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from haven.accounts import selectors, services
from haven.accounts.forms import ReasonForm
from haven.accounts.models import Qualification, User
from haven.accounts.roles import Module
from haven.accounts.types import AuthenticatedRequest
from haven.ui.forms import GovukForm
from haven.ui.helpers import add_form_errors, submitted

from . import forms

NAV = {"nav_active": Module.ADMINISTRATION}


def _account(user_id: int) -> User:
    return get_object_or_404(selectors.accounts(), pk=user_id)


def _posted(request: HttpRequest) -> Any:
    """The form data of a POST (even an empty one, so that it shows its errors), else None."""
    return request.POST if request.method == "POST" else None


def _page(request: HttpRequest, template: str, **context: object) -> HttpResponse:
    return render(request, f"administration/{template}", {**NAV, **context})


def account_list(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        "accounts.html",
        accounts=selectors.accounts(),
        review_due=selectors.access_review_due(),
    )


@dataclass(frozen=True)
class AccountAction:
    """One action on the account page: a link to its own page (GET) or a button (POST)."""

    label: str
    url: str
    post: bool = False
    warning: bool = False


def account_actions(account: User, administrator: User) -> list[AccountAction]:
    """The actions an administrator may take on this account, in page order; none on their
    own account. Another action is one more entry here and one more URL."""
    if account.pk == administrator.pk:
        return []
    url = lambda name: reverse(f"administration:{name}", args=[account.pk])  # noqa: E731
    if not account.is_active:
        return [AccountAction("Reactivate account", url("reactivate"))]
    actions = [
        AccountAction("Change roles and clearance", url("change_access")),
        AccountAction("Change vetting and line manager", url("vetting")),
        AccountAction("Add designation or training", url("add_qualification")),
    ]
    if account.is_locked():
        actions.append(AccountAction("Unlock", url("unlock_account"), post=True))
    actions.append(AccountAction("Reset sign-in factors", url("reset_factors")))
    actions.append(AccountAction("Send a password reset code", url("reset_password")))
    actions.append(AccountAction("Deactivate account", url("deactivate"), warning=True))
    return actions


def account_detail(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    account = _account(user_id)
    administrator = request.user
    return _page(
        request,
        "account.html",
        account=account,
        actions=account_actions(account, administrator),
        may_change=account.pk != administrator.pk and account.is_active,
        qualifications=selectors.qualifications(account),
        places=selectors.deactivation_losses(account),
    )


def new_account(request: AuthenticatedRequest) -> HttpResponse:
    form = forms.NewAccountForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        manager = selectors.account(data["line_manager"]) if data["line_manager"] else None
        new = services.NewAccount(
            username=data["username"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            roles=data["roles"],
            clearance=data["clearance"],
            vetting_level=data["vetting_level"],
            vetting_expires=data["vetting_expires"],
            line_manager=manager,
        )
        created: dict[str, tuple[User, str]] = {}

        def create() -> None:
            created["account"] = services.create_account(request.user, new)

        if submitted(request, form, create):
            account, password = created["account"]
            # Shown once, on this answer only: the administrator hands it over; the person
            # enrols their authenticator app when they first sign in.
            return _page(request, "account_created.html", account=account, password=password)
    return _page(request, "account_form.html", form=form, title="Create an account")


def _on_another_account(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Give the view the account its URL names. Actions are not offered on one's own account
    or on a deactivated one; a typed URL gets the account page."""

    @wraps(view)
    def on_account(request: AuthenticatedRequest, user_id: int, **kwargs: Any) -> HttpResponse:
        account = _account(user_id)
        if account.pk == request.user.pk or not account.is_active:
            messages.error(request, "That action is not available on this account")
            return redirect("administration:account", account.pk)
        return view(request, account, **kwargs)

    return on_account


def _account_form(
    request: AuthenticatedRequest,
    account: User,
    form: GovukForm,
    change: Callable[[dict[str, Any]], object],
    done: str,
    title: str,
) -> HttpResponse:
    """A form changing another account: the change on a valid POST, then the account page;
    else the form (again, with its errors)."""
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if submitted(request, form, lambda: change(data), done):
            return redirect("administration:account", account.pk)
    return _page(request, "account_form.html", form=form, account=account, title=title)


@_on_another_account
def change_access(request: AuthenticatedRequest, account: User) -> HttpResponse:
    initial = {"roles": account.roles, "clearance": account.clearance}
    return _account_form(
        request,
        account,
        forms.AccessForm(_posted(request), initial=initial),
        lambda data: services.change_account_access(
            account,
            roles=data["roles"],
            clearance=data["clearance"],
            by=request.user,
            reason=data["reason"],
        ),
        f"{account.username}'s access was changed",
        "Change roles and clearance",
    )


@_on_another_account
def vetting(request: AuthenticatedRequest, account: User) -> HttpResponse:
    initial = {
        "vetting_level": account.vetting_level,
        "vetting_expires": account.vetting_expires,
        "line_manager": account.line_manager_id,
    }
    return _account_form(
        request,
        account,
        forms.VettingForm(_posted(request), initial=initial, account=account),
        lambda data: services.record_vetting(
            account,
            by=request.user,
            level=data["vetting_level"],
            expires=data["vetting_expires"],
            line_manager=(
                selectors.account(data["line_manager"]) if data["line_manager"] else None
            ),
        ),
        f"{account.username}'s vetting was recorded",
        "Vetting and line manager",
    )


@_on_another_account
def add_qualification(request: AuthenticatedRequest, account: User) -> HttpResponse:
    return _account_form(
        request,
        account,
        forms.QualificationForm(_posted(request)),
        lambda data: services.add_qualification(account, by=request.user, **data),
        f"Added to {account.username}'s record",
        "Add a designation or training",
    )


@require_POST
@_on_another_account
def remove_qualification(
    request: AuthenticatedRequest, account: User, qualification_id: int
) -> HttpResponse:
    try:
        services.remove_qualification(account, by=request.user, qualification_id=qualification_id)
    except Qualification.DoesNotExist:
        raise Http404 from None
    messages.success(request, f"Removed from {account.username}'s record")
    return redirect("administration:account", account.pk)


def _change_with_reason(
    request: AuthenticatedRequest, account: User, change: Callable[..., Any], done: str
) -> tuple[HttpResponse | None, forms.ReasonForm]:
    """Run a change to another account that the administrator must give a reason for: the
    redirect to the account once it is made, else None and the form to show (again)."""
    form = forms.ReasonForm(_posted(request))
    if request.method == "POST" and form.is_valid():

        def run() -> None:
            change(account, by=request.user, reason=form.cleaned_data["reason"])

        if submitted(request, form, run, done):
            return redirect("administration:account", account.pk), form
    return None, form


@_on_another_account
def deactivate(request: AuthenticatedRequest, account: User) -> HttpResponse:
    """A confirmation page listing the cases and deployments that lose a member, with the
    reason; the deactivation happens on its POST."""
    done, form = _change_with_reason(
        request, account, services.deactivate_account, f"{account.username} was deactivated"
    )
    if done:
        return done
    return _page(
        request,
        "deactivate.html",
        form=form,
        account=account,
        losses=selectors.deactivation_losses(account),
    )


def reactivate(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    account = _account(user_id)
    if account.pk == request.user.pk or account.is_active:
        messages.error(request, "That action is not available on this account")
        return redirect("administration:account", account.pk)
    done, form = _change_with_reason(
        request, account, services.reactivate_account, f"{account.username} can sign in again"
    )
    if done:
        return done
    return _page(
        request, "account_form.html", form=form, account=account, title="Reactivate account"
    )


@require_POST
@_on_another_account
def unlock_account(request: AuthenticatedRequest, account: User) -> HttpResponse:
    services.unlock_account_by_administrator(account, by=request.user)
    messages.success(request, f"{account.username} can sign in again.")
    return redirect("administration:account", account.pk)


def access_review(request: AuthenticatedRequest) -> HttpResponse:
    listing = selectors.access_review()
    form = forms.ReviewForm(_posted(request), initial={"digest": listing.digest})
    if request.method == "POST" and form.is_valid():

        def confirm() -> None:
            services.confirm_access_review(request.user, digest=form.cleaned_data["digest"])

        if submitted(request, form, confirm, "Access review confirmed"):
            return redirect("administration:access_review")
        listing = selectors.access_review()
    return _page(request, "access_review.html", listing=listing, form=form)


def _reset_page(
    request: AuthenticatedRequest,
    user_id: int,
    template: str,
    reset: Any,
    done: str,
    **context: object,
) -> HttpResponse:
    """A reset of another account's secrets, confirmed with a reason; never one's own (another
    administrator must, so no one alone can replace their own factors)."""
    account = _account(user_id)
    own = account.pk == request.user.pk
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and not own and form.is_valid():
        try:
            reset(account, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_form_errors(form, error)
        else:
            messages.success(request, done.format(username=account.username))
            return redirect("administration:account", account.pk)
    return render(
        request, template, {**NAV, "account": account, "form": form, "own": own, **context}
    )


def reset_factors(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """Remove every second factor of another account (they enrol again at sign-in)."""
    return _reset_page(
        request,
        user_id,
        "administration/reset_factors.html",
        services.reset_factors,
        "{username}'s factors were reset: their sessions ended, their tokens were revoked, and "
        "they will set up a new authenticator app at sign-in.",
    )


def reset_password(request: AuthenticatedRequest, user_id: int) -> HttpResponse:
    """Send another account a one-time reset code, to its verified contact methods only."""
    return _reset_page(
        request,
        user_id,
        "administration/reset_password.html",
        services.issue_password_reset,
        "A reset code was sent to {username}'s verified contact methods. It works once and "
        "expires soon.",
        reset_minutes=settings.PASSWORD_RESET_MINUTES,
    )
