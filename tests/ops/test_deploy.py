"""The self-hosting files agree with the code: compose validates, services match the README, every
environment variable the code reads is documented in .env.example, images are pinned."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ["posthog_clone", *settings.PROJECT_APPS]
ENV_READ = re.compile(
    r"""(?:env_(?:str|bool|int|list|rate|secret|server_settings|jemalloc_conf)\(\s*|os\.environ\.get\(\s*|os\.environ\[\s*)["']([A-Z][A-Z0-9_]+)["']"""
)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_validates():
    if shutil.which("docker-compose") is None:
        if IN_CI:
            pytest.fail("docker-compose is required under CI")
        pytest.skip("docker-compose not installed")
    result = subprocess.run(
        ["docker-compose", "--env-file", ".env.example", "-f", "docker-compose.yml", "config", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_readme_lists_exactly_the_compose_services():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Compose services", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z]+)` \|", section, flags=re.M))
    assert listed == set(compose()["services"])


def test_every_variable_the_code_reads_is_in_env_example():
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))
    read: set[str] = set()
    for folder in SOURCES:
        for path in (ROOT / folder).rglob("*.py"):
            read |= set(ENV_READ.findall(path.read_text()))
    read -= {"DJANGO_SETTINGS_MODULE"}
    assert read, "the scan found no environment reads"
    assert read - documented == set()


def test_images_are_pinned():
    images = {
        name: svc["image"] for name, svc in compose()["services"].items() if "image" in svc and "build" not in svc
    }
    assert images["clickhouse"].startswith("clickhouse/clickhouse-server:26.9")
    for name, image in images.items():
        tag = image.rsplit(":", 1)[-1]
        assert ":" in image and tag != "latest" and re.search(r"\d", tag), f"{name} image {image} is not pinned"


def test_redis_keeps_an_append_only_file():
    assert "--appendonly" in compose()["services"]["redis"]["command"]


def test_dockerfile_runs_as_non_root_without_build_tools():
    text = (ROOT / "Dockerfile").read_text()
    final = text.rsplit("FROM ", 1)[1]
    assert final.startswith("python:3.11-slim")
    assert "USER app" in final
    assert not re.search(r"apt-get install.*(gcc|build-essential)", final)


def test_the_image_holds_every_app():
    """The build stage copies each app the settings install (a missing one builds, then fails at start)."""
    copied = set(re.findall(r"^COPY (\w+) \1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert copied >= set(SOURCES), f"not copied into the image: {sorted(set(SOURCES) - copied)}"
