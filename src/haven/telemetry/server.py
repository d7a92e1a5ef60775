"""The OsmAnd receiver as a WSGI app, for deployments that run it under a WSGI server
(``gunicorn haven.telemetry.wsgi``, gthread workers) and for the threaded wsgiref server of
make_osmand_server. `haven telemetry serve-osmand` runs the leaner ASGI front instead
(haven.telemetry.osmand: uvicorn, one event loop per process); both answer by the same rules.

Each request is parsed on its own thread (one per connection), then handed to the process's
BatchWriter and answered after its batch commits: many devices' messages share one
transaction (group commit), and 200 still means stored. With gunicorn each worker process has
its own writer; the device row locks keep them apart on PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from . import receivers
from .batching import BatchWriter

log = logging.getLogger("haven.telemetry.osmand")
MAX_BODY = 64 * 1024

STATUS_TEXT = {
    200: "200 OK",
    400: "400 Bad Request",
    404: "404 Not Found",
    413: "413 Content Too Large",
    429: "429 Too Many Requests",
    503: "503 Service Unavailable",
}


def make_osmand_app(writer: BatchWriter) -> Callable[..., Iterable[bytes]]:
    def osmand_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            start_response(STATUS_TEXT[413], [("Content-Length", "0")])
            return [b""]
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        reply = receivers.safely(
            lambda: receivers.receive_osmand(
                query_string=environ.get("QUERY_STRING", ""),
                content_type=environ.get("CONTENT_TYPE", ""),
                body=body,
                store=writer.store,
            )
        )
        start_response(
            STATUS_TEXT.get(reply.status, f"{reply.status} Error"),
            reply_headers(reply.status, len(reply.body), reply.content_type),
        )
        return [reply.body]

    return osmand_app


def reply_headers(status: int, length: int, content_type: str) -> list[tuple[str, str]]:
    """The headers of an answer to a device (its status, body length and type), for both
    fronts (WSGI here, ASGI in osmand)."""
    headers = [("Content-Length", str(length))]
    if length:
        headers.append(("Content-Type", content_type))
    if status == 429:
        headers.append(("Retry-After", "60"))
    return headers


# The app gunicorn serves (haven.telemetry.wsgi), and its writer: one per worker process.
WRITER = BatchWriter()
osmand_app = make_osmand_app(WRITER)


class QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Traccar Client reuses its connection

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """A thread per connection, so that many requests can wait on one commit together."""

    daemon_threads = True
    request_queue_size = 1024  # listen backlog (socketserver's 5 resets a burst of devices)
    writer: BatchWriter

    def server_close(self) -> None:
        super().server_close()
        self.writer.stop()  # stores what is queued and closes its database connection


def make_osmand_server(host: str = "127.0.0.1", port: int = 5055) -> ThreadingWSGIServer:
    writer = BatchWriter()
    writer.start()  # warms the fence index while the first devices connect
    server = make_server(
        host,
        port,
        make_osmand_app(writer),
        server_class=ThreadingWSGIServer,
        handler_class=QuietHandler,
    )
    assert isinstance(server, ThreadingWSGIServer)
    server.writer = writer
    return server
