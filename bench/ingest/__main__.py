"""Ingestion end to end: events posted over HTTP until they are in ClickHouse, next to the raw chDB
JSONEachRow insert rate of the same rows measured in the same run.

    .venv/bin/python -m bench.ingest [--events 1000000] [--clients 4] [--profile]

A throwaway VAR_DIR; `manage.py serve` in the embedded default (in-process worker, batches of
INGEST_BATCH_SIZE). Bodies (100 events, gzip, /batch/) are built before the clock starts, which starts once
/_readyz answers 200. End to end =
first request → spool empty (the worker deletes a batch only after ClickHouse took it); the count in
`events` is then checked. Raw = the same rows (processed by ingestion's pure functions) inserted into a
fresh chDB in 10,000-row JSONEachRow inserts, in a subprocess. --profile runs the server under py-spy.
"""

from __future__ import annotations

import argparse
import gzip
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson

from bench.server import ROOT, free_port, kill, manage, server_env, start_server, wait_healthy


def _bodies(token: str, n: int) -> list[bytes]:
    bodies, now = [], time.time()
    for start in range(0, n, 100):
        batch = [
            {
                "event": ("$pageview", "$autocapture", "signed_up", "purchase")[i % 4],
                "uuid": str(uuid.uuid4()),
                "distinct_id": f"user-{(start + i) % 5000}",
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - i)),
                "properties": {
                    "$session_id": f"s-{(start + i) % 900}",
                    "$current_url": "https://x.io/p",
                    "n": i,
                    "$browser": "Chrome",
                    "plan": "pro",
                },  # fmt: skip
            }
            for i in range(min(100, n - start))
        ]
        bodies.append(gzip.compress(orjson.dumps({"api_key": token, "batch": batch})))
    return bodies


def _requests(port: int, bodies: list[bytes]) -> list[bytes]:
    """Each body as a whole HTTP/1.1 request, built before the clock starts (the client's own CPU shares the
    server's two cores: http.client spent ~180 µs a request, a prebuilt request on a raw socket ~30)."""
    head = f"POST /batch/?compression=gzip HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: text/plain\r\n"
    return [f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body for body in bodies]


def _response(sock: socket.socket, buffer: bytearray) -> tuple[int, bool]:
    """Read one response off a keep-alive connection: its status and whether the server closes after it."""
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-response")
        buffer += chunk
    head = bytes(buffer[:end]).decode("latin-1").lower()
    length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0]) if "content-length:" in head else 0
    while len(buffer) < end + 4 + length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection mid-body")
        buffer += chunk
    del buffer[: end + 4 + length]
    return int(head.split(" ", 2)[1]), "connection: close" in head


