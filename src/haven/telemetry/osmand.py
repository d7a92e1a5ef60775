"""`haven telemetry serve-osmand`: the OsmAnd / Traccar Client receiver as a bare ASGI app served
by uvicorn (httptools parser, uvloop where installed), ``--workers N`` processes.

Why not Django or a WSGI server: a device request needs none of Django's request machinery (no
session, cookie, CSRF token or URL routing: any method and any path), and a thread per waiting
request costs more than the parse and the store together (gunicorn gthread: ~1.7-2 ms of CPU a
message). Here one event loop per process holds every open connection; a request is parsed on
the loop, handed to the process's BatchWriter, and answered when its batch has committed (the
outcomes come back to the loop through Answers, one wake-up per batch): 200 still means stored,
and all requests waiting at the same time share one transaction.

Compatibility with Traccar Client (the rules of server.py's WSGI app, kept exactly): any method,
any path; the query string, else the form body, else JSON by content type; 200 with an empty
body; 400 for bad input or an unknown device (404 for the JSON variant); 413 for a body over
64 KiB; 429 with Retry-After when a device floods; 503 when the database failed (the client
retries; storing is idempotent). Connections are kept alive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from functools import cache, partial
from itertools import takewhile
from typing import Any

from . import receivers, services
from .batching import WAIT_S, BatchWriter, StoreFailed
from .pathless import PathlessTargetProtocol
from .protocols import Message, Rejected
from .server import MAX_BODY, reply_headers
from .services import Outcome

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

Waiter = asyncio.Future[Outcome]
KEEP_ALIVE_S = 75  # Traccar Client reuses its connection between fixes


class Answers:
    """Outcomes coming back from the writer thread to the event loop: one wake-up of the loop
    (call_soon_threadsafe writes to its self-pipe) per batch, not per message. A request whose
    batch has not answered after `wait_s` gets a TimeoutError (503) from a sweep that runs
    while requests wait, rather than from a timer per request (asyncio.timeout puts a handle
    in the loop's heap for each)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, wait_s: float = WAIT_S) -> None:
        self.loop = loop
        self.wait_s = wait_s
        self.sweep_s = min(1.0, wait_s / 4)
        self._ready: deque[tuple[Waiter, Outcome | None, StoreFailed | None]]
        self._ready = deque()
        self._lock = threading.Lock()
        self._scheduled = False
        self._deadlines: dict[Waiter, float] = {}  # oldest first
        self._sweeping = False

    def waiter(self, writer: BatchWriter, message: Message, now: dt.datetime) -> Waiter:
        """Queue `message` on the writer; the asyncio future resolves, on the loop, once its
        batch has committed (or failed)."""
        waiter: Waiter = self.loop.create_future()
        self._deadlines[waiter] = self.loop.time() + self.wait_s
        if not self._sweeping:
            self._sweeping = True
            self.loop.call_later(self.sweep_s, self._sweep)
        writer.submit_with(message, now, partial(self._arrived, waiter))
        return waiter

    def _arrived(self, waiter: Waiter, outcome: Outcome | None, error: StoreFailed | None) -> None:
        """On the writer thread, as each message of the batch is settled."""
        self._ready.append((waiter, outcome, error))
        with self._lock:
            if self._scheduled:
                return  # the pending wake-up will take this one too
            self._scheduled = True
        self.loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            self._scheduled = False  # before draining: a later arrival schedules its own
        while self._ready:
            waiter, outcome, error = self._ready.popleft()
            if self._deadlines.pop(waiter, None) is None or waiter.done():
                continue  # timed out already, or given up (the client left)
            if error is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(outcome)  # type: ignore[arg-type]

    def _sweep(self) -> None:
        now = self.loop.time()
        # In order of submission, so the deadlines passed are the first ones.
        passed = takewhile(lambda item: item[1] <= now, self._deadlines.items())
        for waiter in [waiter for waiter, _ in passed]:
            del self._deadlines[waiter]
            if not waiter.done():
                waiter.set_exception(TimeoutError("the batch writer did not answer in time"))
        self._sweeping = bool(self._deadlines)
        if self._sweeping:
            self.loop.call_later(self.sweep_s, self._sweep)


class OsmAndApp:
    """The ASGI application: one per process, with that process's batch writer."""

    def __init__(self, writer: BatchWriter | None = None, wait_s: float = WAIT_S) -> None:
        self.writer = writer or BatchWriter()
        self.wait_s = wait_s
        self._answers: Answers | None = None

    def answers(self) -> Answers:
        """Made on first use, on the server's event loop."""
        if self._answers is None:
            self._answers = Answers(asyncio.get_running_loop(), self.wait_s)
        return self._answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                self.writer.start()  # builds the fence index while the first devices connect
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                # Store what is queued and close the writer's database connection.
                await asyncio.to_thread(self.writer.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type, length = _content_headers(scope["headers"])
        body = None if length > MAX_BODY else await _read_body(receive, MAX_BODY)
        if body is None:
            # Refused unread: close the connection rather than read 64 KiB+ to reuse it.
            services.REJECTED.note(Rejected("body_too_large", status=413))
            await _answer(send, receivers.Reply(413, reason="body_too_large"), close=True)
            return
        reply = await self._receive(scope["query_string"].decode("latin-1"), content_type, body)
        await _answer(send, reply)

    async def _receive(self, query_string: str, content_type: str, body: bytes) -> receivers.Reply:
        now = dt.datetime.now(dt.UTC)
        parsed = receivers.parse_osmand_request(
            query_string=query_string, content_type=content_type, body=body, now=now
        )
        if isinstance(parsed, receivers.Reply):
            return parsed
        try:
            outcome = await self.answers().waiter(self.writer, parsed, now)
        except (StoreFailed, TimeoutError):  # the writer logged the failure once per batch
            return receivers.Reply(503, reason="database_error")
        return receivers.osmand_reply(parsed, outcome)


def _content_headers(headers: list[tuple[bytes, bytes]]) -> tuple[str, int]:
    """(Content-Type, Content-Length) of a request; a missing or unreadable length is 0, as
    the WSGI app treats it (httptools has already refused a malformed one)."""
    content_type, length = "", 0
    for name, value in headers:
        if name == b"content-type":
            content_type = value.decode("latin-1")
        elif name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = 0
    return content_type, length


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it exceeds `limit` (a chunked body has no length)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        event = await receive()
        if event["type"] != "http.request":
            return b""  # the client left mid-body: handled as bodiless, answered to nobody
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not event.get("more_body", False):
            return b"".join(chunks)


async def _answer(send: Send, reply: receivers.Reply, close: bool = False) -> None:
    headers = _encoded_headers(reply.status, len(reply.body), reply.content_type, close)
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


@cache
def _encoded_headers(
    status: int, length: int, content_type: str, close: bool
) -> tuple[tuple[bytes, bytes], ...]:
    """A device answer's headers as ASGI wants them; answers come in a handful of shapes (200
    with no body, nearly always), so each is encoded once."""
    headers = [
        (name.lower().encode(), value.encode())
        for name, value in reply_headers(status, length, content_type)
    ]
    if close:
        headers.append((b"connection", b"close"))
    return tuple(headers)


def uvicorn_options(workers: int = 0) -> dict[str, Any]:
    """uvicorn's settings for the receiver (beside the app, host and port)."""
    return {
        "workers": workers if workers > 1 else None,
        "http": PathlessTargetProtocol,  # httptools, also taking "POST ?id=..." (Traccar)
        "loop": "auto",  # uvloop where it is installed
        "lifespan": "on",
        "access_log": False,
        "server_header": False,
        "proxy_headers": False,  # devices connect directly; nothing reads the client address
        "timeout_keep_alive": KEEP_ALIVE_S,
        "backlog": 2048,  # a burst of devices reconnecting after an outage
        "log_level": "warning",
    }


def serve(host: str, port: int, workers: int) -> None:
    """Run the receiver until interrupted (the management command). With workers, uvicorn
    starts that many processes; each imports haven.telemetry.asgi and so has its own writer."""
    import uvicorn

    app: Any = "haven.telemetry.asgi:application" if workers > 1 else OsmAndApp()
    uvicorn.run(app, host=host, port=port, **uvicorn_options(workers))
