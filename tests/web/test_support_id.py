"""ASVS 4.0.3 7.4.1: error pages and API problems say only that something went wrong, with a
short random support id; the server's log line for that error carries the same id (and, for a
server error, the traceback), so support can find it."""

from __future__ import annotations

import logging
import re
from unittest import mock

import pytest
from django.test import Client

from haven.accounts.roles import Role
from tests.factories import UserFactory, force_sign_in, issue_token

pytestmark = pytest.mark.django_db

SUPPORT_ID = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")
SECRET = "secret detail of the failure"


def shown_id(html: str) -> str:
    found = re.search(r'<strong class="haven-support-id">([^<]+)</strong>', html)
    assert found is not None, "no support id on the page"
    assert SUPPORT_ID.fullmatch(found[1])
    return found[1]


def logged(caplog: pytest.LogCaptureFixture, support_id: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "haven.errors" and support_id in r.getMessage()]


def test_a_server_error_page_shows_a_support_id_that_its_log_line_carries(caplog):
    web = force_sign_in(Client(raise_request_exception=False), UserFactory())
    with mock.patch("haven.web.views.awaiting_you", side_effect=RuntimeError(SECRET)):
        answer = web.get("/")
    page = answer.content.decode()
    assert answer.status_code == 500
    assert SECRET not in page and "Traceback" not in page
    [line] = logged(caplog, shown_id(page))
    assert line.levelno == logging.ERROR and "GET / answered 500" in line.getMessage()
    assert line.exc_info is not None and SECRET in str(line.exc_info[1])


def test_a_not_found_page_shows_a_support_id_logged_once(caplog):
    web = force_sign_in(Client(), UserFactory(roles=[Role.PROTECTION_OFFICER]))
    first = shown_id(web.get("/no/such/page/").content.decode())
    second = shown_id(web.get("/no/such/page/").content.decode())
    assert first != second  # random per error, not derived from the request
    [line] = logged(caplog, first)
    assert line.levelno == logging.WARNING and "answered 404" in line.getMessage()
    assert not line.exc_info


def test_an_api_server_error_is_a_problem_with_a_support_id_in_its_log_line(caplog):
    user = UserFactory()
    _, secret = issue_token(user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", raise_request_exception=False)
    with mock.patch.object(type(user), "get_full_name", side_effect=RuntimeError(SECRET)):
        answer = api.get("/api/me")
    assert answer.status_code == 500
    assert answer["Content-Type"].startswith("application/problem+json")
    body = answer.json()
    assert SECRET not in answer.content.decode()
    assert SUPPORT_ID.fullmatch(body["support_id"])
    [line] = logged(caplog, body["support_id"])
    assert line.exc_info is not None and SECRET in str(line.exc_info[1])


def test_an_api_refusal_carries_a_support_id_and_nothing_else_changes():
    _, secret = issue_token(UserFactory(roles=[Role.PROTECTION_OFFICER]))
    api = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_X_HAVEN_PURPOSE="case_management")
    body = api.get("/api/cases/00000000-0000-0000-0000-000000000000").json()
    assert body["status"] == 404 and SUPPORT_ID.fullmatch(body["support_id"])
    assert set(body) == {"type", "title", "status", "support_id"}
