"""A local mailbox for the demo: an SMTP server on this machine that keeps every message it is
handed as a file and says so on the console, so that `make run` shows alerts leaving Haven by
e-mail without any outside mail server. Production points HAVEN_EMAIL_* at the force's relay."""

from __future__ import annotations

import asyncio
import time
from email import message_from_bytes
from pathlib import Path
from typing import Any


class MailboxHandler:
    """aiosmtpd handler: one .eml file per message, one console line per recipient."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.count += 1
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{self.count:05d}.eml"
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        (self.directory / name).write_bytes(content)
        subject = message_from_bytes(content).get("Subject", "")
        for recipient in envelope.rcpt_tos:
            print(f"mail to {recipient}: {subject} ({self.directory / name})", flush=True)
        return "250 Message accepted for delivery"


def serve(host: str, port: int, directory: Path) -> None:
    """Run until stopped (`haven up` stops it with the other parts)."""
    from aiosmtpd.controller import Controller

    controller = Controller(MailboxHandler(directory), hostname=host, port=port)
    controller.start()
    print(f"demo mailbox on {host}:{port}, keeping messages in {directory}", flush=True)
    try:
        asyncio.run(_forever())
    finally:
        controller.stop()


async def _forever() -> None:
    await asyncio.Event().wait()
