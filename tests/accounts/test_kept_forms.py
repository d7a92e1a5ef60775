"""No lost work on expiry (issue 20, item 6): a form posted by an expired session is kept,
sealed and bound to the account that was signed in; after that account signs in again it is
back on the page with the form filled in and a banner, and nothing was submitted for it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import QueryDict
from django.test import Client, override_settings
from django.utils import timezone

from haven.accounts import keptforms, services
from haven.accounts.models import KeptForm, User
from haven.accounts.roles import Role
from haven.accounts.tasks import clear_expired_kept_forms
from haven.audit.models import LedgerEntry
from haven.cases.forms import ReferralForm
from haven.cases.models import Case
from haven.ui.answers import prefill
from tests.factories import PASSWORD, UserFactory, current_code, force_sign_in

pytestmark = pytest.mark.django_db

PAGE = "/cases/referrals/new/"
BANNER = "You were signed out. We kept what you entered: check it and submit again."
REFERRAL = {
    "subject_name": "Wilhelmina Keptform",
    "subject_dob_day": "17",
    "subject_dob_month": "5",
    "subject_dob_year": "1991",
    "referring_organisation": "Midshire Police",
    "referring_officer": "DC Example",
    "threat_summary": "Threats from the defendant's associates",
    "urgency": "urgent",
    "received_at": "2026-01-05T10:00",
    "classification": "2",
}


@pytest.fixture
def officer() -> User:
    return UserFactory(roles=[Role.PROTECTION_OFFICER])


@pytest.fixture
def client(officer: User) -> Client:
    """The officer, signed in, on the referral form."""
    return signed_in_on_the_form(officer)


@pytest.fixture
def later(client: Client) -> Iterator[object]:
    """Twenty minutes after the form was opened: the session has passed its idle timeout and
    its row has expired (the test runs on in this moment)."""
    moment = timezone.now() + timedelta(seconds=settings.SESSION_IDLE_SECONDS + 5 * 60)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield moment


def signed_in_on_the_form(user: User) -> Client:
    client = force_sign_in(Client(), user)
    assert client.get(PAGE).status_code == 200
    return client


def post_expired(client: Client, data: dict[str, object] | None = None) -> str:
    """Post the filled referral from the page (as a browser does: Referer set); the sign-in
    link it is sent to."""
    response = client.post(PAGE, data or REFERRAL, HTTP_REFERER=f"http://testserver{PAGE}")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    return str(response["Location"])


def handle_of(location: str) -> str:
    [handle] = parse_qs(urlsplit(location).query)[keptforms.PARAM]
    return handle


def sign_in_from(client: Client, location: str, user: User) -> str:
    """The real two steps (password, then code) from the sign-in link; where they lead."""
    page = client.get(location)
    assert page.status_code == 200
    response = client.post(location, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    response = client.post("/accounts/verify/", {"code": current_code(user)})
    assert response.status_code == 302
    return str(response["Location"])


def events(name: str) -> list[LedgerEntry]:
    return [e for e in LedgerEntry.objects.all() if e.details.get("event") == name]


def test_an_idle_session_keeps_the_referral_and_gives_it_back_after_sign_in(officer, client, later):
    location = post_expired(client)
    # Only an opaque handle leaves the server: nothing typed is in the link or a cookie.
    assert set(parse_qs(urlsplit(location).query)) == {"next", keptforms.PARAM}
    assert len(handle_of(location)) == 43
    leaked = location + " ".join(str(c.value) for c in client.cookies.values())
    assert not any(str(value) in leaked for value in REFERRAL.values() if len(str(value)) > 3)
    kept = KeptForm.objects.get()
    assert kept.user == officer and kept.expires_at == later + timedelta(minutes=30)
    with connection.cursor() as cursor:  # sealed at rest, the handle only as a keyed hash
        cursor.execute("SELECT sealed, handle_digest FROM accounts_keptform")
        sealed, digest = cursor.fetchone()
    assert sealed.startswith("hv1.") and "Keptform" not in sealed
    assert handle_of(location) not in digest
    assert events("form_kept_on_expiry")

    signin_page = client.get(location).content.decode()
    assert 'data-testid="kept-form-note"' in signin_page
    assert "signed out after 15 minutes" in signin_page
    assert sign_in_from(client, location, officer) == PAGE
    assert not KeptForm.objects.exists()  # deleted once restored
    [restored] = events("kept_form_restored")
    assert restored.actor_id == officer.pk

    page = client.get(PAGE).content.decode()
    assert BANNER in page
    assert (
        'value="Wilhelmina Keptform"' in page and "defendant&#x27;s associates</textarea>" in page
    )
    assert 'name="subject_dob_year" type="text" inputmode="numeric" value="1991"' in page
    assert 'value="urgent" checked' in page
    assert "govuk-error-summary" not in page  # shown to check, not submitted
    assert not Case.objects.exists()  # nothing submitted on their behalf
    again = client.get(PAGE).content.decode()
    assert BANNER not in again and "Wilhelmina Keptform" not in again  # once only


def test_another_account_signing_in_gets_nothing(officer, client, later):
    location = post_expired(client)
    other = UserFactory(roles=[Role.PROTECTION_OFFICER])
    elsewhere = Client()
    assert sign_in_from(elsewhere, location, other) == "/"
    page = elsewhere.get(PAGE).content.decode()
    assert "Wilhelmina Keptform" not in page and BANNER not in page
    assert not events("kept_form_restored")
    assert KeptForm.objects.get().user == officer  # still the officer's, for its short time
    # ... who still gets it back.
    back = Client()
    assert sign_in_from(back, location, officer) == PAGE
    assert "Wilhelmina Keptform" in back.get(PAGE).content.decode()


def test_a_kept_form_past_its_time_is_deleted_and_gives_nothing(officer, client, later):
    location = post_expired(client)
    after = later + timedelta(minutes=services.KEPT_FORM_MINUTES, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=after):
        assert clear_expired_kept_forms.call() == 1
        assert not KeptForm.objects.exists()
        back = Client()
        assert sign_in_from(back, location, officer) == "/"
        assert "Wilhelmina Keptform" not in back.get(PAGE).content.decode()


def test_signing_in_after_the_time_deletes_it_without_the_periodic_job(officer, client, later):
    location = post_expired(client)
    after = later + timedelta(minutes=services.KEPT_FORM_MINUTES, seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=after):
        assert sign_in_from(Client(), location, officer) == "/"
    assert not KeptForm.objects.exists() and not events("kept_form_restored")


@override_settings(SESSION_ABSOLUTE_SECONDS=3600)
def test_the_absolute_lifetime_keeps_the_form_too(officer, client):
    start = timezone.now()
    for minutes in (14, 28, 42, 56):
        with mock.patch(
            "django.utils.timezone.now", return_value=start + timedelta(minutes=minutes)
        ):
            assert client.get("/").status_code == 200
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(minutes=61)):
        location = post_expired(client)
        assert "signed in more than 1 hours ago" in client.get(location).content.decode()
    assert KeptForm.objects.get().user == officer
    assert sign_in_from(client, location, officer) == PAGE
    assert "Wilhelmina Keptform" in client.get(PAGE).content.decode()


def test_a_session_ended_on_purpose_keeps_nothing(officer, client):
    User.objects.filter(pk=officer.pk).update(session_epoch=officer.session_epoch + 1)
    location = post_expired(client)
    assert keptforms.PARAM not in location and not KeptForm.objects.exists()


def test_a_visitor_without_a_session_keeps_nothing(officer):
    location = post_expired(Client())
    assert keptforms.PARAM not in location and not KeptForm.objects.exists()


@pytest.fixture
def strict(officer: User) -> Client:
    """The officer on the form in a client that checks CSRF tokens as a browser's server does."""
    strict = force_sign_in(Client(enforce_csrf_checks=True), officer)
    assert strict.get(PAGE).status_code == 200
    return strict


