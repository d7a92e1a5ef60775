"""`haven telemetry serve-osmand`: the OsmAnd receiver on its own port (default 5055), any method
and any path, without Django's middleware (devices have no session, cookie or CSRF token)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from django.db import close_old_connections

from . import receivers

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


def osmand_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    close_old_connections()
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
        )
    )
    headers = [("Content-Length", str(len(reply.body)))]
    if reply.body:
        headers.append(("Content-Type", reply.content_type))
    start_response(STATUS_TEXT.get(reply.status, f"{reply.status} Error"), headers)
    return [reply.body]


class QuietHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Traccar Client reuses its connection

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)


def make_osmand_server(host: str = "127.0.0.1", port: int = 5055) -> WSGIServer:
    return make_server(host, port, osmand_app, handler_class=QuietHandler)
