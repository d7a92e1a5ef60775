"""The live server the browser tests use: pytest-django's, whose request threads are ended and
waited for when it stops.

Django's live server serves each connection in a daemon thread that nobody joins, and a
browser keeps its connections open (keep-alive) between requests. On SQLite the test database
is in memory and its connection is shared with those threads only while the server runs
(inc_thread_sharing / dec_thread_sharing around it); a thread still serving an idle
connection when the server stops closes the shared connection from the wrong thread once the
browser finally hangs up, and raises in the background (DatabaseError: "DatabaseWrapper
objects created in a thread can only be used in that same thread"). On PostgreSQL such a thread
keeps its own connection to the test database open until then.

Here, stopping the server ends every connection it is serving (their read side: an idle
keep-alive read sees the end of the stream, a response being written is still sent) and joins
the threads serving them, before the database connection stops being shared."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from django.core.servers.basehttp import ThreadedWSGIServer
from pytest_django.live_server_helper import LiveServer


class JoinedThreadedWSGIServer(ThreadedWSGIServer):
    """Django's threaded WSGI server; server_close ends the connections it is serving and
    waits for their threads (socketserver joins non-daemon request threads on close)."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._serving: set[socket.socket] = set()
        self._serving_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._serving_lock:
            self._serving.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        # Forgotten before it is closed (under the lock): server_close never touches a socket
        # whose descriptor may already belong to another one.
        with self._serving_lock:
            self._serving.discard(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        """Called once serve_forever has stopped accepting (LiveServerThread.terminate)."""
        with self._serving_lock:
            for request in self._serving:
                with contextlib.suppress(OSError):  # the client has already gone
                    request.shutdown(socket.SHUT_RD)
        super().server_close()  # closes the listening socket, joins every request thread


def start_live_server(addr: str) -> LiveServer:
    server = LiveServer(addr, start=False)
    server.thread.server_class = JoinedThreadedWSGIServer
    server.start()
    return server
