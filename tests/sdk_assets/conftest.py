"""Fixtures: a local npm registry (tarballs built here, never the internet), an installed fake release, and the
real pinned release the install step fetched."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sdk_assets.fetch import FetchError, Release, fetch_release, installed, unpack
from sdk_assets.selectors import asset_cache_clear
from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
REAL_ASSETS_DIR = ROOT / "var" / "sdk-assets"  # where `make serve` / `make test` install the pinned release

DIST_FILES = {
    "array.js": b"/* array */ window.posthog = window.posthog || [];\n" * 50,
    "array.js.map": b'{"version":3,"sources":[]}',
    "lazy-recorder.js": b"/* recorder */ (function(){})();\n" * 80,
    "surveys.js": b"/* surveys */\n",
    "integrity.json": b'{"version":"x","files":{}}',
}
IGNORED_MEMBERS = {
    "package/package.json": b"{}",
    "package/dist/array.d.ts": b"export {}",
    "package/dist/src/nested.js": b"nested",
    "package/README.md": b"readme",
}


def make_tarball(files: dict[str, bytes] = DIST_FILES, *, evil: bool = True) -> bytes:
    """An npm-style .tgz: the dist files under package/dist/, plus members fetch must ignore."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        members = {f"package/dist/{name}": body for name, body in files.items()} | IGNORED_MEMBERS
        if evil:
            members |= {"package/dist/../../escape.js": b"evil", "/tmp/absolute.js": b"evil"}
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
        if evil:
            link = tarfile.TarInfo("package/dist/link.js")
            link.type = tarfile.SYMTYPE
            link.linkname = "/etc/passwd"
            archive.addfile(link)
    return buffer.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@dataclass
class LocalRegistry:
    url: str
    tarballs: dict[str, bytes] = field(default_factory=dict)  # path → bytes
    packuments: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def publish(self, release: Release, tarball: bytes, *, integrity: str | None = None) -> None:
        """Serve ``tarball`` as ``release``; the packument (what npm reads) states ``integrity`` (default: the
        tarball's own, as a real registry would)."""
        path = release.tarball_url("")
        self.tarballs[path] = tarball
        self.packuments[f"/{release.package}"] = {
            "name": release.package,
            "dist-tags": {"latest": release.version},
            "versions": {
                release.version: {
                    "name": release.package,
                    "version": release.version,
                    "dist": {
                        "tarball": f"{self.url}{path}",
                        "integrity": integrity or sri(tarball),
                        "shasum": hashlib.sha1(tarball).hexdigest(),  # noqa: S324 (npm's legacy field)
                    },
                }
            },
        }


@pytest.fixture
def registry() -> Iterator[LocalRegistry]:
    state: LocalRegistry

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            state.requests.append(self.path)
            path = self.path.split("?")[0]
            if path in state.tarballs:
                body, kind = state.tarballs[path], "application/octet-stream"
            elif path in state.packuments:
                body, kind = json.dumps(state.packuments[path]).encode(), "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = LocalRegistry(url=f"http://127.0.0.1:{server.server_address[1]}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake_release(tmp_path: Path, settings: Any) -> Path:
    """The pinned release's directory, installed from a small local tarball (what /static/ then serves)."""
    dest = tmp_path / "sdk-assets"
    unpack(make_tarball(), dest, Release(), progress=lambda _: None)
    settings.SDK_ASSETS_DIR = dest
    asset_cache_clear()
    yield dest / Release().dirname
    asset_cache_clear()


def ensure_real_release() -> Path:
    """The real pinned posthog-js, as the install step leaves it (fetched now if missing; no network outside
    CI means skip)."""
    if not installed(REAL_ASSETS_DIR, Release()):
        try:
            fetch_release(REAL_ASSETS_DIR, progress=lambda _: None)
        except FetchError as exc:
            if IN_CI:
                pytest.fail(f"the pinned posthog-js release could not be fetched: {exc}")
            pytest.skip(f"the pinned posthog-js release is not installed and could not be fetched: {exc}")
    return REAL_ASSETS_DIR


@pytest.fixture
def real_release(settings: Any) -> Iterator[Path]:
    settings.SDK_ASSETS_DIR = ensure_real_release()
    asset_cache_clear()
    yield REAL_ASSETS_DIR / Release().dirname
    asset_cache_clear()
