"""The real server's processes for the fault tests: who is serve's engine and who its web processes, events
streamed at it from threads that record what was acknowledged, and the events ClickHouse holds at the end."""

from __future__ import annotations

import gzip
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

import orjson

from bench.server import clickhouse_rows, manage, server_env, start_server, wait_healthy

FAULTS_PORTS = range(18200, 18300)  # where these tests' servers and proxies listen, apart from other suites'


def free_port() -> int:
    """A port of FAULTS_PORTS that nothing listens on now."""
    for port in FAULTS_PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in FAULTS_PORTS")


def children(pid: int) -> list[int]:
    """``pid``'s child processes, whichever of its threads started them (serve's engine supervisor thread
    starts the engine)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            continue
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def engine_pid(serve: subprocess.Popen) -> int | None:
    engines = [pid for pid in children(serve.pid) if "clickhouse_engine" in cmdline(pid)]
    return engines[0] if engines else None


def web_pids(serve: subprocess.Popen) -> list[int]:
    return [pid for pid in children(serve.pid) if "clickhouse_engine" not in cmdline(pid)]


def embedded_server(var_dir: Path, port: int, **extra: str) -> tuple[subprocess.Popen, dict[str, str], str]:
    """`manage.py serve` as the README starts it (the embedded default, the engine draining the spool):
    the process, its environment and the project API key."""
    env = server_env(var_dir, port, **{"INGEST_WORKER_IN_PROCESS": "true", **extra})
    manage(env, "migrate", "--noinput", "-v", "0")
    token = orjson.loads(manage(env, "bootstrap", "--json"))["project_api_key"]
    proc = start_server(env)
    wait_healthy(proc, port, path="/_readyz")
    return proc, env, token


@dataclass
class Answer:
    status: int
    headers: Message | dict[str, str]  # the HTTP message's headers: names in any case (granian sends lower case)
    body: bytes
    seconds: float


def post(port: int, path: str, payload: dict, *, timeout: float = 30) -> Answer:
    """POST ``payload`` (gzip JSON) to ``path``; the answer, or status 0 when the connection failed."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}?compression=gzip", data=gzip.compress(orjson.dumps(payload))
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, response.headers, response.read(), time.monotonic() - started)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read(), time.monotonic() - started)
    except OSError:
        return Answer(0, {}, b"", time.monotonic() - started)


def batch(token: str, n: int, event: str = "fault") -> tuple[dict, list[str]]:
    uuids = [str(uuid.uuid4()) for _ in range(n)]
    return {"api_key": token, "batch": [{"event": event, "distinct_id": f"d{u[:2]}", "uuid": u} for u in uuids]}, uuids


@dataclass
class Stream:
    """Threads posting /batch/ requests until stopped, keeping the uuids of every 200 and of every refusal."""

    port: int
    token: str
    threads: int = 2
    events_per_request: int = 50
    pause: float = 0.0
    acked: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _running: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Stream:
        self._running = [threading.Thread(target=self._send, daemon=True) for _ in range(self.threads)]
        for thread in self._running:
            thread.start()
        return self

    def _send(self) -> None:
        while not self._stop.is_set():
            payload, uuids = batch(self.token, self.events_per_request)
            answer = post(self.port, "/batch/", payload)
            with self._lock:
                self.statuses.append(answer.status)
                (self.acked if answer.status == 200 else self.refused).extend(uuids)
            if self.pause:
                time.sleep(self.pause)

    def wait_for(self, acked: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < acked:
            assert time.monotonic() < deadline, f"only {len(self.acked)} of {acked} events acknowledged"
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._running:
            thread.join(timeout=60)


def stored_events(env: dict[str, str], tmp: Path) -> tuple[int, set[str]]:
    """(rows, distinct uuids) of the events table; read once nothing else holds the chDB directory."""
    [[count, _unique]] = clickhouse_rows(env, "SELECT count(), uniqExact(uuid) FROM EVENTS", tmp / "count.json")
    uuids = {u for [u] in clickhouse_rows(env, "SELECT toString(uuid) FROM EVENTS", tmp / "uuids.json")}
    return count, uuids


def wait_until(condition, timeout: float, message: str = "", interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, message or "timed out"
        time.sleep(interval)
