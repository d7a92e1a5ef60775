"""Check your answers (GOV.UK pattern) before a form's final submit: the answers a user gave
are kept server-side in the session, sealed by the vault (they may hold protected data, so
never in hidden fields or URLs), shown as a summary list with "Change" links back to the
form, and only the summary page's "Submit" acts on them."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone

from haven.vault import crypto
from haven.vault.keyring import get_keyring, keyring_with

SESSION_ANSWERS = "haven_answers"
CHANGE = "change"  # the query flag that reopens the form with the kept answers
# The request attribute holding a form's values restored after sign-in (accounts.keptforms);
# the ``kept_form`` template tag shows them in the page's unbound forms.
RESTORED = "haven_restored_form"


def _aad(request: HttpRequest, key: str) -> bytes:
    return f"haven-answers:{getattr(request.user, 'pk', '')}:{key}".encode()


def keep_answers(request: HttpRequest, key: str, data: QueryDict) -> None:
    """Keep a valid form's submitted values (without the CSRF token), sealed, under ``key``."""
    values = {name: data.getlist(name) for name in data if name != "csrfmiddlewaretoken"}
    sealed = get_keyring().encrypt(json.dumps(values), _aad(request, key))
    kept = dict(request.session.get(SESSION_ANSWERS) or {})
    kept[key] = sealed
    request.session[SESSION_ANSWERS] = kept


def kept_answers(request: HttpRequest, key: str) -> QueryDict | None:
    """The values kept under ``key`` as form data, or None (none kept, or they cannot be opened:
    another user's, or sealed with a key this service no longer holds)."""
    token = (request.session.get(SESSION_ANSWERS) or {}).get(key)
    if not isinstance(token, str):
        return None
    try:
        text = keyring_with(crypto.key_id_of(token)).decrypt(token, _aad(request, key))
        values = json.loads(text)
    except Exception:  # noqa: BLE001 - unreadable answers are simply not kept
        forget_answers(request, key)
        return None
    data = QueryDict(mutable=True)
    for name, items in values.items():
        data.setlist(name, [str(item) for item in items])
    return data


def forget_answers(request: HttpRequest, key: str) -> None:
    kept = dict(request.session.get(SESSION_ANSWERS) or {})
    if kept.pop(key, None) is not None:
        request.session[SESSION_ANSWERS] = kept


def form_data(request: HttpRequest, key: str) -> QueryDict | None:
    """What a form view binds its form to: the POST, or on GET with ``?change`` the kept
    answers (the form reopened from the summary's "Change" link), else None (a fresh form)."""
    if request.method == "POST":
        return request.POST
    if CHANGE in request.GET:
        return kept_answers(request, key)
    return None


def _posted(form: forms.BaseForm, name: str, data: QueryDict) -> bool:
    html_name = form.add_prefix(name)
    return html_name in data or any(key.startswith(f"{html_name}_") for key in data)


def prefill(form: forms.BaseForm, data: QueryDict) -> bool:
    """Show ``data`` (a form's posted values, kept) in an unbound ``form`` as its initial
    values, so the page shows what had been typed without the form being submitted or
    checked. Only a form that was posted (one of its fields is in ``data``) takes them;
    returns whether it did."""
    if form.is_bound or not any(_posted(form, name, data) for name in form.fields):
        return False
    values = {}
    for name, field in form.fields.items():
        html_name = form.add_prefix(name)
        if field.disabled or field.widget.value_omitted_from_data(data, {}, html_name):
            continue
        values[name] = field.widget.value_from_datadict(data, {}, html_name)
    form.initial = {**form.initial, **values}  # a new dict: the view's may be shared
    # Fields looked at before now would keep their old value.
    form._bound_fields_cache.clear()  # type: ignore[attr-defined]
    return True


def _shown(field: forms.BoundField, value: Any) -> str:
    if value in (None, "", [], ()):
        return "Not given"
    choices = getattr(field.field, "choices", None)
    if choices is not None and not isinstance(field.field, forms.ModelChoiceField):
        labels = {str(option): str(label) for option, label in choices}
        return labels.get(str(value), str(value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%-d %B %Y, %H:%M")
            if timezone.is_aware(value)
            else value.strftime("%-d %B %Y, %H:%M")
        )
    if isinstance(value, date):
        return value.strftime("%-d %B %Y")
    return str(value)


def answer_rows(
    form: forms.Form, change_url: str, omit_blank: bool = False
) -> list[dict[str, str]]:
    """One summary-list row per visible field of a valid form: its label, the answer in plain
    words (choice labels, dates written out), and the "Change" link to that field. With
    ``omit_blank``, optional questions left blank are not listed."""
    rows = []
    for field in form.visible_fields():
        if (
            omit_blank
            and not field.field.required
            and form.cleaned_data.get(field.name)
            in (
                None,
                "",
            )
        ):
            continue
        rows.append(
            {
                "label": str(field.label),
                "value": _shown(field, form.cleaned_data.get(field.name)),
                "change": f"{change_url}#{field.id_for_label or field.auto_id}",
                "name": field.name,
            }
        )
    return rows


def check_answers(
    request: HttpRequest,
    form: forms.Form,
    *,
    title: str,
    change_url: str,
    submit: str,
    back_url: str,
    extra: dict[str, Any] | None = None,
    omit_blank: bool = False,
) -> HttpResponse:
    """The summary page: each answer with a "Change" link back to the form (``change_url``
    carries ``?change`` so the form reopens with the kept answers); "Submit" posts to this page."""
    return render(
        request,
        "ui/check_answers.html",
        {
            "title": title,
            "rows": answer_rows(form, change_url, omit_blank),
            "submit": submit,
            "back_url": back_url,
            "action_url": request.path,
            **(extra or {}),
        },
    )
