"""The OsmAnd receiver that `haven telemetry serve-osmand` runs (uvicorn + the bare ASGI app of
haven.telemetry.osmand), over a real socket: Traccar Client's rules, exactly."""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from django.db import OperationalError
from django.utils import timezone

from haven.telemetry import services
from haven.telemetry.batching import BatchWriter
from haven.telemetry.models import Alert, Position
from haven.telemetry.osmand import OsmAndApp, uvicorn_options

from .helpers import make_device
from .test_batch import Recorder


class Front:
    """uvicorn serving OsmAndApp on a loopback port, in a thread. The socket listens before the
    server starts, so a client can connect at once (the backlog holds it: no waiting)."""

    def __init__(self, writer: BatchWriter, wait_s: float = 30.0) -> None:
        self.writer = writer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        config = uvicorn.Config(OsmAndApp(writer, wait_s), **uvicorn_options())
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = self.connect()
        try:
            connection.request(method, path, body, headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()
        assert not self.thread.is_alive()


@pytest.fixture
def front() -> Iterator[Front]:
    server = Front(BatchWriter())
    yield server
    server.stop()


def stamp(seconds_ago: int) -> int:
    return int(timezone.now().timestamp()) - seconds_ago


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.django_db(transaction=True)
def test_any_method_any_path_query_form_and_json_land(resettable_ledger, front: Front):
    make_device(device_id="fr-1")
    query = f"/any/path/?id=fr-1&lat=1&lon=2&timestamp={stamp(30)}"
    status, headers, body = front.request("GET", query)
    assert (status, body, headers["content-length"]) == (200, b"", "0")
    form = f"id=fr-1&lat=1&lon=2&timestamp={stamp(20)}".encode()
    assert front.request("PUT", "/x", form, FORM)[:3:2] == (200, b"")
    document = {
        "device_id": "fr-1",
        "location": {
            "timestamp": timezone.now().isoformat(),
            "coords": {"latitude": 1.5, "longitude": 2.5},
        },
    }
    headers = {"Content-Type": "application/json"}
    assert front.request("POST", "/", json.dumps(document).encode(), headers)[0] == 200
    assert front.request("DELETE", "/", b"id=fr-1&alarm=sos", FORM)[0] == 200
    assert Position.objects.filter(device__device_id="fr-1", lat__isnull=False).count() == 3
    assert Alert.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_refusals_400_404_and_the_query_string_wins_over_the_body(resettable_ledger, front: Front):
    make_device(device_id="fr-2")
    assert front.request("GET", "/?id=nobody&lat=1&lon=2")[0] == 400
    assert front.request("GET", "/?lat=1&lon=0")[0] == 400  # no device id
    ghost = json.dumps({"device_id": "nobody", "location": {}}).encode()
    assert front.request("POST", "/", ghost, {"Content-Type": "application/json"})[0] == 404
    # Query string first: the (valid) body is not looked at when there is a query.
    valid_body = f"id=fr-2&lat=1&lon=2&timestamp={stamp(5)}".encode()
    assert front.request("POST", "/?id=nobody", valid_body, FORM)[0] == 400
    assert Position.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_keep_alive_and_429_with_retry_after(resettable_ledger, front: Front, settings):
    settings.HAVEN_TELEMETRY = {"flood_per_device_per_minute": 2}
    make_device(device_id="fr-3")
    connection = front.connect()
    statuses, sockets = [], []
    try:
        for n in range(3):
            connection.request("POST", "/", f"id=fr-3&lat=1&lon=2&timestamp={stamp(9 - n)}", FORM)
            response = connection.getresponse()
            response.read()
            statuses.append((response.status, response.getheader("Retry-After")))
            sockets.append(connection.sock)
    finally:
        connection.close()
    assert statuses == [(200, None), (200, None), (429, "60")]
    assert sockets[0] is not None and all(s is sockets[0] for s in sockets)  # one connection
    assert Position.objects.count() == 2


def test_body_over_64_kib_is_413_and_the_connection_closes(front: Front):
    status, headers, _ = front.request("POST", "/", b"id=x&" + b"a" * 70_000, FORM)
    assert status == 413 and headers.get("connection") == "close"
    assert services.REJECTED["body_too_large"] == 1
    # Chunked (no length): refused once it passes the limit.
    connection = front.connect()
    try:
        chunks = iter([b"id=x&", b"b" * 40_000, b"c" * 40_000])
        connection.request("POST", "/", body=chunks, headers=FORM, encode_chunked=True)
        assert connection.getresponse().status == 413
    finally:
        connection.close()


def test_the_answer_waits_for_the_commit():
    store = Recorder()
    store.hold.clear()  # the first batch waits until released
    server = Front(BatchWriter(store=store))
    connection = server.connect()
    try:
        connection.request("GET", f"/?id=dev-held&lat=1&lon=2&timestamp={stamp(1)}")
        assert store.entered.wait(10)
        # The batch is being stored and cannot finish: nothing may have been answered yet.
        readable, _, _ = select.select([connection.sock], [], [], 0)
        assert readable == []
        store.hold.set()
        assert connection.getresponse().status == 200
        assert store.batches == [["dev-held"]]
    finally:
        connection.close()
        server.stop()


def test_503_when_the_batch_fails():
    server = Front(BatchWriter(store=Recorder(fail=OperationalError)))
    try:
        status, _, body = server.request("GET", f"/?id=x&lat=1&lon=2&timestamp={stamp(1)}")
        assert (status, body) == (503, b"")
    finally:
        server.stop()


def test_503_when_the_batch_does_not_commit_in_time_and_the_late_answer_goes_nowhere():
    store = Recorder()
    store.hold.clear()  # the batch hangs (a lock, a lost database) until released
    server = Front(BatchWriter(store=store), wait_s=0.2)
    connection = server.connect()
    try:
        connection.request("GET", f"/?id=dev-hung&lat=1&lon=2&timestamp={stamp(1)}")
        response = connection.getresponse()
        assert (response.status, response.read()) == (503, b"")
        store.hold.set()  # the batch commits after all: its answer is dropped, not sent
        connection.request("GET", f"/?id=dev-next&lat=1&lon=2&timestamp={stamp(1)}")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"")
        assert store.batches == [["dev-hung"], ["dev-next"]]
    finally:
        connection.close()
        server.stop()


