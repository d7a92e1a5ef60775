"""Settings for the test suite: the real settings, with a throwaway data directory."""

import os
import tempfile

os.environ.setdefault("HAVEN_TESTING", "1")
os.environ.setdefault("HAVEN_DATA_DIR", tempfile.mkdtemp(prefix="haven-test-"))
# Fixed, public test-only vault keys (urlsafe base64 of 32 bytes), so tests need no key files.
os.environ.setdefault("HAVEN_KEK", "test:dGVzdC1vbmx5LWtlay1oYXZlbi12YXVsdC0wMDAwMDA")
os.environ.setdefault("HAVEN_BLIND_INDEX_KEY", "dGVzdC1vbmx5LWJsaW5kLWluZGV4LWtleS0wMDAwMDA")

from haven.settings import *  # noqa: E402,F403

# Argon2id is asserted by a test of the production settings; here it would only slow the suite.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]

# A test-only model exercising every vault field (tests/vault/probe).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.vault.probe"]  # noqa: F405

# Templates name static files without the manifest that `collectstatic` writes; the production
# storage is exercised against gunicorn by tests/web/test_production.py.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# Tests run background jobs in-line; the database backend is exercised by its own tests.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# The test database is thrown away: its commits need not wait for the WAL to reach the disk
# (a server crash could lose the last commits, never corrupt them). The suite's own connections
# only; Haven's processes that tests start use the real settings.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    DATABASES["default"]["OPTIONS"]["options"] += " -c synchronous_commit=off"  # noqa: F405
