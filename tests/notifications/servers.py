"""Real local servers the channel tests talk to: SMTP (aiosmtpd), a GOV.UK Notify stand-in and
a control-room webhook receiver (http.server threads). Each records what it received."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from aiosmtpd.controller import Controller

NOTIFY_SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
NOTIFY_SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
NOTIFY_API_KEY = f"haven_test-{NOTIFY_SERVICE_ID}-{NOTIFY_SECRET}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        message = message_from_bytes(envelope.content)
        message["X-Rcpt"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


@contextmanager
def smtp_server() -> Iterator[tuple[int, list[Message]]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox.messages
    finally:
        controller.stop()


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    return payload.decode() if isinstance(payload, bytes) else str(message.get_payload())


@dataclass
class Received:
    requests: list[dict[str, Any]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    status: int = 201


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


NOTIFY_SHAPES = {
    "/v2/notifications/sms": ("phone_number", "template_id"),
    "/v2/notifications/email": ("email_address", "template_id"),
}


@contextmanager
def notify_server() -> Iterator[tuple[str, Received]]:
    """Answers as GOV.UK Notify documents: a JWT (HS256, iss = service id, iat) signed with the
    API key's secret, a JSON body with the recipient, template_id and personalisation; 201."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            problem = self._problem(raw)
            if problem:
                self._answer(400, {"errors": [{"error": "BadRequestError", "message": problem}]})
                return
            body = json.loads(raw)
            received.requests.append({"path": self.path, **body})
            received.raw.append(raw)
            kind = "sms" if self.path.endswith("sms") else "email"
            self._answer(
                201,
                {
                    "id": str(uuid.uuid4()),
                    "reference": None,
                    "content": {"body": body["personalisation"]["message"]},
                    "template": {"id": body["template_id"], "version": 1, "uri": "x"},
                    "uri": f"/v2/notifications/{kind}",
                },
            )

        def _problem(self, raw: bytes) -> str:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                return "no bearer token"
            try:
                claims = jwt.decode(auth[7:], NOTIFY_SECRET, algorithms=["HS256"])
            except jwt.PyJWTError as exc:
                return f"bad token: {exc}"
            if claims.get("iss") != NOTIFY_SERVICE_ID or "iat" not in claims:
                return "wrong issuer"
            if self.path not in NOTIFY_SHAPES:
                return f"unknown path {self.path}"
            body = json.loads(raw)
            missing = [k for k in NOTIFY_SHAPES[self.path] if not body.get(k)]
            if missing or not isinstance(body.get("personalisation"), dict):
                return f"missing {missing or 'personalisation'}"
            return ""

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    for url in _serve(Handler):
        yield url, received


@contextmanager
def webhook_receiver(secret: str) -> Iterator[tuple[str, Received]]:
    """A control room: refuses (401) a body whose X-Haven-Signature is not its HMAC-SHA256;
    otherwise answers `received.status` (set it to 500 to make deliveries fail)."""
    received = Received(status=204)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            expected = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
            signed = hmac.compare_digest(self.headers.get("X-Haven-Signature", ""), expected)
            if signed:
                received.raw.append(raw)
                received.requests.append(json.loads(raw))
            self.send_response(received.status if signed else 401)
            self.send_header("Content-Length", "0")
            self.end_headers()

    for url in _serve(Handler):
        yield url, received
