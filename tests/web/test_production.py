"""Production mode, tested rather than assumed: gunicorn with DEBUG off serves styled pages
(hashed, compressed, long-cached static files from WhiteNoise) and the TLS settings."""

from __future__ import annotations

import gzip
import http.client
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


# One production server (and one collectstatic) for the module: keep its tests on one worker.
pytestmark = pytest.mark.xdist_group("production-server")


def production_env(data_dir: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "HAVEN_KEK", "HAVEN_BLIND_INDEX_KEY")
    env = {name: os.environ[name] for name in keep if name in os.environ}
    return env | {
        "DJANGO_SETTINGS_MODULE": "haven.settings",
        "HAVEN_DATA_DIR": str(data_dir),
        "HAVEN_DATABASE_URL": f"sqlite:///{data_dir / 'haven.sqlite3'}",
        "HAVEN_SECRET_KEY": "production-test-secret-" + "x" * 40,
        "HAVEN_ALLOWED_HOSTS": "127.0.0.1",
    }


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    data_dir = tmp_path_factory.mktemp("production")
    env = production_env(data_dir)
    subprocess.run(  # noqa: S603
        [BIN / "haven", "collectstatic", "--no-input", "-v", "0"], env=env, check=True
    )
    # The test binds the socket and hands it over: a request queues in the backlog until
    # gunicorn accepts it, so nothing waits for the server to start.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603
        [BIN / "gunicorn", "haven.wsgi", "--bind", f"fd://{listener.fileno()}", "--workers", "1"],
        env=env,
        pass_fds=[listener.fileno()],
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
        listener.close()


def get(port: int, path: str, **headers: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    return response


def test_pages_link_hashed_stylesheets_served_compressed_and_cached_for_a_year(gunicorn):
    page = get(gunicorn, "/accounts/login/", **{"X-Forwarded-Proto": "https"})
    assert page.status == 200
    stylesheet = re.search(
        rb'href="(/static/vendor/govuk/govuk-frontend\.min\.[0-9a-f]{12}\.css)"', page.body
    )
    assert stylesheet, page.body[:500]
    css = get(gunicorn, stylesheet.group(1).decode(), **{"Accept-Encoding": "gzip"})
    assert css.status == 200
    assert css.getheader("Content-Encoding") == "gzip"
    assert b".govuk-" in gzip.decompress(css.body)
    assert "max-age=315360000" in css.getheader("Cache-Control", "")
    assert "immutable" in css.getheader("Cache-Control", "")


def test_tls_settings_apply_behind_the_proxy(gunicorn):
    page = get(gunicorn, "/accounts/login/", **{"X-Forwarded-Proto": "https"})
    assert page.getheader("Strict-Transport-Security", "").startswith("max-age=31536000")
    cookies = " ".join(value for name, value in page.getheaders() if name == "Set-Cookie")
    assert "csrftoken" in cookies and "Secure" in cookies and "HttpOnly" in cookies


def test_errors_show_no_debug_page(gunicorn):
    response = get(gunicorn, "/no/such/page/")
    assert response.status == 404
    assert b"Traceback" not in response.body and b"DEBUG" not in response.body
