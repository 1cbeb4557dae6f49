"""`python -m bench.query --server …`: the /query/ path through the real server (web process → engine socket →
chDB) next to the raw chDB time of the same compiled SQL and the in-process view, all measured in one run.

The in-process run (``bench.query`` without ``--server``, in a subprocess: chDB allows one process per
directory) loads or reuses the dataset, times each HogQL query raw on chDB and through the in-process view, and
writes its numbers, the team and a personal API key to a JSON file. Then `manage.py serve` (granian, the
embedded default, rate limits off for the bench) starts on the same VAR_DIR and each query is POSTed to
/api/projects/:id/query/ over one keep-alive connection, ``--repeat`` times. Each response's Server-Timing header
carries the engine's own time for that request's query (posthog_clone/clickhouse/timing.py), so the overhead is
measured request by request: the round trip less the time in chDB (median; target ≤ 5 ms). Comparing medians of
separate raw runs instead swings by ±15 % on a 100 ms query as chDB's own time drifts between runs.
"""

from __future__ import annotations

import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.server import ROOT, free_port, kill, server_env, start_server, wait_healthy

TARGET_OVERHEAD_MS = 5.0


def run(argv: list[str], var_dir: str, repeat: int) -> int:
    """Both phases; the process exit code (1 if a query misses the target)."""
    inner = [a for a in argv if a != "--server"]
    print("[1/2] in-process run (load or reuse the dataset, raw chDB and the in-process view)…", flush=True)
    measured = _in_process(inner)
    port = free_port()
    env = server_env(Path(var_dir), port, RATE_LIMIT_ENABLED="false", DEBUG="false", INGEST_WORKER_IN_PROCESS="false")
    print(f"\n[2/2] manage.py serve on :{port} over the same VAR_DIR…", flush=True)
    proc = start_server(env)
    try:
        wait_healthy(proc, port, path="/_readyz", timeout=120)
        rows = [_time_over_http(port, measured, name, case, repeat) for name, case in measured["hogql"].items()]
    finally:
        kill(proc)
    print(
        f"\n{'query':<24}{'server ms':>11}{'its chDB':>10}{'overhead':>10}{'raw chDB':>10}{'in-process':>12}"
        "  target: overhead ≤ 5 ms"
    )
    missed = []
    for name, timed, case in rows:
        ok = timed.overhead_ms <= TARGET_OVERHEAD_MS
        missed += [] if ok else [name]
        print(
            f"{name:<24}{timed.server_ms:>11.1f}{timed.chdb_ms:>10.1f}{timed.overhead_ms:>10.1f}{case['raw_ms']:>10.1f}"
            f"{case['api_ms']:>12.1f}  {'ok' if ok else 'MISS'}"
        )
    print(
        f"\n{measured['events']:,} events, median of {repeat} requests per query. 'its chDB': the engine's time for"
        " the request's own query (the Server-Timing header); overhead: the median of each request's round trip less"
        " that. 'raw chDB': the same SQL run alone on chDB in the in-process run (median), for comparison."
    )
    if missed:
        print(f"MISS: {', '.join(missed)}")
    return 1 if missed else 0


@dataclass
class Timed:
    server_ms: float
    chdb_ms: float
    overhead_ms: float


def _in_process(inner: list[str]) -> dict:
    results = Path(tempfile.mkstemp(prefix="bench-query-", suffix=".json")[1])
    subprocess.run([sys.executable, "-m", "bench.query", *inner, "--json", str(results)], cwd=ROOT, check=False)
    try:
        return json.loads(results.read_text())
    finally:
        results.unlink(missing_ok=True)


def _time_over_http(port: int, measured: dict, name: str, case: dict, repeat: int) -> tuple[str, Timed, dict]:
    body = json.dumps({"query": {"kind": "HogQLQuery", "query": case["sql"]}, "refresh": "force_blocking"})
    headers = {"Authorization": f"Bearer {measured['key']}", "Content-Type": "application/json"}
    path = f"/api/projects/{measured['team']}/query/"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    times, chdb = [], []
    for i in range(repeat + 1):  # the first request warms the web process (compile cache, connections)
        started = time.perf_counter()
        connection.request("POST", path, body, headers)
        response = connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise SystemExit(f"{name}: HTTP {response.status} {payload[:500]!r}")
        if i:
            times.append(elapsed * 1000)
            chdb.append(_clickhouse_ms(response.getheader("Server-Timing") or ""))
    connection.close()
    overheads = [total - spent for total, spent in zip(times, chdb, strict=True)]
    return name, Timed(statistics.median(times), statistics.median(chdb), statistics.median(overheads)), case


def _clickhouse_ms(server_timing: str) -> float:
    for metric in server_timing.split(","):
        name, *params = (part.strip() for part in metric.split(";"))
        if name == "clickhouse":
            return next(float(p[4:]) for p in params if p.startswith("dur="))
    raise SystemExit(f"no clickhouse time in the response's Server-Timing header: {server_timing!r}")
