"""Small helpers every domain's views share: the session's purpose of access, the page's
classification banner, service refusals shown on a form, and pagination links."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from haven.access.purposes import parse_purpose
from haven.concurrency.locking import ConflictError

T = TypeVar("T")
F = TypeVar("F")

SESSION_PURPOSE = "haven_purpose"


def session_purpose(request: HttpRequest) -> str | None:
    return parse_purpose(request.session.get(SESSION_PURPOSE))


def ask_purpose(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse('cases:purpose')}?next={request.get_full_path()}")


def attachment(content: bytes | str, filename: str, content_type: str) -> HttpResponse:
    """A download: the browser saves ``content`` as ``filename`` instead of showing it."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def safe_filename(name: str) -> str:
    """An uploaded file's own name cut to the characters a Content-Disposition header carries
    as they are (no quotes, separators or control characters)."""
    return "".join(c for c in name if c.isalnum() or c in "._- ") or "document"


def search_answers(*search_forms: Any) -> dict[str, Any]:
    """The filled-in answers of a list's search forms (None: a form not on this request),
    merged; none at all when a sent form is invalid, so a bad filter lists everything rather
    than a guess (the form shows its errors)."""
    answers: dict[str, Any] = {}
    for form in search_forms:
        if form is None or not form.is_bound:
            continue
        if not form.is_valid():
            return {}
        answers |= {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    return answers


def marking_context(marking: str) -> dict[str, str]:
    css = "top-secret" if marking.startswith("TOP") else marking.split()[0].lower()
    return {"classification": marking, "classification_css": css}


def add_form_errors(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def submitted(
    request: HttpRequest,
    form: Any,
    action: Callable[[], Any],
    success: str | Callable[[Any], str] | None = None,
    shown: tuple[type[Exception], ...] = (),
) -> bool:
    """On a POST of a valid form, run its service call. True once it has succeeded, with
    ``success`` (a message, or one made from what the service returned) flashed; False on a GET
    or an invalid form, and when the service refused, with the refusal shown on the form: a
    ValidationError against its fields, one of ``shown`` (such as ConflictError) as a non-field
    error, so that the view shows the form again."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        result = action()
    except shown as problem:
        form.add_error(None, str(problem))
        return False
    except ValidationError as error:
        add_form_errors(form, error)
        return False
    if success is not None:
        messages.success(request, success if isinstance(success, str) else success(result))
    return True


def created(
    request: HttpRequest,
    form: Any,
    create: Callable[[], T],
    success: str | Callable[[T], str] | None = None,
) -> T | None:
    """For a page that makes a record: on a POST of a valid form, run the service call `create`
    and return what it made (with `success` flashed, as `submitted` does); None on a GET, an
    invalid form or a refusal shown on the form, so that the view shows the form again."""
    made: list[T] = []

    def make() -> T:
        made.append(create())
        return made[0]

    return made[0] if submitted(request, form, make, success) else None


def corrected(
    request: HttpRequest,
    form: Any,
    change: Callable[..., Any],
    success: str | Callable[[Any], str],
    shown: tuple[type[Exception], ...] = (ConflictError,),
) -> bool:
    """For a page that corrects, ends or retires a record with the version read and a reason:
    on a POST of a valid form, call ``change`` with the form's fields as its keywords (the
    service takes ``version`` and ``reason`` by name) and flash ``success``. True once it
    succeeded; False on a GET, an invalid form or a refusal (a stale version is shown on the
    form as ``submitted`` shows it), so that the view shows the form again."""
    return submitted(request, form, lambda: change(**form.cleaned_data), success, shown)


def flash_outcome(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    """Run a button's service call, where there is no form to show a refusal on: the refusal
    (a ValidationError) is flashed as an error, else `success`. True once it succeeded."""
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return False
    messages.success(request, success)
    return True


def action_forms(
    request: HttpRequest, form_classes: Mapping[str, Callable[..., F]], **kwargs: Any
) -> tuple[str, dict[str, F], F | None]:
    """The forms of a page offering several actions, each form posted with its `action` name
    and prefixed with it: the one posted is bound, the others blank. Returns the action posted
    ("" on a GET), every form by action, and the posted one (None on a GET or an unknown
    action)."""
    action = request.POST.get("action", "") if request.method == "POST" else ""
    forms = {
        name: form_class(request.POST if action == name else None, prefix=name, **kwargs)
        for name, form_class in form_classes.items()
    }
    return action, forms, forms.get(action)


def query_without_page(request: HttpRequest) -> str:
    """The current filters, for the pagination links to carry (without the page number or
    the keyset cursor `after`)."""
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("after", None)
    return query.urlencode()


def confirmed(request: HttpRequest) -> bool:
    """Whether a final or destructive action's POST comes from its confirmation page."""
    return request.POST.get("confirmed") == "yes"


def confirmation(
    request: HttpRequest,
    *,
    question: str,
    yes: str,
    back_url: str,
    hidden: dict[str, str],
    details: list[tuple[str, str]] | None = None,
    warning: str = "You cannot undo this.",
    marking: str | None = None,
) -> HttpResponse:
    """The GOV.UK confirmation page shown before a final or destructive action: it posts the
    same fields back to the same address with `confirmed=yes`; Cancel returns unchanged.
    `marking`: the classification of what the page shows (the banner), where it has one."""
    return render(
        request,
        "ui/confirm.html",
        {
            "question": question,
            "yes": yes,
            "back_url": back_url,
            "hidden": list(hidden.items()),
            "details": details or [],
            "warning": warning,
            "action_url": request.path,
            **(marking_context(marking) if marking else {}),
        },
    )
