"""Capture throughput and open-loop latency against the real server, per HTTP server, next to the same
server's do-nothing endpoint.

    .venv/bin/python -m bench.capture [--duration 10] [--connections 16] [--servers granian,gunicorn]
                                      [--rate 1000] [--port 8766]

Sets up a throwaway VAR_DIR, migrates, creates the demo project, and for each server (`WEB_SERVER`) starts
`manage.py serve` (embedded mode, ingestion worker off so only capture is measured, spool fsync on as in
production). Closed loop, with `wrk` (`apt-get install -y wrk`), for each scenario:
  - GET /_health                       the do-nothing baseline of the same server
  - POST /i/v0/e/  one JSON event      (posthog-js style, one event per request)
  - POST /batch/   100 events, gzip    (posthog-python/node style, Content-Encoding: gzip)
Open loop, with k6's constant-arrival-rate executor (`pip install -e '.[bench]'`): one JSON event per request
at a constant --rate requests/s whatever the server's latency (requests start on schedule; a request that
finds no free virtual user is counted as dropped), latency percentiles from k6's summary.
Prints requests/s and events/s (events counted in the spool over the run, not assumed), the ratio to /_health,
and p50/p99/max at the fixed rate.
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

K6 = """
import http from 'k6/http';
const body = open('{body}');
export const options = {{
  discardResponseBodies: true,
  summaryTrendStats: ['p(50)', 'p(90)', 'p(99)', 'max'],
  scenarios: {{ open: {{ executor: 'constant-arrival-rate', rate: {rate}, timeUnit: '1s', duration: '{duration}s',
                        preAllocatedVUs: 200, maxVUs: 400 }} }},
}};
export default function () {{
  http.post('{url}', body, {{ headers: {{ 'Content-Type': 'application/json' }} }});
}}
"""


def _env(var_dir: Path, port: int, server: str) -> dict[str, str]:
    return server_env(
        var_dir,
        port,
        SECRET_KEY="bench-secret-key-not-for-production",
        DEBUG="false",
        INGEST_WORKER_IN_PROCESS="false",
        CLICKHOUSE_MIGRATE_ON_START="false",
        WEB_SERVER=server,
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


def _k6(url: str, body: Path, rate: int, duration: int, work: Path) -> dict:
    """k6 at a constant arrival rate: {p50, p99, max (ms), requests, failed, dropped}."""
    script, summary = work / "open.js", work / "k6-summary.json"
    script.write_text(K6.format(body=body, rate=rate, duration=duration, url=url))
    subprocess.run(
        [_k6_binary(), "run", "--quiet", "--no-color", "--summary-export", str(summary), str(script)],
        capture_output=True,
        check=True,
    )
    metrics = json.loads(summary.read_text())["metrics"]
    waiting = metrics["http_req_duration"]
    return {
        "p50": waiting["p(50)"],
        "p99": waiting["p(99)"],
        "max": waiting["max"],
        "requests": int(metrics["http_reqs"]["count"]),
        "failed": int(metrics["http_req_failed"].get("passes", 0)),
        "dropped": int(metrics.get("dropped_iterations", {}).get("count", 0)),
    }


def _k6_binary() -> str:
    local = Path(sys.executable).parent / "k6"
    return str(local) if local.exists() else (shutil.which("k6") or "")


def _bodies(var_dir: Path, token: str) -> tuple[Path, Path]:
    single = var_dir / "single.json"
    single.write_bytes(json.dumps({**_event(0), "api_key": token}).encode())
    batch = var_dir / "batch.json.gz"
    raw_batch = json.dumps({"api_key": token, "batch": [_event(i) for i in range(100)]}).encode()
    batch.write_bytes(gzip.compress(raw_batch))
    return single, batch


def _scenarios(single: Path, batch: Path) -> list[tuple]:
    json_header = 'wrk.headers["Content-Type"] = "application/json"'
    gzip_headers = f'{json_header}\nwrk.headers["Content-Encoding"] = "gzip"'
    return [
        ("GET /_health (do-nothing)", "/_health", None, "GET", "", 0),
        ("POST /i/v0/e/ 1 JSON event", "/i/v0/e/", single, "POST", json_header, 1),
        ("POST /batch/ 100 events gzip", "/batch/", batch, "POST", gzip_headers, 100),
    ]  # fmt: skip


def _one_server(server: str, args: argparse.Namespace, var_dir: Path, single: Path, batch: Path) -> dict:
    env = _env(var_dir, args.port, server)
    print(f"[{server}] starting manage.py serve on :{args.port} (worker off, spool fsync on)…", flush=True)
    proc = start_server(env)
    closed, open_loop = [], None
    try:
        for step, (name, path, body, method, headers, per_request) in enumerate(_scenarios(single, batch), start=1):
            script = var_dir / f"s{step}.lua"
            script.write_text(LUA.format(body=body or "/nonexistent", method=method, headers=headers))
            print(f"[{server}] {name}: wrk {args.duration}s, {args.connections} connections…", flush=True)
            before = _spool_depth(var_dir)
            rps, total, bad = _wrk(f"http://127.0.0.1:{args.port}{path}", script, args.duration, args.connections)
            queued = _spool_depth(var_dir) - before
            closed.append((name, rps, total, bad, queued, per_request))
            print(f"    {rps:,.0f} requests/s, {total} requests, {bad} non-2xx, {queued} events queued", flush=True)
        if args.rate and _k6_binary():
            print(f"[{server}] open loop: {args.rate} requests/s for {args.duration}s (k6)…", flush=True)
            open_loop = _k6(f"http://127.0.0.1:{args.port}/i/v0/e/", single, args.rate, args.duration, var_dir)
    finally:
        kill(proc)
    return {"closed": closed, "open": open_loop}


def _report(server: str, result: dict, args: argparse.Namespace) -> None:
    closed = result["closed"]
    baseline = closed[0][1]
    print(f"\n{server}: scenario                 requests/s    events/s   vs /_health")
    for name, rps, total, bad, queued, per_request in closed:
        events = f"{queued / args.duration:>10,.0f}" if per_request else f"{'-':>10}"
        flag = f"  ({bad} non-2xx!)" if bad else ""
        print(f"  {name:<32} {rps:>10,.0f}  {events}   {rps / baseline:>8.2f}x{flag}")
        if per_request and queued < (total - bad) * per_request:
            print(f"    LOST: {queued} events in the spool for {total - bad} acknowledged requests × {per_request}")
    if result["open"]:
        o = result["open"]
        print(
            f"  open loop {args.rate}/s, 1 event: p50 {o['p50']:.1f} ms  p99 {o['p99']:.1f} ms  max {o['max']:.1f} ms"
            f"  ({o['requests']} requests, {o['failed']} failed, {o['dropped']} dropped)"
        )
    elif args.rate:
        print("  open loop skipped: k6 is not installed (pip install -e '.[bench]')")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--servers", default="granian,gunicorn", help="WEB_SERVER values to compare")
    parser.add_argument("--rate", type=int, default=1000, help="open-loop requests/s (0: skip)")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-capture-") as tmp:
        var_dir = Path(tmp)
        print("migrating and creating the project…", flush=True)
        env = _env(var_dir, args.port, "granian")
        manage(env, "migrate", "--noinput", "-v", "0")
        token = json.loads(manage(env, "bootstrap", "--json"))["project_api_key"]
        single, batch = _bodies(var_dir, token)
        for server in args.servers.split(","):
            results[server] = _one_server(server, args, var_dir, single, batch)
    for server, result in results.items():
        _report(server, result, args)


if __name__ == "__main__":
    main()
