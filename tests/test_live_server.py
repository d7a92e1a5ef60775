"""The browser tests' live server (tests/live_server.py) waits, when it stops, for the threads
serving the connections a client keeps open."""

from __future__ import annotations

import http.client
import threading
from urllib.parse import urlsplit

import pytest

from .live_server import start_live_server


# The server's threads use the test database (Django's request signals look at its connection,
# shared with them on SQLite): a transactional test, as every live-server test is.
@pytest.mark.django_db(transaction=True)
def test_stopping_the_live_server_ends_and_joins_the_thread_of_a_kept_alive_connection():
    server = start_live_server("localhost")
    address = urlsplit(server.url)
    before = set(threading.enumerate())
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    stopped = False
    try:
        # A static file (no query). Read whole, as a browser does, and kept open.
        connection.request("GET", "/static/haven/js-enabled.js")
        response = connection.getresponse()
        assert response.status == 200 and response.read()
        assert response.getheader("Connection") != "close"
        serving = [thread for thread in threading.enumerate() if thread not in before]
        assert serving and all(thread.is_alive() for thread in serving)  # waiting for more
        server.stop()
        stopped = True
        assert not [thread for thread in serving if thread.is_alive()]
    finally:
        connection.close()
        if not stopped:
            server.stop()
