"""No lost work on expiry (GOV.UK "timeout" pattern): a form posted by a session that has just
expired (idle timeout or absolute lifetime) is kept server-side, sealed by the vault and bound
to the account that was signed in (services.keep_form), and the sign-in link carries only a
random handle. Once the same account has signed in again (password and second factor), it is
sent back to the page, whose form shows what had been typed, with a banner; nothing is
submitted for it. Files, passwords, codes and the CSRF token are never kept.

The three steps: ``keep_posted`` (the session guard, on the expired post), ``restore_after_sign_in``
(the last step of signing in: claims the kept form and seals it into the new session, as check
your answers does), ``take_restored`` (the guard, on the page's next GET: the form is filled by
the ``kept_form`` template tag from ``request.haven_restored_form``)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from django.contrib import messages
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from haven.ui import answers

from . import services
from .models import User

# The sign-in link's query parameter naming the kept form.
PARAM = "kept"
# In the session between the password and the second factor: the handle from the sign-in link.
PENDING = "haven_kept_form_handle"
# In the signed-in session until the page is shown: {"page": ..., "until": epoch seconds}.
RESTORE = "haven_kept_form_page"
ANSWERS_KEY = "signed-out"  # the kept fields, sealed in the session by haven.ui.answers
BANNER = "You were signed out. We kept what you entered: check it and submit again."

HANDLE = re.compile(r"[A-Za-z0-9_-]{43}")
# Field names whose values are never kept: passwords, codes (security, recovery, reset),
# tokens and secrets, the CSRF token.
SECRET_WORDS = frozenset({"code", "codes", "otp", "totp", "token", "secret", "pin"})
MAX_FIELDS = 200
MAX_CHARACTERS = 64 * 1024


def valid_handle(value: str) -> str:
    """The handle if it has a handle's shape, else ""."""
    return value if HANDLE.fullmatch(value or "") else ""


def is_secret(name: str) -> bool:
    lowered = name.lower()
    if "password" in lowered or "csrf" in lowered:
        return True
    return any(word in SECRET_WORDS for word in re.split(r"[^a-z0-9]+", lowered))


def keepable_fields(data: QueryDict) -> dict[str, list[str]]:
    """The posted fields worth keeping: every one but the secret ones (uploaded files are
    not in ``request.POST`` at all); none if nothing was typed or chosen."""
    kept = {
        name: [str(value) for value in data.getlist(name)] for name in data if not is_secret(name)
    }
    typed = any(value.strip() for values in kept.values() for value in values)
    return kept if typed else {}


def page_of(request: HttpRequest) -> str:
    """The page the form was filled in on: the referring page of this site (a form on one page
    may post to another address), else the address posted to."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc == request.get_host() and referer.path:
        page = referer.path + (f"?{referer.query}" if referer.query else "")
    else:
        page = request.get_full_path()
    return page if is_local_page(page, request) else "/"


def is_local_page(page: str, request: HttpRequest) -> bool:
    return (
        page.startswith("/")
        and not page.startswith("//")
        and url_has_allowed_host_and_scheme(page, allowed_hosts={request.get_host()})
    )


def keep_posted(request: HttpRequest, account: User | None) -> str | None:
    """On a post whose session has expired: keep its fields for ``account`` (the one that was
    signed in) and return the handle, or None (nothing to keep, or not a page's form)."""
    if request.method != "POST" or account is None or not account.is_active:
        return None
    if request.path.startswith(("/accounts/", "/api/")):
        return None  # signing in and account security: nothing there to restore
    fields = keepable_fields(request.POST)
    if not fields or len(fields) > MAX_FIELDS:
        return None
    if len(json.dumps(fields)) > MAX_CHARACTERS:
        return None
    return services.keep_form(account, services.KeptPage(page=page_of(request), fields=fields))


def restore_after_sign_in(request: HttpRequest, user: User, handle: str) -> str | None:
    """Just signed in as ``user``: claim the form named by ``handle`` (if it is theirs and
    still kept), seal it into the new session, and return the page to go back to."""
    kept = services.restore_kept_form(user, handle) if valid_handle(handle) else None
    if kept is None or not is_local_page(kept.page, request):
        return None
    data = QueryDict(mutable=True)
    for name, values in kept.fields.items():
        data.setlist(name, values)
    answers.keep_answers(request, ANSWERS_KEY, data)
    until = int(timezone.now().timestamp()) + services.KEPT_FORM_MINUTES * 60
    request.session[RESTORE] = {"page": kept.page, "until": until}
    return kept.page


def take_restored(request: HttpRequest) -> None:
    """On a signed-in GET: if it is the page a form was restored for, hand the kept fields to
    the page (``request.haven_restored_form``, read by the ``kept_form`` tag), say so in a
    banner, and delete them from the session. Past their time they are deleted unseen."""
    pending = request.session.get(RESTORE)
    if not isinstance(pending, dict):
        return
    expired = int(pending.get("until") or 0) < timezone.now().timestamp()
    if not expired and urlsplit(str(pending.get("page", ""))).path != request.path:
        return
    data = None if expired else answers.kept_answers(request, ANSWERS_KEY)
    answers.forget_answers(request, ANSWERS_KEY)
    request.session.pop(RESTORE, None)
    if data:
        setattr(request, answers.RESTORED, data)
        messages.info(request, BANNER)
