"""ASVS 4.0.3 2.1.8: a strength meter beside every new-password field, fed by the same zxcvbn
estimate that refuses a weak password (score below 3) on the web forms and in the API. Without
JavaScript the server still refuses and says why."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from haven.accounts.strength import estimate
from tests.factories import PASSWORD, UserFactory, current_code, force_sign_in, issue_token

from .test_passwords import change, issue_reset, redeem, verified_email

pytestmark = pytest.mark.django_db

# Long enough, not on Django's common list, not numeric: only the strength check refuses it.
GUESSABLE = "Password2024!"
HARDER = "Choose a password that is harder to guess"


def test_the_strength_estimate_ranks_a_guessable_password_below_a_passphrase():
    assert not estimate(GUESSABLE).acceptable
    assert estimate("a different long passphrase 7").acceptable
    # The person's own names count as easy guesses.
    assert estimate("qzvbrtkl2024x").acceptable
    assert not estimate("qzvbrtkl2024x", ["qzvbrtkl"]).acceptable


def test_the_change_form_refuses_a_guessable_password_says_why_and_keeps_the_old_one():
    user = UserFactory()
    web = force_sign_in(Client(), user)
    answer = change(web, user, new_password=GUESSABLE, new_password_again=GUESSABLE)
    assert answer.status_code == 200
    page = answer.content.decode()
    assert HARDER in page and "similar to a commonly used password" in page
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_reset_code_does_not_set_a_guessable_password(django_capture_on_commit_callbacks):
    from haven.accounts.roles import Role

    admin, user = UserFactory(roles=[Role.ADMINISTRATOR]), UserFactory()
    verified_email(user)
    code = issue_reset(admin, user, django_capture_on_commit_callbacks)
    refused = redeem(user.username, code, GUESSABLE)
    assert refused.status_code == 200 and HARDER in refused.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_api_refuses_a_guessable_password_with_a_422_naming_the_field():
    user = UserFactory()
    _, secret = issue_token(user)
    body = {"current_password": PASSWORD, "new_password": GUESSABLE, "code": current_code(user)}
    answer = Client(HTTP_AUTHORIZATION=f"Bearer {secret}").post(
        "/api/account/password", json.dumps(body), content_type="application/json"
    )
    assert answer.status_code == 422
    assert "new_password" in answer.json()["title"] and HARDER in json.dumps(answer.json())
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def meter_of(html: str) -> str:
    found = re.search(r"<div[^>]*data-strength-meter=[^>]*>", html)
    assert found is not None, "no strength meter on the page"
    return found[0]


@pytest.mark.parametrize("signed_in", [True, False])
def test_every_new_password_field_has_a_meter_that_starts_hidden(signed_in):
    if signed_in:
        html = force_sign_in(Client(), UserFactory()).get("/accounts/security/password/")
    else:
        html = Client().get("/accounts/reset-password/")
    page = html.content.decode()
    meter = meter_of(page)
    assert 'data-strength-for="id_new_password"' in meter and " hidden" in meter
    assert 'aria-live="polite"' in meter and 'class="govuk-hint"' in meter
    field = re.search(r'<input[^>]*id="id_new_password"[^>]*>', page)
    assert field is not None and "id_new_password-strength" in field[0]
    assert page.count("data-strength-meter") == 1  # not on "again" or the current password
    assert re.search(r'<script type="module" src="/static/haven/strength[^"]*\.mjs"', page)


def test_the_meter_answers_from_the_same_estimate_signed_in_or_out():
    url = "/accounts/password-strength/"
    weak = Client().post(url, {"password": GUESSABLE}).json()
    assert weak["score"] < 3 and weak["hint"].startswith("Password strength: weak.")
    assert "commonly used" in weak["hint"]
    strong = force_sign_in(Client(), UserFactory()).post(url, {"password": PASSWORD}).json()
    assert strong == {"score": 4, "hint": "Password strength: strong."}
    named = Client().post(url, {"password": "fionaexample77", "username": "fionaexample"}).json()
    assert named["score"] < 3  # the user name typed on the reset form counts as a guess


def test_the_meter_takes_only_a_post_with_the_csrf_token():
    url = "/accounts/password-strength/"
    assert Client().get(url, {"password": PASSWORD}).status_code == 405
    assert Client(enforce_csrf_checks=True).post(url, {"password": PASSWORD}).status_code == 403


def test_the_meter_script_is_in_the_static_bundle_and_posts_no_password_in_a_url():
    from pathlib import Path

    import haven.web

    script = (Path(haven.web.__file__).parent / "static/haven/strength.mjs").read_text()
    assert 'method: "POST"' in script and "data-strength-meter" in script
    assert "?password" not in script and "localStorage" not in script
