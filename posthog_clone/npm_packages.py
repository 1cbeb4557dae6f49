"""Pinned npm packages fetched at install time, with nothing but Python (npm is used when present).

Two users: ``sdk_assets`` (posthog-js's ``dist/``) and ``console`` (the charting library, htmx and rrweb-player
its pages load). A package is pinned by version and by the registry's ``dist.integrity`` (the SRI sha512 of its
tarball): an install gets these exact bytes or nothing. ``npm pack`` fetches the tarball when npm is on the PATH
(its cache, proxy and registry settings then apply), else ``urllib`` does.

``install_files`` writes the chosen files of a package flat into one directory (each file written beside its
final name, then renamed) and records the package in that directory's ``vendor.json`` last, so a package is
installed iff the manifest names its integrity and every file is there.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_REGISTRY = "https://registry.npmjs.org"
VENDOR_MANIFEST = "vendor.json"
CHUNK = 256 * 1024
Progress = Callable[[str], None]


class FetchError(Exception):
    """A package could not be fetched or failed its checksum; nothing was installed."""


@dataclass(frozen=True)
class NpmPackage:
    name: str
    version: str
    integrity: str
    # path inside the tarball (under package/) → the file name it is installed as
    files: Mapping[str, str] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        return f"{self.name}@{self.version}"

    def tarball_url(self, registry: str) -> str:
        return f"{registry.rstrip('/')}/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"


def check_integrity(data: bytes, integrity: str, what: str) -> None:
    """Raise FetchError unless ``data`` has the SRI digest ``integrity`` (``sha512-<base64>``)."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm not in ("sha512", "sha384", "sha256") or not expected:
        raise FetchError(f"unsupported integrity string {integrity!r}")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if not hmac.compare_digest(actual, expected):
        raise FetchError(
            f"checksum mismatch for {what}: expected {integrity}, got {algorithm}-{actual}; refusing to install it"
        )


def download_python(url: str, progress: Progress, *, timeout: float = 60.0) -> bytes:
    progress(f"downloading {url}")
    request = urllib.request.Request(url, headers={"User-Agent": "posthog-clone-fetch-assets"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https or a configured registry)
            total = int(response.headers.get("Content-Length") or 0)
            buffer = io.BytesIO()
            next_report = 0.25
            while chunk := response.read(CHUNK):
                buffer.write(chunk)
                if total and buffer.tell() / total >= next_report:
                    progress(f"  {buffer.tell() * 100 // total}% of {total / 1e6:.1f} MB")
                    next_report += 0.25
    except OSError as exc:  # URLError, HTTPError, timeouts, resets
        raise FetchError(f"download of {url} failed: {exc}") from exc
    return buffer.getvalue()


def download_npm(npm: str, spec: str, registry: str | None, progress: Progress) -> bytes:
    progress(f"fetching {spec} with npm pack" + (f" from {registry}" if registry else ""))
    with tempfile.TemporaryDirectory(prefix="fetch-npm-") as workdir:
        command = [npm, "pack", spec, "--json", "--pack-destination", workdir, "--ignore-scripts"]
        if registry:
            command += ["--registry", registry]
        run = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=workdir, check=False)
        if run.returncode != 0:
            raise FetchError(f"npm pack {spec} failed: {run.stderr.strip()[-500:]}")
        try:
            filename = json.loads(run.stdout)[0]["filename"]
        except (ValueError, LookupError, TypeError) as exc:
            raise FetchError(f"npm pack {spec}: unexpected output {run.stdout[-300:]!r}") from exc
        return (Path(workdir) / Path(filename).name).read_bytes()


def download(package: NpmPackage, *, registry: str | None, use_npm: bool, progress: Progress) -> bytes:
    """The package's tarball, checked against its pinned integrity."""
    npm = shutil.which("npm") if use_npm else None
    if npm:
        data = download_npm(npm, package.spec, registry, progress)
    else:
        data = download_python(package.tarball_url(registry or DEFAULT_REGISTRY), progress)
    check_integrity(data, package.integrity, f"{package.spec} tarball")
    progress(f"checksum ok for {package.spec} ({package.integrity[:20]}…)")
    return data


def _manifest(dest: Path) -> dict[str, dict[str, str]]:
    try:
        manifest = json.loads((dest / VENDOR_MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def files_installed(dest: Path, package: NpmPackage) -> bool:
    entry = _manifest(dest).get(package.name) or {}
    if entry.get("integrity") != package.integrity or entry.get("version") != package.version:
        return False
    return all((dest / name).is_file() for name in package.files.values())


def install_files(
    dest: Path,
    package: NpmPackage,
    *,
    registry: str | None = None,
    use_npm: bool = True,
    force: bool = False,
    progress: Progress = print,
) -> list[Path]:
    """Install ``package.files`` flat under ``dest`` (idempotent); the installed paths."""
    paths = [dest / name for name in package.files.values()]
    if files_installed(dest, package) and not force:
        progress(f"{package.spec} already installed in {dest}")
        return paths
    data = download(package, registry=registry, use_npm=use_npm, progress=progress)
    wanted = {f"package/{inner}": served for inner, served in package.files.items()}
    bodies: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive:
                served = wanted.get(member.name.removeprefix("./"))
                source = archive.extractfile(member) if served and member.isfile() else None
                if served and source is not None:
                    bodies[served] = source.read()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise FetchError(f"{package.spec}: the tarball could not be unpacked: {exc}") from exc
    missing = sorted(set(wanted.values()) - set(bodies))
    if missing:
        raise FetchError(f"{package.spec}: the tarball has no {', '.join(missing)}")
    dest.mkdir(parents=True, exist_ok=True)
    for served, body in bodies.items():
        staging = dest / f".{served}.{os.getpid()}.tmp"
        staging.write_bytes(body)
        os.replace(staging, dest / served)
    manifest = _manifest(dest)
    manifest[package.name] = {"version": package.version, "integrity": package.integrity}
    staging = dest / f".{VENDOR_MANIFEST}.{os.getpid()}.tmp"
    staging.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(staging, dest / VENDOR_MANIFEST)
    progress(f"installed {package.spec}: {', '.join(sorted(bodies))} in {dest}")
    return paths


def install_main(argv: list[str], module: str, install: Callable[[Path, str | None], object]) -> int:
    """``python -m <module> DEST``: an install without Django (an image build step). ``install(dest, registry)``
    (the registry from NPM_REGISTRY_URL, else npm's or npmjs.org); 2 for a wrong call, 1 for a FetchError."""
    if len(argv) != 1:
        print(f"usage: python -m {module} DEST_DIR", file=sys.stderr)
        return 2
    try:
        install(Path(argv[0]), os.environ.get("NPM_REGISTRY_URL") or None)
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
