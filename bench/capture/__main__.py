"""Capture throughput against the real server, next to the same server's do-nothing endpoint.

    .venv/bin/python -m bench.capture [--duration 10] [--connections 16] [--port 8766]

Sets up a throwaway VAR_DIR, migrates, creates the demo project, starts `manage.py serve` (gunicorn,
embedded mode, ingestion worker off so only capture is measured, spool fsync on as in production), and
drives it with `wrk` (a separate process; `apt-get install -y wrk`) for each scenario:
  - GET /_health                       the do-nothing baseline of the same server
  - POST /i/v0/e/  one JSON event      (posthog-js style, one event per request)
  - POST /batch/   100 events, gzip    (posthog-python/node style, Content-Encoding: gzip)
Prints requests/s and events/s (events counted in the spool over the run, not assumed) and the ratio to /_health.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from bench.server import ROOT, kill, manage, server_env, start_server

LUA = """
local f = io.open("{body}", "rb")
wrk.method = "{method}"
wrk.body = f and f:read("*a") or nil
if f then f:close() end
{headers}
"""


def _env(var_dir: Path, port: int) -> dict[str, str]:
    return server_env(
        var_dir,
        port,
        SECRET_KEY="bench-secret-key-not-for-production",
        DEBUG="false",
        INGEST_WORKER_IN_PROCESS="false",
        CLICKHOUSE_MIGRATE_ON_START="false",
    )


def _event(i: int) -> dict:
    return {
        "event": "$pageview",
        "distinct_id": f"user-{i % 1000}",
        "uuid": str(uuid.uuid4()),
        "properties": {"$current_url": f"https://example.com/page/{i}", "$lib": "bench", "n": i},
        "timestamp": "2026-11-24T12:00:00.000Z",
    }


def _spool_depth(var_dir: Path) -> int:
    sys.path.insert(0, str(ROOT))
    from ingestion.spool import Spool

    return Spool(var_dir / "spool.sqlite3").depth()


def _wrk(url: str, script: Path, duration: int, connections: int) -> tuple[float, int, int]:
    """(requests/s, total requests, non-2xx responses)."""
    run = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", run.stdout).group(1))
    total = int(re.search(r"(\d+) requests in", run.stdout).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", run.stdout)
    errors = re.search(r"Socket errors:.*", run.stdout)
    if errors:
        print(f"    wrk: {errors.group(0)}", flush=True)
    return rps, total, int(bad.group(1)) if bad else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    with tempfile.TemporaryDirectory(prefix="bench-capture-") as tmp:
        var_dir = Path(tmp)
        env = _env(var_dir, args.port)
        print("[1/5] migrating and creating the project…", flush=True)
        manage(env, "migrate", "--noinput", "-v", "0")
        token = json.loads(manage(env, "bootstrap", "--json"))["project_api_key"]

        single = var_dir / "single.json"
        single.write_bytes(json.dumps({**_event(0), "api_key": token}).encode())
        batch = var_dir / "batch.json.gz"
        raw_batch = json.dumps({"api_key": token, "batch": [_event(i) for i in range(100)]}).encode()
        batch.write_bytes(gzip.compress(raw_batch))
        scenarios = [
            ("GET /_health (do-nothing)", "/_health", None, "GET", "", 0),
            (
                "POST /i/v0/e/ 1 JSON event",
                "/i/v0/e/",
                single,
                "POST",
                'wrk.headers["Content-Type"] = "application/json"',
                1,
            ),
            (
                "POST /batch/ 100 events gzip",
                "/batch/",
                batch,
                "POST",
                'wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Content-Encoding"] = "gzip"',
                100,
            ),
        ]
        print(f"[2/5] starting manage.py serve on :{args.port} (worker off, spool fsync on)…", flush=True)
        proc = start_server(env)
        results = []
        try:
            for step, (name, path, body, method, headers, per_request) in enumerate(scenarios, start=3):
                script = var_dir / f"s{step}.lua"
                script.write_text(LUA.format(body=body or "/nonexistent", method=method, headers=headers))
                print(f"[{step}/5] {name}: wrk {args.duration}s, {args.connections} connections…", flush=True)
                before = _spool_depth(var_dir)
                rps, total, bad = _wrk(f"http://127.0.0.1:{args.port}{path}", script, args.duration, args.connections)
                queued = _spool_depth(var_dir) - before
                results.append((name, rps, total, bad, queued, per_request))
                print(f"    {rps:,.0f} requests/s, {total} requests, {bad} non-2xx, {queued} events queued", flush=True)
        finally:
            kill(proc)

    baseline = results[0][1]
    print("\nscenario                         requests/s    events/s   vs /_health")
    for name, rps, total, bad, queued, per_request in results:
        events = f"{queued / args.duration:>10,.0f}" if per_request else f"{'-':>10}"
        print(f"{name:<32} {rps:>10,.0f}  {events}   {rps / baseline:>8.2f}x" + (f"  ({bad} non-2xx!)" if bad else ""))
        if per_request and queued < (total - bad) * per_request:
            print(f"    LOST: {queued} events in the spool for {total - bad} acknowledged requests × {per_request}")


if __name__ == "__main__":
    main()
