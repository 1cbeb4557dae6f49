"""The README's first command: `make serve` starts the embedded server and prints working keys."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout}s")


@pytest.mark.slow
@pytest.mark.own_processes
def test_make_serve_prints_keys_and_serves_whoami(tmp_path):
    port = free_port()
    env = {**os.environ, "VAR_DIR": str(tmp_path), "PORT": str(port)}
    for name in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "INGEST_WORKER_IN_PROCESS"):  # the test settings' own
        env.pop(name, None)
    proc = subprocess.Popen(
        ["make", "-s", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: list[str] = []
    try:
        key = None
        deadline = time.monotonic() + 300
        while key is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            output.append(line)
            match = re.search(r"Personal API key:\s+(phx_\w+)", line)
            key = match.group(1) if match else None
        assert key, "".join(output)
        wait_for(f"http://127.0.0.1:{port}/_health")
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/users/@me/", headers={"Authorization": f"Bearer {key}"}
        )
        with urllib.request.urlopen(req, timeout=10) as res:
            assert res.status == 200
            body = json.loads(res.read())
        printed_token = re.search(r"Project API key:\s+(phc_\w+)", "".join(output)).group(1)
        assert body["team"]["api_token"] == printed_token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
