"""Settings for bench/ledger_append.py: the test settings plus django-auditlog."""

from haven.settings_test import *  # noqa: F403
from haven.settings_test import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "auditlog"]
