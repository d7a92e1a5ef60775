"""ASVS 4.3.2: no directory listing and no metadata or configuration file is served, signed in
or not (static files come only through WhiteNoise / staticfiles, which list nothing)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import UserFactory, force_sign_in

pytestmark = pytest.mark.django_db

PROBES = [
    "/.git/config",
    "/.git/HEAD",
    "/.env",
    "/.DS_Store",
    "/.svn/entries",
    "/.hg/store",
    "/pyproject.toml",
    "/static/",
    "/static/haven/",
    "/static/vendor/",
    "/static/../pyproject.toml",
    "/static/haven/.gitkeep",
    "/media/",
]


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("path", PROBES)
def test_no_listing_or_metadata_file_is_served(path, signed_in):
    client = force_sign_in(Client(), UserFactory()) if signed_in else Client()
    answer = client.get(path)
    assert answer.status_code in (302, 404), (path, answer.status_code)
    if answer.status_code == 302:  # signed out: off to sign in, nothing shown
        assert answer["Location"].startswith("/accounts/login/")
    body = answer.content.decode(errors="replace")
    assert "Index of" not in body and "[core]" not in body and "HAVEN_" not in body
