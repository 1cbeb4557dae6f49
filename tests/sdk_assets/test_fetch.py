"""Fetching the pinned posthog-js tarball: checked against its sha512 before anything is unpacked, installed
whole or not at all, only dist/'s flat files kept. A local registry stands in for npmjs.org."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from sdk_assets.fetch import FetchError, Release, check_integrity, fetch_release, installed
from tests.sdk_assets.conftest import DIST_FILES, LocalRegistry, make_tarball, sri

TEST_RELEASE = Release(package="posthog-js", version="9.9.9", integrity="")
NEEDS_NPM = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")


def _release(tarball: bytes) -> Release:
    return Release(package=TEST_RELEASE.package, version=TEST_RELEASE.version, integrity=sri(tarball))


def _quiet(_: str) -> None:
    pass


@pytest.fixture
def npm_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("npm_config_cache", str(tmp_path / "npm-cache"))
    monkeypatch.setenv("npm_config_update_notifier", "false")


@pytest.mark.parametrize("use_npm", [False, pytest.param(True, marks=NEEDS_NPM)], ids=["python", "npm"])
def test_installs_the_dist_files(registry: LocalRegistry, tmp_path: Path, use_npm: bool, npm_cache: None) -> None:
    tarball = make_tarball()
    release = _release(tarball)
    registry.publish(release, tarball)
    lines: list[str] = []
    directory = fetch_release(tmp_path / "dest", release, registry=registry.url, use_npm=use_npm, progress=lines.append)

    assert directory == tmp_path / "dest" / "posthog-js-9.9.9"
    served = {path.name for path in directory.iterdir()}
    assert served == set(DIST_FILES) | {f"{name}.gz" for name in DIST_FILES} | {"release.json"}
    for name, body in DIST_FILES.items():
        assert (directory / name).read_bytes() == body
        assert gzip.decompress((directory / f"{name}.gz").read_bytes()) == body
    manifest = json.loads((directory / "release.json").read_text())
    assert (manifest["version"], manifest["integrity"]) == ("9.9.9", release.integrity)
    assert manifest["files"] == {name: len(body) for name, body in sorted(DIST_FILES.items())}
    assert not (tmp_path / "escape.js").exists() and not (tmp_path / "dest" / "escape.js").exists()
    assert installed(tmp_path / "dest", release)
    assert any("checksum ok" in line for line in lines) and any("installed" in line for line in lines)


@pytest.mark.parametrize("use_npm", [False, pytest.param(True, marks=NEEDS_NPM)], ids=["python", "npm"])
def test_checksum_mismatch_is_refused(registry: LocalRegistry, tmp_path: Path, use_npm: bool, npm_cache: None) -> None:
    """The registry serves other bytes than the pinned ones (its packument agreeing with them, as a
    compromised or wrong registry would): nothing is installed."""
    pinned = _release(make_tarball())
    tampered = make_tarball({**DIST_FILES, "array.js": b"/* tampered */"})
    registry.publish(pinned, tampered)
    with pytest.raises(FetchError, match="checksum mismatch"):
        fetch_release(tmp_path / "dest", pinned, registry=registry.url, use_npm=use_npm, progress=_quiet)
    assert not (tmp_path / "dest").exists() or list((tmp_path / "dest").iterdir()) == []


def test_installed_release_is_not_fetched_again(registry: LocalRegistry, tmp_path: Path) -> None:
    tarball = make_tarball()
    release = _release(tarball)
    registry.publish(release, tarball)
    fetch_release(tmp_path, release, registry=registry.url, use_npm=False, progress=_quiet)
    downloads = len(registry.requests)
    fetch_release(tmp_path, release, registry=registry.url, use_npm=False, progress=_quiet)
    assert len(registry.requests) == downloads
    fetch_release(tmp_path, release, registry=registry.url, use_npm=False, force=True, progress=_quiet)
    assert len(registry.requests) == downloads + 1
    # a different pin (an upgrade) is not "installed" by the old release's directory
    assert not installed(tmp_path, Release(package="posthog-js", version="9.9.9", integrity=sri(b"other")))


def test_missing_version_and_garbage_tarball(registry: LocalRegistry, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="download of .* failed: HTTP Error 404"):
        fetch_release(tmp_path, _release(b"x"), registry=registry.url, use_npm=False, progress=_quiet)
    garbage = b"not a tarball at all"
    registry.publish(_release(garbage), garbage)
    with pytest.raises(FetchError, match="could not be unpacked"):
        fetch_release(tmp_path, _release(garbage), registry=registry.url, use_npm=False, progress=_quiet)
    without_array = make_tarball({"surveys.js": b"x"})
    registry.publish(_release(without_array), without_array)
    with pytest.raises(FetchError, match="no dist/array.js"):
        fetch_release(tmp_path, _release(without_array), registry=registry.url, use_npm=False, progress=_quiet)
    assert [p.name for p in tmp_path.iterdir()] == []


def test_integrity_strings() -> None:
    check_integrity(b"abc", sri(b"abc"), "x")
    with pytest.raises(FetchError, match="unsupported integrity"):
        check_integrity(b"abc", "md5-kAFQmDzST7DWlj99KOF/cg==", "x")
    with pytest.raises(FetchError, match="checksum mismatch for x"):
        check_integrity(b"abd", sri(b"abc"), "x")


def test_command_prints_progress_and_fails_clearly(
    registry: LocalRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    tarball = make_tarball()
    release = _release(tarball)
    registry.publish(release, tarball)
    monkeypatch.setattr("sdk_assets.management.commands.fetch_sdk_assets.Release", lambda: release)
    call_command("fetch_sdk_assets", "--no-npm", "--registry", registry.url, "--dest", str(tmp_path))
    out = capsys.readouterr().out
    assert "posthog-js 9.9.9" in out and "downloading" in out and "checksum ok" in out and "installed" in out
    call_command("fetch_sdk_assets", "--no-npm", "--registry", registry.url, "--dest", str(tmp_path))
    assert "already installed" in capsys.readouterr().out

    wrong = Release(package="posthog-js", version="9.9.9", integrity=sri(b"something else"))
    monkeypatch.setattr("sdk_assets.management.commands.fetch_sdk_assets.Release", lambda: wrong)
    with pytest.raises(CommandError, match="posthog-js assets not installed: checksum mismatch"):
        call_command("fetch_sdk_assets", "--no-npm", "--force", "--registry", registry.url, "--dest", str(tmp_path))


def test_module_entry_point_without_django(monkeypatch: pytest.MonkeyPatch, capsys: Any, tmp_path: Path) -> None:
    """`python -m sdk_assets.fetch DEST` (the image build step): usage, and a failure as exit status 1."""
    from sdk_assets import fetch

    assert fetch.main([]) == 2

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise FetchError("checksum mismatch for x")

    monkeypatch.setattr(fetch, "fetch_release", refuse)
    assert fetch.main([str(tmp_path)]) == 1
    assert "error: checksum mismatch for x" in capsys.readouterr().err
