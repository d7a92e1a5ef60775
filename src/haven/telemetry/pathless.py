"""uvicorn's HTTP protocol for the OsmAnd receiver, in a module of its own that imports no
Django: with ``--workers N`` uvicorn hands its settings (this class among them) to worker
processes, which import it before Django is set up."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class PathlessTargetProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, also accepting a request target with no path: Traccar's
    own tools send ``POST ?id=…&lat=…`` and Traccar's server takes it, but httptools answers
    "400 Invalid HTTP request". At the start of each request on a connection a "/" is put
    before such a target, before the parser sees it. (A request pipelined behind another in
    the same packet is parsed as sent: no tracker client pipelines.)"""

    _at_start = True
    _head = b""

    def data_received(self, data: bytes) -> None:
        if self._at_start:
            data = self._head + data
            space = data.find(b" ", 0, MAX_METHOD + 1)
            if space < 0 and len(data) <= MAX_METHOD:
                self._head = data  # the method is not complete yet: wait for the rest
                return
            self._head, self._at_start = b"", False
            if space > 0 and data[space + 1 : space + 2] == b"?":
                data = data[: space + 1] + b"/" + data[space + 1 :]
        super().data_received(data)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._at_start = True


MAX_METHOD = 16  # longer than any HTTP method
