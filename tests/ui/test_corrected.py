"""ui.helpers.corrected: the one way a page hands a correction, ending or retirement (the
version read and a reason) to its service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.test import RequestFactory

from haven.concurrency.locking import ConflictError
from haven.ui.helpers import corrected


class RetireForm(forms.Form):
    version = forms.IntegerField()
    reason = forms.CharField()


def _request(method: str, data: dict[str, str] | None = None) -> HttpRequest:
    factory = RequestFactory()
    request = factory.post("/", data or {}) if method == "POST" else factory.get("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    return request


def test_a_valid_post_hands_every_field_to_the_service_by_name() -> None:
    calls: list[dict[str, Any]] = []
    request = _request("POST", {"version": "3", "reason": "entered in error"})
    form = RetireForm(request.POST)
    assert corrected(request, form, lambda **kw: calls.append(kw), "Retired.")
    assert calls == [{"version": 3, "reason": "entered in error"}]
    assert [str(m) for m in get_messages(request)] == ["Retired."]


def test_a_get_or_an_invalid_form_calls_nothing() -> None:
    def refuse(**_: Any) -> None:
        raise AssertionError("the service must not be called")

    assert not corrected(_request("GET"), RetireForm(), refuse, "Retired.")
    request = _request("POST", {"version": "not a number"})
    assert not corrected(request, RetireForm(request.POST), refuse, "Retired.")


def test_a_stale_version_or_a_refusal_is_shown_on_the_form() -> None:
    def stale(**_: Any) -> None:
        raise ConflictError("This entry was changed by someone else. Reload it and try again.")

    def refused(**_: Any) -> None:
        raise ValidationError({"reason": "Say why"})

    request = _request("POST", {"version": "1", "reason": "old"})
    form = RetireForm(request.POST)
    assert not corrected(request, form, stale, "Retired.")
    assert "changed by someone else" in str(form.non_field_errors())
    form = RetireForm(request.POST)
    assert not corrected(request, form, refused, "Retired.")
    assert form.errors["reason"] == ["Say why"]
    assert list(get_messages(request)) == []
