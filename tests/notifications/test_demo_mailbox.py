"""The demo's local mailbox (`haven mailbox`, run by `make run` through `haven up`): every demo
account has a verified e-mail address on it, and an SOS on the demo pages the on-call
technician there at once. A real SMTP server on a free port, fed by Haven's own e-mail channel."""

from __future__ import annotations

from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.utils import timezone

from haven.accounts.models import User
from haven.notifications.demo import DEMO_MAIL_DOMAIN
from haven.notifications.mailbox import MailboxHandler
from haven.notifications.models import ContactMethod
from haven.rota import selectors as rota
from haven.runtime.parts import Addresses, process_table
from haven.telemetry import services as telemetry
from haven.telemetry.demo import DEMO_ROTA
from haven.telemetry.models import TelemetryDevice
from haven.telemetry.protocols import Message
from tests.notifications.servers import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailbox(settings: Any, tmp_path: Path) -> Iterator[Path]:
    port = free_port()
    controller = Controller(MailboxHandler(tmp_path / "mailbox"), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    try:
        yield tmp_path / "mailbox"
    finally:
        controller.stop()


def delivered(mailbox: Path) -> list[tuple[str, str]]:
    """(recipient, body) of every message the mailbox kept."""
    found = []
    for path in sorted(mailbox.glob("*.eml")):
        message = message_from_bytes(path.read_bytes())
        payload = message.get_payload(decode=True)
        body = payload.decode() if isinstance(payload, bytes) else str(payload)
        found.append((str(message["To"]), body.strip()))
    return found


def test_haven_up_runs_the_mailbox_only_when_asked() -> None:
    names = [part.name for part in process_table(Addresses(), with_mqtt=False)]
    assert "mailbox" not in names
    with_mailbox = process_table(Addresses(), with_mqtt=False, with_mailbox=True)
    assert ("mailbox",) in [part.arguments for part in with_mailbox]


def test_an_sos_on_the_demo_mails_the_on_call_technician_at_once(
    settings: Any, tmp_path: Path, mailbox: Path, django_capture_on_commit_callbacks: Any
) -> None:
    settings.DEMO_MODE, settings.DATA_DIR = True, tmp_path
    call_command("demo", "--cases", "1", "--complaints", "1")
    everyone = User.objects.count()
    assert ContactMethod.objects.filter(verified_at__isnull=False).count() == everyone
    on_call = rota.on_call_now(rota.find_rota(DEMO_ROTA))
    assert on_call is not None
    tracker = TelemetryDevice.objects.get(device_id="demo-tracker-1")

    with django_capture_on_commit_callbacks(execute=True):
        result = telemetry.ingest(
            Message(
                device_id=tracker.device_id,
                protocol="osmand-form",
                fix_time=timezone.now(),
                alarms=("sos",),
            )
        )
    assert result.alerts, "the SOS raised no alert"
    pages = delivered(mailbox)
    assert f"{on_call.username}@{DEMO_MAIL_DOMAIN}" in [recipient for recipient, _ in pages]
    assert all(body.startswith("You have a new Haven alert:") for _, body in pages)
    assert all("sign in to view" in body for _, body in pages)


def test_the_demo_gives_each_account_one_contact_even_when_run_twice(
    settings: Any, tmp_path: Path
) -> None:
    settings.DEMO_MODE, settings.DATA_DIR = True, tmp_path
    call_command("demo", "--cases", "1", "--complaints", "1")
    call_command("demo", "--cases", "1", "--complaints", "1")
    assert ContactMethod.objects.count() == User.objects.count()
