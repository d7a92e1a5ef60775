from __future__ import annotations

import pytest

from haven.accounts.roles import Role

pytestmark = pytest.mark.django_db


def test_home_shows_name_roles_clearance_and_classification(signed_in):
    client = signed_in(Role.PROTECTION_OFFICER)
    body = client.get("/").content.decode()
    assert 'data-testid="user-roles">Protection officer<' in body
    assert 'data-testid="user-clearance">SECRET<' in body
    assert body.count('data-testid="classification"') == 2


def test_security_headers_on_every_page(client):
    response = client.get("/accounts/login/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_no_inline_script_in_pages(signed_in):
    body = signed_in(Role.PROTECTION_OFFICER).get("/").content.decode()
    assert "<script>" not in body
    assert all("src=" in tag for tag in body.split("<script")[1:])


def test_hsts_and_secure_cookies_when_served_over_tls(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


def test_authenticated_pages_are_not_cached(signed_in):
    assert signed_in(Role.PROTECTION_OFFICER).get("/")["Cache-Control"] == "no-store"


def test_forms_carry_csrf_tokens(client):
    assert "csrfmiddlewaretoken" in client.get("/accounts/login/").content.decode()


def test_csrf_is_enforced(make_user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("role", "allowed", "refused"),
    [
        (Role.PROTECTION_OFFICER, "/purpose/", "/oversight/"),
        (Role.TECHNICAL_OFFICER, "/operations/", "/purpose/"),
        (Role.OVERSIGHT_OFFICER, "/oversight/", "/purpose/"),
        (Role.AUDITOR, "/audit/ledger/", "/administration/"),
        (Role.ADMINISTRATOR, "/administration/", "/purpose/"),
    ],
)
def test_modules_follow_roles(signed_in, role, allowed, refused):
    client = signed_in(role)
    assert client.get(allowed).status_code == 200
    assert client.get(refused).status_code == 404


@pytest.mark.parametrize("path", ["/purpose/", "/operations/", "/oversight/", "/audit/ledger/"])
def test_administrator_cannot_open_casework(signed_in, path):
    assert signed_in(Role.ADMINISTRATOR).get(path).status_code == 404


def test_error_pages_leak_nothing(signed_in):
    response = signed_in(Role.PROTECTION_OFFICER).get("/no/such/page/")
    body = response.content.decode()
    assert response.status_code == 404
    assert "Page not found" in body and "Traceback" not in body and "/no/such/page/" not in body


def test_administrator_unlocks_a_locked_account(signed_in, make_user):
    from django.utils import timezone

    locked = make_user(Role.PROTECTION_OFFICER)
    locked.locked_until = timezone.now() + timezone.timedelta(minutes=10)
    locked.save()
    admin = signed_in(Role.ADMINISTRATOR)
    assert "Locked" in admin.get("/administration/").content.decode()
    admin.post(f"/administration/users/{locked.pk}/unlock/")
    locked.refresh_from_db()
    assert not locked.is_locked()


def test_non_administrator_cannot_unlock(signed_in, make_user):
    target = make_user(Role.PROTECTION_OFFICER)
    response = signed_in(Role.PROTECTION_MANAGER).post(f"/administration/users/{target.pk}/unlock/")
    assert response.status_code == 404


def test_healthz_is_public(client):
    # 200 or 503 depends on heartbeats (tests/runtime/test_health.py); never a sign-in redirect.
    assert client.get("/healthz").json()["status"] in {"ok", "degraded"}


def test_settings_refuse_debug_off_with_the_development_secret():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env["DJANGO_SETTINGS_MODULE"] = "haven.settings"
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"], env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "HAVEN_SECRET_KEY is not set" in result.stderr


def test_haven_cli_prints_one_line_for_bad_configuration():
    import os
    import shutil
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    haven = shutil.which("haven") or os.path.join(
        os.path.dirname(__import__("sys").executable), "haven"
    )
    result = subprocess.run([haven, "check"], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    expected = "haven: HAVEN_SECRET_KEY is not set: refusing to run with DEBUG off"
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(expected)


def test_server_error_page_leaks_nothing(rf):
    from haven.web.views import error_500

    response = error_500(rf.get("/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in body and "Traceback" not in body


@pytest.mark.django_db
def test_a_form_body_over_the_limit_is_a_413_page_and_nothing_happens(client, settings, make_user):
    """Django answers RequestDataTooBig with 400; Haven says 413 (issue 18 item 9)."""
    from haven.accounts.models import User

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    user = make_user(Role.PROTECTION_OFFICER)
    response = client.post("/accounts/login/", {"username": user.username, "password": "x" * 4096})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "too large" in response.content.decode()
    assert User.objects.get(pk=user.pk).failed_logins == 0


def test_a_small_bad_request_is_still_a_400_page(rf):
    from django.core.exceptions import SuspiciousOperation

    from haven.web.views import error_400

    response = error_400(rf.get("/cases/"), SuspiciousOperation("bad"))
    assert response.status_code == 400


def test_an_api_body_over_the_limit_seen_outside_ninja_is_a_413_problem(rf):
    """When a middleware reads an API body first, Django's handler still answers problem+json."""
    from django.core.exceptions import RequestDataTooBig

    from haven.web.views import error_400

    response = error_400(rf.post("/api/cases"), RequestDataTooBig("too big"))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
