"""The inbox, the header badge and the contact-methods page (each person's own only)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from haven.accounts.middleware import passive_poll
from haven.accounts.roles import Role
from haven.accounts.types import AuthenticatedRequest
from haven.ui.helpers import add_form_errors, flash_outcome, query_without_page

from . import selectors, services
from .forms import CodeForm, ContactForm, InboxFilterForm


@require_GET
def inbox(request: AuthenticatedRequest) -> HttpResponse:
    form = InboxFilterForm(request.GET or None)
    show, category = "unread", ""
    if form.is_valid():
        show = form.cleaned_data["show"] or "unread"
        category = form.cleaned_data["category"]
    items = selectors.inbox(request.user, unread_only=show == "unread", category=category)
    page = Paginator(items, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"form": form, "page": page, "show": show, "query": query_without_page(request)},
    )


@passive_poll
@require_GET
def badge(request: AuthenticatedRequest) -> HttpResponse:
    """The header's unread count, polled by htmx into its aria-live region."""
    return render(request, "notifications/badge.html")


@require_POST
def mark_read(request: AuthenticatedRequest, notification_id: UUID) -> HttpResponse:
    notification = services.mark_read(request.user, notification_id)
    if request.POST.get("open") and _safe(request, notification.link):
        return redirect(notification.link)
    return redirect("notifications:inbox")


@require_POST
def mark_all_read(request: AuthenticatedRequest) -> HttpResponse:
    count = services.mark_all_read(request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("notifications:inbox")


def _safe(request: AuthenticatedRequest, link: str) -> bool:
    return bool(link) and url_has_allowed_host_and_scheme(link, allowed_hosts=None)


# ------------------------------------------------------------------------ contact methods


def contacts(request: AuthenticatedRequest) -> HttpResponse:
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_contact(
                request.user,
                form.cleaned_data["channel"],
                form.cleaned_data["address"],
                form.cleaned_data["secret"],
            )
        except ValidationError as error:
            add_form_errors(form, error)
        except PermissionDenied as error:
            form.add_error("channel", str(error))
        else:
            messages.success(request, "Added. Enter the code we sent to start using it.")
            return redirect("contacts:list")
    return render(
        request,
        "notifications/contacts.html",
        {
            "form": form,
            "contacts": selectors.contact_methods(request.user),
            "code_form": CodeForm(),
            "may_add_webhook": request.user.has_role(Role.ADMINISTRATOR),
        },
    )


@require_POST
def verify(request: AuthenticatedRequest, contact_id: UUID) -> HttpResponse:
    selectors.own_contact(request.user, contact_id)  # another's answers 404 before anything
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            services.verify_contact(request.user, contact_id, form.cleaned_data["code"])
        except ValidationError:
            messages.error(request, "The code is wrong or has expired.")
        else:
            messages.success(request, "Verified: alerts will be announced there.")
    else:
        messages.error(request, "Enter the 6-digit code.")
    return redirect("contacts:list")


@require_POST
def resend(request: AuthenticatedRequest, contact_id: UUID) -> HttpResponse:
    flash_outcome(
        request,
        lambda: services.resend_code(request.user, contact_id),
        "A new code is on its way; the old one no longer works.",
    )
    return redirect("contacts:list")


@require_POST
def remove(request: AuthenticatedRequest, contact_id: UUID) -> HttpResponse:
    services.remove_contact(request.user, contact_id)
    messages.success(request, "Removed.")
    return redirect("contacts:list")