def _raw_exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes, read the answer's head (what a device's own HTTP code would see)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        raw.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = raw.recv(4096)
            if not chunk:
                break
            answer += chunk
        return answer


@pytest.mark.django_db(transaction=True)
def test_a_request_target_without_a_path_is_accepted_like_traccar(resettable_ledger, front: Front):
    make_device(device_id="np-1")
    query = f"id=np-1&lat=51.5&lon=-0.12&timestamp={stamp(5)}"
    answer = _raw_exchange(front.port, f"POST ?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 200 ")
    # Two requests on one kept-alive connection, the second one split mid-method.
    with socket.create_connection(("127.0.0.1", front.port), timeout=30) as raw:
        first = f"GET ?id=np-1&lat=51.6&lon=-0.12&timestamp={stamp(4)} HTTP/1.1\r\nHost: x\r\n\r\n"
        raw.sendall(first.encode())
        assert raw.recv(4096).startswith(b"HTTP/1.1 200 ")
        raw.sendall(b"PO")
        second = f"ST ?id=np-1&timestamp={stamp(3)}&alarm=sos HTTP/1.1\r\nHost: x\r\n\r\n"
        raw.sendall(second.encode())
        assert raw.recv(4096).startswith(b"HTTP/1.1 200 ")
    assert Position.objects.filter(device__device_id="np-1", lat__isnull=False).count() == 2
    assert Alert.objects.filter(device__device_id="np-1").count() == 1
