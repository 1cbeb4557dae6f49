"""/static/ under the production server (`manage.py serve`: granian, WhiteNoise in front of the app): the SDK's
files pass through WhiteNoise to the asset view with their headers intact; the Swagger UI's files are still
WhiteNoise's."""

from __future__ import annotations

import gzip
import http.client
import os
import signal
from collections.abc import Iterator

import pytest

from bench.server import free_port, manage, server_env, start_server
from sdk_assets.fetch import Release
from tests.sdk_assets.conftest import ensure_real_release

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    assets = ensure_real_release()
    var_dir = tmp_path_factory.mktemp("assets-server")
    port = free_port()
    env = server_env(var_dir, port, SDK_ASSETS_DIR=str(assets))
    manage(env, "migrate", "--noinput", "-v", "0")
    proc = start_server(env)
    yield port
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def _get(port: int, path: str, method: str = "GET", **headers: str) -> tuple[http.client.HTTPResponse, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, headers=headers)
    response = conn.getresponse()
    return response, response.read()


def test_array_js_through_the_real_server(port: int) -> None:
    expected = (ensure_real_release() / Release().dirname / "array.js").read_bytes()
    plain, body = _get(port, "/static/array.js", Origin="https://shop.example.com")
    assert (plain.status, body) == (200, expected)
    assert plain.getheader("Content-Type") == "text/javascript; charset=utf-8"
    assert plain.getheader("Access-Control-Allow-Origin") == "*"
    assert plain.getheader("Cache-Control") == "public, max-age=3600"
    assert plain.getheader("Content-Length") == str(len(expected))

    zipped, body = _get(port, "/static/array.js", **{"Accept-Encoding": "gzip, br"})
    assert zipped.getheader("Content-Encoding") == "gzip"
    assert gzip.decompress(body) == expected and len(body) < len(expected) / 3

    etag = plain.getheader("ETag")
    assert _get(port, "/static/array.js", **{"If-None-Match": etag})[0].status == 304
    head, body = _get(port, "/static/array.js", "HEAD")
    assert (head.status, body, head.getheader("Content-Length")) == (200, b"", str(len(expected)))


def test_versioned_lazy_bundle_and_swagger_files(port: int) -> None:
    recorder, _ = _get(port, f"/static/lazy-recorder.js?v={Release().version}")
    assert (recorder.status, recorder.getheader("Cache-Control")) == (200, "public, max-age=31536000, immutable")
    swagger, _ = _get(port, "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert swagger.status == 200
    missing, body = _get(port, "/static/no-such-bundle.js")
    assert missing.status == 404 and b'"not_found"' in body