def _post_all(port: int, requests: list[bytes], clients: int, progress: list[int]) -> None:
    def run(part: list[bytes]) -> None:
        sock, buffer = None, bytearray()
        for request in part:
            if sock is None:
                sock, buffer = socket.create_connection(("127.0.0.1", port), timeout=60), bytearray()
            sock.sendall(request)
            status, closing = _response(sock, buffer)
            assert status == 200, status
            if closing:
                sock.close()
                sock = None
            progress[0] += 100
        if sock is not None:
            sock.close()

    threads = [threading.Thread(target=run, args=(requests[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


RAW_SCRIPT = """
import sys, time, orjson
import django
django.setup()
from posthog_clone.clickhouse import get_client, table
from posthog_clone.clickhouse.migrations import migrate
from ingestion.envelope import loads
from ingestion.processing import normalize, to_row, rows_body
from persons.ingestion import ResolvedPerson
from datetime import UTC, datetime
migrate()
envs = loads(open(sys.argv[1], "rb").read())
person = ResolvedPerson("0190a6b1-0000-7000-8000-000000000001", {"plan": "pro"}, datetime.now(UTC))
now = datetime.now(UTC)
rows = [to_row(normalize(e), person, ingested_at=now) for e in envs]
bodies = [rows_body(rows[i:i + 10000]) for i in range(0, len(rows), 10000)]
client = get_client()
t = time.perf_counter()
for i, body in enumerate(bodies):
    client.insert_json_rows(table("events"), body, dedup_token=f"raw-{i}")
print(len(rows) / (time.perf_counter() - t))
"""


def _server_processes(pgid: int) -> Iterator[tuple[int, list[str], str, str]]:
    """(pid, /proc stat fields after the name, command line, /proc status) of serve (``pgid``) and its children:
    its process group, or a child in a session of its own (the engine)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            status = (stat.parent / "status").read_text()
        except OSError:
            continue
        if pgid in (int(fields[2]), int(fields[1])):
            yield int(stat.parent.name), fields, cmdline, status


def _cpu_by_process(pgid: int) -> dict[str, tuple[float, float, int]]:
    """User and system CPU seconds and the largest peak RSS (MB) of the server's processes, by role."""
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for pid, fields, cmdline, status in _server_processes(pgid):
        role = "engine (chDB, worker)" if "clickhouse_engine" in cmdline else "web (capture)"
        if pid == pgid:
            role = "serve (gunicorn master)"
        peak_mb = int(status.split("VmHWM:", 1)[1].split()[0]) // 1024 if "VmHWM:" in status else 0
        user, system, peak = out.get(role, (0.0, 0.0, 0))
        out[role] = (user + int(fields[11]) / tick, system + int(fields[12]) / tick, max(peak, peak_mb))
    return out


def _engine_pid(pgid: int) -> int | None:
    return next((pid for pid, _, cmdline, _ in _server_processes(pgid) if "clickhouse_engine" in cmdline), None)


class RssCurve:
    """The engine's RSS every half second (MiB): all of it, the anonymous part (heaps: Python's, glibc's,
    chDB's jemalloc) and the file-backed part (chDB's library pages: clean, shared with the page cache)."""

    FIELDS = ("VmRSS", "RssAnon", "RssFile")

    def __init__(self, pid: int | None, started: float):
        self.pid, self.started, self.samples = pid, started, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssCurve:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while self.pid is not None and not self._stop.wait(0.5):
            try:
                status = Path(f"/proc/{self.pid}/status").read_text()
            except OSError:
                return
            kb = {line.split(":")[0]: int(line.split()[1]) for line in status.splitlines() if line.endswith(" kB")}
            self.samples.append((time.perf_counter() - self.started, *(kb.get(f, 0) // 1024 for f in self.FIELDS)))

    def report(self) -> None:
        if not self.samples:
            print("engine RSS: no samples")
            return
        peak = max(self.samples, key=lambda s: s[1])
        print(
            f"engine RSS (MiB):  peak {peak[1]} at {peak[0]:.1f}s = {peak[2]} anonymous + {peak[3]} file-backed;"
            f" peak anonymous {max(s[2] for s in self.samples)}"
        )
        step = max(len(self.samples) // 12, 1)
        curve = "  ".join(f"{t:.0f}s {rss}/{anon}" for t, rss, anon, _ in self.samples[::step])
        print(f"engine RSS curve (s RSS/anonymous): {curve}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--profile", action="store_true", help="run the server under py-spy (flame graph)")
    parser.add_argument("--capture-only", action="store_true", help="no worker: measure capture alone")
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        port = free_port()
        env = server_env(var_dir, port, INGEST_WORKER_IN_PROCESS="false" if args.capture_only else "true")
        manage(env, "migrate", "--noinput", "-v", "0")
        token = orjson.loads(manage(env, "bootstrap", "--json"))["project_api_key"]
        print(f"building {args.events:,} events as {args.events // 100:,} gzip bodies…", flush=True)
        bodies = _bodies(token, args.events)
        requests = _requests(port, bodies)
        if args.profile:
            env["PYSPY_OUT"] = str(var_dir / "profile.txt")
        server = start_server(env)
        wait_healthy(server, port, path="/_readyz")  # the engine has migrated ClickHouse, as a balancer would wait
        spy = None
        if args.profile:
            out = str(ROOT / "var/bench-ingest-profile.txt")
            spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(server.pid),
                                    "--subprocesses", "--gil", "--format", "raw", "-o", out])  # fmt: skip
        from ingestion.spool import Spool

        spool = Spool(var_dir / "spool.sqlite3")
        progress = [0]
        started, client_cpu = time.perf_counter(), time.process_time()
        poster = threading.Thread(target=_post_all, args=(port, requests, args.clients, progress))
        with RssCurve(_engine_pid(server.pid), started) as rss:
            poster.start()
            while poster.is_alive():
                poster.join(timeout=2)  # (not sleep: the end of posting is timed to the millisecond)
                print(
                    f"  posted {progress[0]:,}  queued {spool.depth():,}  {time.perf_counter() - started:.1f}s",
                    flush=True,
                )
            posted_s = time.perf_counter() - started
            client_cpu = time.process_time() - client_cpu
            if args.capture_only:
                if spy is not None:
                    spy.send_signal(2)
                    spy.wait(timeout=60)
                kill(server, 15)
                rate = args.events / posted_s
                print(f"capture only: {posted_s:.1f}s  {rate:,.0f} events/s, {spool.depth():,} queued")
                return
            while spool.depth():
                time.sleep(0.1)
            e2e_s = time.perf_counter() - started
        cpu = _cpu_by_process(server.pid)
        if spy is not None:
            spy.send_signal(2)
            spy.wait(timeout=60)
        kill(server, 15)
        code = "from posthog_clone.clickhouse import get_client, table;print(get_client().query("
        code += "f'SELECT count() FROM {table(\"events\")}').rows[0][0])"
        count = manage(env, "shell", "-c", code).split()[-1]
        assert int(count) == args.events, f"{count} events in ClickHouse, {args.events} posted"
        print("measuring the raw chDB insert of the same rows…", flush=True)
        envelopes = var_dir / "envelopes.json"
        from ingestion.envelope import CapturedEvent, dumps

        envs = []
        for body in bodies:
            for ev in orjson.loads(gzip.decompress(body))["batch"]:
                envs.append(CapturedEvent(uuid=ev["uuid"], distinct_id=ev["distinct_id"], ip="127.0.0.1",
                    data=orjson.dumps(ev).decode(), now=ev["timestamp"], sent_at=None, token=token, team_id=1,
                    event=ev["event"], timestamp=ev["timestamp"]))  # fmt: skip
        envelopes.write_bytes(dumps(envs))
        raw_env = server_env(var_dir / "raw", port)
        raw = float(subprocess.run([sys.executable, "-c", RAW_SCRIPT, str(envelopes)], cwd=ROOT, env={**raw_env,
            "DJANGO_SETTINGS_MODULE": "posthog_clone.settings", "PYTHONPATH": str(ROOT)}, capture_output=True,
            text=True, check=True).stdout.strip().splitlines()[-1])  # fmt: skip
        e2e = args.events / e2e_s
        print(f"events:            {args.events:,} ({count} in ClickHouse)")
        print(f"posting done:      {posted_s:.1f}s  ({args.events / posted_s:,.0f} events/s accepted by capture)")
        print(f"end to end:        {e2e_s:.1f}s  {e2e:,.0f} events/s")
        print(f"raw chDB insert:   {raw:,.0f} events/s (same rows, JSONEachRow, 10k per insert)")
        print(f"ratio:             {e2e / raw:.3f}")
        print(f"CPU bench client:              {client_cpu:6.1f}s  {client_cpu * 1e6 / args.events:5.1f} µs/event")
        for role, (user, system, peak_mb) in sorted(cpu.items()):
            print(
                f"CPU {role + ':':<26} {user + system:6.1f}s  {(user + system) * 1e6 / args.events:5.1f} µs/event"
                f" ({system * 1e6 / args.events:.1f} system), peak RSS {peak_mb} MB"
            )
        rss.report()
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    os.chdir(ROOT)
    main()
