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
import threading
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import Future
from typing import Any

from django.utils import timezone

from . import receivers, services
from .batching import WAIT_S, BatchWriter, StoreFailed
from .protocols import Rejected
from .server import MAX_BODY, reply_headers
from .services import Outcome

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

KEEP_ALIVE_S = 75  # Traccar Client reuses its connection between fixes


class Answers:
    """Outcomes coming back from the writer thread to the event loop: one wake-up of the loop
    (call_soon_threadsafe writes to its self-pipe) per batch, not per message."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._ready: deque[tuple[asyncio.Future[Outcome], Future[Outcome]]] = deque()
        self._lock = threading.Lock()
        self._scheduled = False

    def waiter(self, stored: Future[Outcome]) -> asyncio.Future[Outcome]:
        """An asyncio future resolved like `stored` (the writer's), on the loop."""
        waiter: asyncio.Future[Outcome] = self.loop.create_future()
        stored.add_done_callback(lambda done: self._arrived(waiter, done))
        return waiter

    def _arrived(self, waiter: asyncio.Future[Outcome], done: Future[Outcome]) -> None:
        """On the writer thread, as each message of the batch is settled."""
        self._ready.append((waiter, done))
        with self._lock:
            if self._scheduled:
                return  # the pending wake-up will take this one too
            self._scheduled = True
        self.loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            self._scheduled = False  # before draining: a later arrival schedules its own
        while self._ready:
            waiter, done = self._ready.popleft()
            if waiter.cancelled():
                continue  # the request was given up (timeout, disconnect)
            error = done.exception()
            if error is not None:
                waiter.set_exception(error)
            else:
                waiter.set_result(done.result())


class OsmAndApp:
    """The ASGI application: one per process, with that process's batch writer."""

    def __init__(self, writer: BatchWriter | None = None) -> None:
        self.writer = writer or BatchWriter()
        self._answers: Answers | None = None

    def answers(self) -> Answers:
        """Made on first use, on the server's event loop."""
        if self._answers is None:
            self._answers = Answers(asyncio.get_running_loop())
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
        now = timezone.now()
        parsed = receivers.parse_osmand_request(
            query_string=query_string, content_type=content_type, body=body, now=now
        )
        if isinstance(parsed, receivers.Reply):
            return parsed
        stored = self.answers().waiter(self.writer.submit(parsed, now))
        try:
            async with asyncio.timeout(WAIT_S):
                outcome = await stored
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
    headers = [(name.lower().encode(), value.encode()) for name, value in reply_headers(reply)]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})


def uvicorn_options(workers: int = 0) -> dict[str, Any]:
    """uvicorn's settings for the receiver (beside the app, host and port)."""
    return {
        "workers": workers if workers > 1 else None,
        "http": "httptools",
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
