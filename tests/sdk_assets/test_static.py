"""GET /static/<name>: posthog-js's files with their types, caching, compression and CORS; 404 (and a log line
saying what to run) when the release is not installed; the Swagger UI's static files still served."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from sdk_assets.fetch import Release
from sdk_assets.selectors import asset_cache_clear
from tests.sdk_assets.conftest import DIST_FILES

VERSION = Release().version
# What posthog-js (the pinned release and the JS-1.250/1.300 lines of the reference) loads from api_host.
LAZY_BUNDLES = [
    "array.js", "array.full.js", "recorder.js", "lazy-recorder.js", "posthog-recorder.js", "surveys.js",
    "dead-clicks-autocapture.js", "web-vitals.js", "exception-autocapture.js", "tracing-headers.js",
]  # fmt: skip


def test_script_headers(fake_release: Path) -> None:
    response = Client().get("/static/array.js", HTTP_ORIGIN="https://shop.example.com")
    assert response.status_code == 200
    assert response.content == DIST_FILES["array.js"]
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Content-Length"] == str(len(DIST_FILES["array.js"]))
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["Vary"] == "Accept-Encoding"
    assert response["ETag"].startswith('W/"')
    assert "Content-Encoding" not in response


@pytest.mark.parametrize(
    ("query", "cache_control"),
    [
        ("", "public, max-age=3600"),
        (f"?v={VERSION}", "public, max-age=31536000, immutable"),
        ("?v=1.0.0", "public, max-age=3600"),  # another SDK version gets this release's file, briefly cached
        (f"?v={VERSION}&x=1", "public, max-age=31536000, immutable"),
    ],
)
def test_versioned_urls_are_immutable(fake_release: Path, query: str, cache_control: str) -> None:
    response = Client().get(f"/static/lazy-recorder.js{query}")
    assert response.status_code == 200
    assert response["Cache-Control"] == cache_control


def test_versioned_paths_posthog_js_tries_first(fake_release: Path) -> None:
    """posthog-js's default `strict_script_versioning: "fallback"` asks /static/<version>/<name> first: the pinned
    version is served as immutable; another is a 404 the browser can read (CORS), so posthog-js falls back."""
    pinned = Client().get(f"/static/{VERSION}/lazy-recorder.js", HTTP_ORIGIN="https://shop.example.com")
    assert pinned.status_code == 200 and pinned.content == DIST_FILES["lazy-recorder.js"]
    assert pinned["Cache-Control"] == "public, max-age=31536000, immutable"
    assert pinned["Access-Control-Allow-Origin"] == "*"
    other = Client().get("/static/1.0.0/lazy-recorder.js", HTTP_ORIGIN="https://shop.example.com")
    assert other.status_code == 404 and other["Access-Control-Allow-Origin"] == "*"
    assert other.json()["code"] == "not_found"
    assert Client().get(f"/static/{VERSION}/nothing.js").status_code == 404


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.8", True), ("gzip;q=0", False), ("identity", False),
     ("*", True), ("", False)],
)  # fmt: skip
def test_gzip_when_accepted(fake_release: Path, accept: str, gzipped: bool) -> None:
    response = Client().get("/static/lazy-recorder.js", HTTP_ACCEPT_ENCODING=accept)
    assert response.status_code == 200
    assert (response.get("Content-Encoding") == "gzip") is gzipped
    body = gzip.decompress(response.content) if gzipped else response.content
    assert body == DIST_FILES["lazy-recorder.js"]
    assert response["Content-Length"] == str(len(response.content))


def test_conditional_get_and_head(fake_release: Path) -> None:
    client = Client()
    etag = client.get("/static/surveys.js")["ETag"]
    for tag in (etag, etag.removeprefix("W/"), f'"nope", {etag}', "*"):
        response = client.get("/static/surveys.js", HTTP_IF_NONE_MATCH=tag)
        assert response.status_code == 304, tag
        assert response.content == b""
        assert response["ETag"] == etag and response["Access-Control-Allow-Origin"] == "*"
    assert client.get("/static/surveys.js", HTTP_IF_NONE_MATCH='"other"').status_code == 200
    head = client.head("/static/surveys.js")
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Length"] == str(len(DIST_FILES["surveys.js"]))


def test_source_map_and_integrity_types(fake_release: Path) -> None:
    assert Client().get("/static/array.js.map")["Content-Type"] == "application/json"
    assert Client().get("/static/integrity.json")["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "name",
    ["nope.js", "release.json", "array.js.gz", "array.d.ts", "package.json", ".hidden.js", "link.js", "escape.js"],
)  # fmt: skip
def test_unknown_files_are_404(fake_release: Path, name: str) -> None:
    response = Client().get(f"/static/{name}")
    assert response.status_code == 404
    assert response.json() == {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("path", ["..%2F..%2Fmanage.py", "src%2Fnested.js", "../../manage.py", "%2e%2e/release.json"])
def test_paths_outside_the_release_are_404(fake_release: Path, path: str) -> None:
    """A name with a slash (encoded or not) is no name of this view: Django's plain 404, nothing read."""
    response = Client().get(f"/static/{path}")
    assert response.status_code == 404
    assert b"manage" not in response.content and b"nested" not in response.content


def test_not_installed_is_404_with_a_log_line(
    tmp_path: Path, settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.SDK_ASSETS_DIR = tmp_path / "empty"
    asset_cache_clear()
    monkeypatch.setattr("sdk_assets.views._last_missing_log", 0.0)
    monkeypatch.setattr("sdk_assets.views.MISSING_LOG_INTERVAL_S", 0.0)
    with caplog.at_level(logging.WARNING, logger="sdk_assets.views"):
        response = Client().get("/static/array.js")
    assert response.status_code == 404
    assert response["Cache-Control"] == "no-store"
    [record] = [r for r in caplog.records if r.name == "sdk_assets.views"]
    assert "fetch_sdk_assets" in record.getMessage()
    assert record.path == "/static/array.js"  # type: ignore[attr-defined]
    assert record.release == Release().dirname  # type: ignore[attr-defined]


def test_only_get_and_head(fake_release: Path) -> None:
    assert Client().post("/static/array.js").status_code == 405


def test_swagger_ui_static_files_still_served(fake_release: Path) -> None:
    response = Client().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")


def test_real_release_serves_what_posthog_js_loads_unmodified(real_release: Path) -> None:
    """Every bundle posthog-js loads from api_host is served byte for byte as published: each body matches the
    sha384 the release's own dist/integrity.json lists for it."""
    client = Client()
    integrity = json.loads(client.get("/static/integrity.json").content)
    assert integrity["version"] == VERSION
    for name in LAZY_BUNDLES:
        response = client.get(f"/static/{name}?v={VERSION}", HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200, name
        assert response["Content-Type"] == "text/javascript; charset=utf-8"
        body = gzip.decompress(response.content)
        digest = "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
        if name in integrity["files"]:
            assert digest == integrity["files"][name], name
    assert VERSION in client.get("/static/array.js").content.decode()


def test_readyz_says_whether_the_release_is_installed(fake_release: Path, settings: Any, tmp_path: Path) -> None:
    check = Client().get("/_readyz").json()["checks"]["sdk_assets"]
    assert check == {"ok": True, "release": Release().dirname, "installed": True}
    settings.SDK_ASSETS_DIR = tmp_path / "nothing"
    assert Client().get("/_readyz").json()["checks"]["sdk_assets"] == {
        "ok": True, "release": Release().dirname, "installed": False,
    }  # fmt: skip