def test_a_post_refused_by_the_csrf_check_keeps_nothing(strict, later):
    response = strict.post(PAGE, {**REFERRAL, "csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 403 and not KeptForm.objects.exists()


def test_with_the_csrf_token_the_post_is_kept_without_it(strict, later):
    token = strict.cookies[settings.CSRF_COOKIE_NAME].value
    response = strict.post(PAGE, {**REFERRAL, "csrfmiddlewaretoken": token})
    assert keptforms.PARAM in parse_qs(urlsplit(response["Location"]).query)
    assert set(KeptForm.objects.get().sealed["fields"]) == set(REFERRAL)


def test_passwords_codes_tokens_and_files_are_never_kept(client, later):
    post_expired(
        client,
        {
            **REFERRAL,
            "password": "correct horse",
            "new_password": "battery staple",
            "code": "123456",
            "recovery_code": "ABCD-EFGH",
            "api_token": "secret",
            "postcode": "AB1 2CD",
            "attachment": SimpleUploadedFile("note.txt", b"file body"),
        },
    )
    fields = KeptForm.objects.get().sealed["fields"]
    assert set(fields) == {*REFERRAL, "postcode"}


def test_an_empty_form_or_an_account_page_keeps_nothing(client, later):
    assert keptforms.PARAM not in post_expired(client, {"subject_name": "  "})
    response = client.post("/accounts/profile/", {"name": "A token"})
    assert response.status_code == 302 and not KeptForm.objects.exists()


def test_a_handle_that_is_not_one_is_ignored(officer):
    client = Client()
    location = f"/accounts/login/?{keptforms.PARAM}=../../etc"
    assert 'data-testid="kept-form-note"' not in client.get(location).content.decode()
    assert sign_in_from(client, location, officer) == "/"


def test_the_page_is_the_one_the_form_was_on_and_only_ever_local(rf):
    request = rf.post("/cases/1/notes/", HTTP_REFERER="http://testserver/cases/1/?tab=notes")
    assert keptforms.page_of(request) == "/cases/1/?tab=notes"
    elsewhere = rf.post("/cases/1/notes/", HTTP_REFERER="https://evil.example/cases/")
    assert keptforms.page_of(elsewhere) == "/cases/1/notes/"
    assert keptforms.page_of(rf.post("/cases/1/notes/")) == "/cases/1/notes/"


def test_a_form_is_filled_only_when_unbound_and_posted(officer):
    data = QueryDict(mutable=True)
    data.update(REFERRAL)
    unbound = ReferralForm(initial={"received_at": "2027-01-01T09:00"})
    assert prefill(unbound, data)
    assert unbound["subject_name"].value() == "Wilhelmina Keptform"
    assert unbound["received_at"].value() == "2026-01-05T10:00"
    assert unbound["subject_dob"].value() == "1991-5-17"
    assert not unbound.is_bound
    bound = ReferralForm({"subject_name": "Typed now"})
    assert not prefill(bound, data) and bound["subject_name"].value() == "Typed now"
    other = ReferralForm(prefix="other")
    assert not prefill(other, data) and other["subject_name"].value() is None


def test_secret_names(db):
    secret = ("password", "new_password", "code", "recovery_code", "api-token", "csrftoken")
    for name in secret:
        assert keptforms.is_secret(name), name
    for name in ("postcode", "subject_name", "threat_summary", "encoded"):
        assert not keptforms.is_secret(name), name
