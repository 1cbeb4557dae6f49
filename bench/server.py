"""Run `manage.py` commands and the real server (`manage.py serve`) as subprocesses in their own VAR_DIR.

Tooling, not product and not a benchmark: the benchmarks here and the real-server tests in tests/ both start
servers with it (tests may import bench/; bench/ never imports tests/)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]  # the repository root, where manage.py is


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(var_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {**os.environ, "VAR_DIR": str(var_dir), "SECRET_KEY": "x", "PORT": str(port), **extra}
    for name in ("DJANGO_SETTINGS_MODULE", "SPOOL_PATH", "CELERY_BROKER_URL", "DATABASE_URL", "CLICKHOUSE_URL",
                 "CACHE_URL", "PROMETHEUS_MULTIPROC_DIR"):  # fmt: skip
        if name not in extra:
            env.pop(name, None)
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 300) -> str:
    run = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


def clickhouse_rows(env: dict[str, str], sql: str, out: Path) -> list[list]:
    """Rows of one query against the chDB dir of ``env`` (``EVENTS`` names the events table), read in a
    subprocess (a process holds one chDB session) and handed back through a JSON file."""
    code = (
        "import orjson, pathlib\n"
        "from posthog_clone.clickhouse import get_client, table\n"
        f"rows = get_client().query({sql!r}.replace('EVENTS', table('events'))).rows\n"
        f"pathlib.Path({str(out)!r}).write_bytes(orjson.dumps([list(r) for r in rows]))"
    )
    manage(env, "shell", "-c", code)
    return orjson.loads(out.read_bytes())


def start_server(env: dict[str, str]) -> subprocess.Popen:
    """`manage.py serve` in ``env``; its output is appended to ``VAR_DIR/server.log``."""
    with (Path(env["VAR_DIR"]) / "server.log").open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return wait_healthy(proc, env["PORT"])


def wait_healthy(
    proc: subprocess.Popen, port: str | int, timeout: float = 60, *, path: str = "/_health"
) -> subprocess.Popen:
    """Return ``proc`` once ``path`` answers 200 on ``port`` (/_readyz: its dependencies too); kill its process
    group and fail if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("server did not start")


def kill(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    proc.wait(timeout=30)


def post_batch(port: str | int, body: bytes) -> int:
    """POST a gzip-compressed /batch/ body to the server on ``port``; its HTTP status."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/batch/?compression=gzip", data=body, headers={"Content-Type": "text/plain"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
