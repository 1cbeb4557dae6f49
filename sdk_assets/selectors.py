"""Read the installed posthog-js release's files for /static/ (kept in memory once read: a few files, each
fetched on most page loads of the sites using this server)."""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from sdk_assets.fetch import EXTRA_FILES, MANIFEST, SERVED_SUFFIXES, Release, installed

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
CONTENT_TYPES = {".js": "text/javascript; charset=utf-8", ".map": "application/json", ".json": "application/json"}


class ReleaseMissing(Exception):
    """The pinned release is not installed (``manage.py fetch_sdk_assets`` has not run, or failed)."""


@dataclass(frozen=True)
class Asset:
    name: str
    body: bytes
    gzip_body: bytes | None
    etag: str
    content_type: str


_cache: dict[Path, tuple[tuple[int, int], Asset]] = {}
_lock = threading.Lock()


def release_dir() -> Path:
    return Path(settings.SDK_ASSETS_DIR) / Release().dirname


def asset_get(name: str) -> Asset | None:
    """The file ``name`` of the pinned release, or None if the release has no such file.

    Raises ReleaseMissing when the release itself is not installed."""
    directory = release_dir()
    if not _NAME.fullmatch(name) or not (name.endswith(SERVED_SUFFIXES) or name in EXTRA_FILES) or name == MANIFEST:
        return None
    path = directory / name
    try:
        stat = path.stat()
    except OSError:
        if not installed(Path(settings.SDK_ASSETS_DIR), Release()):
            raise ReleaseMissing(str(directory)) from None
        return None
    key = (stat.st_mtime_ns, stat.st_size)
    hit = _cache.get(path)
    if hit is not None and hit[0] == key:
        return hit[1]
    asset = _load(path, name)
    with _lock:
        _cache[path] = (key, asset)
    return asset


def _load(path: Path, name: str) -> Asset:
    body = path.read_bytes()
    try:
        gzip_body: bytes | None = path.with_name(f"{name}.gz").read_bytes()
    except OSError:
        gzip_body = None
    digest = hashlib.sha256(body).hexdigest()[:32]
    return Asset(
        name=name,
        body=body,
        gzip_body=gzip_body,
        etag=f'W/"{digest}"',
        content_type=CONTENT_TYPES[Path(name).suffix],
    )


def asset_cache_clear() -> None:
    with _lock:
        _cache.clear()


def release_status() -> dict[str, object]:
    """For /_readyz: always ok (the API works without these files), with whether they are installed."""
    release = Release()
    return {
        "ok": True,
        "release": release.dirname,
        "installed": installed(Path(settings.SDK_ASSETS_DIR), release),
    }
