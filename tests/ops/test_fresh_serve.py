"""The README's first command on a fresh VAR_DIR: the commands `make serve` runs (read from the Makefile)
print no warning of any kind, and the server they start serves the API reference with its static files."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bench.server import ROOT, free_port, kill, wait_healthy

pytestmark = [pytest.mark.slow, pytest.mark.own_processes]

# A Python warning ("UserWarning: No directory at: …", DeprecationWarning, …), a system check's ("WARNINGS:",
# "models.W047"), or a warning logged by the server.
WARNING = re.compile(r"warning|\b[A-Za-z_.]*\.W\d{3}\b|No directory at", re.IGNORECASE)


def serve_recipe() -> list[list[str]]:
    """The commands of the Makefile's `serve` target, ``$(PY)`` being this interpreter."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("serve:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(shlex.split(line.strip().replace("$(PY)", sys.executable)))
    assert recipe and all(command[0] == sys.executable for command in recipe), recipe
    return recipe


def readme_env(var_dir: Path, port: int) -> dict[str, str]:
    """A user's shell: the defaults, nothing the test settings put in this process's environment."""
    secret = var_dir / "secret_key"  # what the Makefile's var/secret_key target makes
    secret.write_text(secrets.token_urlsafe(50))
    env = {**os.environ, "VAR_DIR": str(var_dir), "PORT": str(port), "SECRET_KEY_FILE": str(secret)}
    for name in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "INGEST_WORKER_IN_PROCESS", "SPOOL_PATH", "DATABASE_URL",
                 "CLICKHOUSE_URL", "CELERY_BROKER_URL", "CACHE_URL", "PYTHONWARNINGS"):  # fmt: skip
        env.pop(name, None)
    return env


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read()


def test_make_serve_on_a_fresh_var_dir_prints_no_warning_and_serves_swagger_ui(tmp_path):
    port = free_port()
    env = readme_env(tmp_path, port)
    *setup, serve = serve_recipe()
    assert serve[1:] == ["manage.py", "serve"]
    output = []
    for command in setup:
        run = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert run.returncode == 0, run.stdout
        output.append(run.stdout)
    assert "Personal API key:" in output[-1]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(serve, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(proc, port, path="/_readyz")
        status, page = _get(f"http://127.0.0.1:{port}/api/schema/swagger-ui/")
        assert status == 200
        assets = re.findall(r"""["'](/static/[^"']+\.(?:js|css))["']""", page.decode())
        assert assets, page[:2000]
        for asset in assets:  # the sidecar's Swagger UI bundle and styles, with no collectstatic run
            status, body = _get(f"http://127.0.0.1:{port}{asset}")
            assert status == 200 and body, asset
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        kill(proc)
    output.append(log.read_text())
    everything = "".join(output)
    assert "Listening at" in everything and "clickhouse engine ready" in everything, everything
    assert not WARNING.findall(everything), everything
