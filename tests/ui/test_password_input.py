"""ASVS 2.1.12: every password field is a GOV.UK password input. Without JS it is a plain
password field (the Show button is hidden until govuk-frontend starts the component); the
browser test tests/e2e/test_sign_in.py shows the button revealing and hiding the text."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.factories import UserFactory, force_sign_in

pytestmark = pytest.mark.django_db


def password_inputs(html: str) -> list[str]:
    return re.findall(r'<input[^>]*type="password"[^>]*>', html)


def test_the_sign_in_password_is_a_govuk_password_input_that_works_without_js():
    html = Client().get("/accounts/login/").content.decode()
    [field] = password_inputs(html)
    assert 'autocomplete="current-password"' in field and 'spellcheck="false"' in field
    assert 'data-module="govuk-password-input"' in html
    toggle = re.search(r"<button[^>]*govuk-js-password-input-toggle[^>]*>", html)
    assert toggle is not None and " hidden" in toggle[0]
    assert 'aria-controls="id_password"' in toggle[0]


def test_new_password_fields_ask_for_a_new_password():
    user = UserFactory()
    html = force_sign_in(Client(), user).get("/accounts/security/password/").content.decode()
    fields = password_inputs(html)
    assert len(fields) == 3
    assert sum('autocomplete="new-password"' in f for f in fields) == 2
    assert html.count("govuk-js-password-input-toggle") == 3
