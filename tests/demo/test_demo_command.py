from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from haven.accounts.models import User


@pytest.mark.django_db
@override_settings(DEMO_MODE=False)
def test_demo_refuses_outside_demo_mode_and_creates_nothing(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    with pytest.raises(CommandError, match="HAVEN_DEMO=1"):
        call_command("demo", "--cases", "1", "--complaints", "1")
    assert not User.objects.exists()
    assert not (tmp_path / "demo-accounts.txt").exists()
