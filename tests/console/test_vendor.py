"""The console's pinned front-end libraries: installed flat and checked by integrity (against a local registry
here), and the real pinned files served under /static/console/vendor/ as the pages reference them."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from console.vendor import PACKAGES
from posthog_clone.npm_packages import FetchError, NpmPackage, files_installed, install_files


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, body in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


@pytest.fixture
def registry() -> Iterator[tuple[str, dict[str, bytes], list[str]]]:
    served: dict[str, bytes] = {}
    requests: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            requests.append(self.path)
            body = served.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served, requests
    finally:
        server.shutdown()


LIB = {"dist/lib.umd.min.cjs": b"window.lib = 1;", "dist/style.css": b"body{}", "README.md": b"not wanted"}


def package(data: bytes, integrity: str | None = None) -> NpmPackage:
    files = {"dist/lib.umd.min.cjs": "lib.min.js", "dist/style.css": "lib.css"}
    return NpmPackage("@scope/lib", "1.2.3", integrity or sri(data), files)


def test_installs_the_chosen_files_flat_once(registry: tuple, tmp_path: Path) -> None:
    url, served, requests = registry
    data = tarball(LIB)
    served["/@scope/lib/-/lib-1.2.3.tgz"] = data
    pinned = package(data)
    install_files(tmp_path, pinned, registry=url, use_npm=False, progress=lambda _: None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lib.css", "lib.min.js", "vendor.json"]
    assert (tmp_path / "lib.min.js").read_bytes() == b"window.lib = 1;"
    assert files_installed(tmp_path, pinned)
    install_files(tmp_path, pinned, registry=url, use_npm=False, progress=lambda _: None)
    assert len(requests) == 1  # already installed: not fetched again


def test_a_tarball_that_is_not_the_pinned_one_installs_nothing(registry: tuple, tmp_path: Path) -> None:
    url, served, _ = registry
    served["/@scope/lib/-/lib-1.2.3.tgz"] = tarball(LIB)
    wrong = package(b"", integrity=sri(b"another tarball"))
    with pytest.raises(FetchError, match="checksum mismatch"):
        install_files(tmp_path, wrong, registry=url, use_npm=False, progress=lambda _: None)
    assert list(tmp_path.iterdir()) == []
    assert not files_installed(tmp_path, wrong)


def test_a_tarball_without_a_pinned_file_installs_nothing(registry: tuple, tmp_path: Path) -> None:
    url, served, _ = registry
    data = tarball({"dist/lib.umd.min.cjs": b"x"})
    served["/@scope/lib/-/lib-1.2.3.tgz"] = data
    with pytest.raises(FetchError, match="has no lib.css"):
        install_files(tmp_path, package(data), registry=url, use_npm=False, progress=lambda _: None)
    assert list(tmp_path.iterdir()) == []


def test_the_pinned_libraries_are_served_to_the_pages() -> None:
    vendor = Path(settings.CONSOLE_VENDOR_DIR)
    if not all(files_installed(vendor, p) for p in PACKAGES):  # `make test` installed them; else do it now
        call_command("fetch_console_assets")
    client = Client()
    for pinned in PACKAGES:
        for name in pinned.files.values():
            response = client.get(f"/static/console/vendor/{name}")
            assert response.status_code == 200, name
            kind = "text/css" if name.endswith(".css") else "text/javascript"
            assert response["Content-Type"].startswith(kind), (name, response["Content-Type"])
            assert b"".join(response.streaming_content) == (vendor / name).read_bytes()


def test_module_entry_point_without_django(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path) -> None:
    """`python -m console.vendor DEST` (the image build step): usage, the registry from NPM_REGISTRY_URL, and a
    failure as exit status 1."""
    from console import vendor

    assert vendor.main([]) == 2
    seen = []

    def refuse(dest: Path, package: NpmPackage, *, registry: str | None) -> None:
        seen.append((dest, package.name, registry))
        raise FetchError("checksum mismatch for x")

    monkeypatch.setattr(vendor, "install_files", refuse)
    monkeypatch.setenv("NPM_REGISTRY_URL", "http://registry.example")
    assert vendor.main([str(tmp_path)]) == 1
    assert seen == [(tmp_path, "chart.js", "http://registry.example")]
    assert "error: checksum mismatch for x" in capsys.readouterr().err
