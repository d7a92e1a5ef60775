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


@pytest.mark.django_db
def test_a_random_password_too_like_the_name_is_drawn_again(monkeypatch):
    """ "demo-eT-AlC8hoEpr" is "too similar" to the auditor's last name, Placeholder: a demo
    run drew it once and failed; the next draw is taken instead."""
    from haven.demo import accounts

    draws = iter(["eT-AlC8hoEpr", "Qx7_k2Zm9wVb"])
    monkeypatch.setattr(accounts.secrets, "token_urlsafe", lambda size: next(draws))
    auditor = next(spec for spec in accounts.DEMO_ACCOUNTS if spec.username == "auditor")
    assert accounts.demo_password(auditor) == "demo-Qx7_k2Zm9wVb"
