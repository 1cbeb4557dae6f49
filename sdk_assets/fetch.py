"""Fetch the pinned posthog-js tarball and unpack its ``dist/`` files (standard library only).

It runs at install time (``make serve`` calls ``manage.py fetch_sdk_assets``), so it needs nothing but Python:
``npm pack`` fetches the tarball when npm is on the PATH (its cache, proxy and registry settings then apply),
else ``urllib`` does. Either way the tarball's digest must equal the pinned integrity before a byte of it is
unpacked, and the release directory appears whole (unpacked beside it, then renamed) or not at all.

Layout under the destination: ``<package>-<version>/`` holding the flat ``dist/`` files (``*.js``, ``*.js.map``,
``integrity.json``), a ``.gz`` beside each (served to clients that accept gzip) and ``release.json`` (written
last: the release is installed iff it exists and names the pinned integrity).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from posthog_clone.npm_packages import FetchError, NpmPackage, check_integrity, download, install_main
from sdk_assets import release as pinned

__all__ = ["FetchError", "Release", "check_integrity", "fetch_release", "installed", "unpack"]

MANIFEST = "release.json"
DIST_PREFIX = "package/dist/"
SERVED_SUFFIXES = (".js", ".js.map")
EXTRA_FILES = ("integrity.json",)
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Release:
    package: str = pinned.PACKAGE
    version: str = pinned.VERSION
    integrity: str = pinned.INTEGRITY

    @property
    def dirname(self) -> str:
        return f"{self.package}-{self.version}"

    def tarball_url(self, registry: str) -> str:
        return f"{registry.rstrip('/')}/{self.package}/-/{self.package.rsplit('/', 1)[-1]}-{self.version}.tgz"


def installed(dest: Path, release: Release) -> bool:
    try:
        manifest = json.loads((dest / release.dirname / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return manifest.get("integrity") == release.integrity and manifest.get("version") == release.version


def unpack(data: bytes, dest: Path, release: Release, progress: Progress) -> Path:
    """Write the release's flat dist/ files (and a .gz of each) into ``dest/<dirname>``, atomically."""
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{release.dirname}.", dir=dest))
    try:
        files = _extract_dist(data, staging)
        if "array.js" not in files:
            raise FetchError(f"{release.dirname}: the tarball has no dist/array.js")
        progress(f"unpacked {len(files)} files ({sum(files.values()) / 1e6:.1f} MB); compressing")
        for name in files:
            body = (staging / name).read_bytes()
            (staging / f"{name}.gz").write_bytes(gzip.compress(body, compresslevel=9, mtime=0))
        manifest = {
            "package": release.package,
            "version": release.version,
            "integrity": release.integrity,
            "fetched_at": int(time.time()),
            "files": dict(sorted(files.items())),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1))
        final = dest / release.dirname
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        try:
            os.replace(staging, final)
        except OSError as exc:  # another fetch (a parallel `make test`) installed it first
            if not installed(dest, release):
                raise FetchError(f"could not install {final}: {exc}") from exc
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _extract_dist(data: bytes, staging: Path) -> dict[str, int]:
    """Regular files directly under package/dist/ with a served suffix: name → size. Nothing else is written
    (no subdirectories, links or other paths, so no member can land outside ``staging``)."""
    files: dict[str, int] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive:
                name = member.name.removeprefix("./")
                if not member.isfile() or not name.startswith(DIST_PREFIX):
                    continue
                base = name[len(DIST_PREFIX) :]
                if "/" in base or not (base.endswith(SERVED_SUFFIXES) or base in EXTRA_FILES):
                    continue
                source = archive.extractfile(member)
                if source is None:
                    continue
                body = source.read()
                (staging / base).write_bytes(body)
                files[base] = len(body)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise FetchError(f"the tarball could not be unpacked: {exc}") from exc
    return files


def fetch_release(
    dest: Path,
    release: Release | None = None,
    *,
    registry: str | None = None,
    use_npm: bool = True,
    force: bool = False,
    progress: Progress = print,
) -> Path:
    """Install ``release`` (default: the pinned one) under ``dest`` unless it already is; its directory."""
    release = release or Release()
    if installed(dest, release) and not force:
        progress(f"{release.dirname} already installed in {dest / release.dirname}")
        return dest / release.dirname
    package = NpmPackage(release.package, release.version, release.integrity)
    data = download(package, registry=registry, use_npm=use_npm, progress=progress)
    final = unpack(data, dest, release, progress)
    progress(f"installed {release.dirname} in {final}")
    return final


def main(argv: list[str] | None = None) -> int:
    """``python -m sdk_assets.fetch DEST``: the same fetch without Django (e.g. in an image build step)."""
    return install_main(
        sys.argv[1:] if argv is None else argv,
        "sdk_assets.fetch",
        lambda dest, registry: fetch_release(dest, registry=registry),
    )


if __name__ == "__main__":
    raise SystemExit(main())
