"""`python -m bench.cohorts [--persons N] [--probes-per-second R]`: a person-property cohort over N synthetic
persons (default 1M) calculated in the background of a real `manage.py serve` (the embedded default: the
engine process's cohort worker), while the API is probed.

1. A throwaway VAR_DIR: migrations, a project (`bootstrap`), N persons written to chDB (`bench.cohorts.load`).
2. The server; `GET /cohorts/` timed while idle (the baseline).
3. `POST /cohorts/` (`plan = pro`: 25 % of the persons), then `GET /cohorts/` in a loop until the cohort stops
   calculating: the list's latency during the calculation, and how long it took (wall clock from the POST,
   and the run's own `duration_seconds` from `calculation_history`). The count must be N / 4.
4. The same for an edit (`plan in [pro, enterprise]`: 35 %), which recalculates at a new version.

Prints the numbers; exits 1 if a count is wrong or the API stalled (a list request over 1 s).
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.server import ROOT, free_port, kill, manage, server_env, start_server

STALL_SECONDS = 1.0


class Api:
    """One keep-alive connection to the server, authenticated with the project's personal API key."""

    def __init__(self, port: int, key: str, project: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.key, self.base = key, f"/api/projects/{project}/cohorts/"

    def call(self, method: str, path: str = "", body: Any = None) -> tuple[int, Any, float]:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        started = time.perf_counter()
        self.conn.request(method, self.base + path, body=None if body is None else orjson.dumps(body), headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, orjson.loads(data) if data else None, time.perf_counter() - started


def _ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    median, top = statistics.median(ordered) * 1000, ordered[-1] * 1000
    return f"median {median:6.1f} ms  p95 {p95 * 1000:6.1f} ms  max {top:6.1f} ms"


def _baseline(api: Api, n: int = 100) -> list[float]:
    latencies = []
    for _ in range(n):
        status, _, seconds = api.call("GET")
        assert status == 200
        latencies.append(seconds)
    return latencies


def _calculate_while_probing(api: Api, method: str, path: str, body: Any, rate: float) -> dict[str, Any]:
    """Start a calculation (POST or PATCH) and probe `GET /cohorts/` until it is done."""
    started = time.perf_counter()
    status, cohort, _ = api.call(method, path, body)
    assert status in (200, 201) and cohort["is_calculating"], cohort
    latencies: list[float] = []
    while True:
        tick = time.perf_counter()
        status, listing, seconds = api.call("GET")
        assert status == 200
        latencies.append(seconds)
        mine = next(c for c in listing["results"] if c["id"] == cohort["id"])
        if not mine["is_calculating"]:
            break
        if len(latencies) % 20 == 1:
            elapsed = time.perf_counter() - started
            sys.stderr.write(f"\r  calculating… {elapsed:5.1f} s, {len(latencies)} list requests")
            sys.stderr.flush()
        time.sleep(max(0.0, 1 / rate - (time.perf_counter() - tick)))
    wall = time.perf_counter() - started
    sys.stderr.write("\n")
    history = api.call("GET", f"{cohort['id']}/calculation_history/")[1]["results"][0]
    return {"cohort": mine, "wall": wall, "run": history, "latencies": latencies}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--probes-per-second", type=float, default=20.0)
    args = parser.parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="bench_cohorts_"))
    port = free_port()
    env = server_env(var_dir, port, INGEST_WORKER_IN_PROCESS="false", RATE_LIMIT_ENABLED="false")
    try:
        print(f"var dir {var_dir}; {args.persons:,} persons", file=sys.stderr)
        manage(env, "migrate", "--noinput", "-v", "0")
        keys = orjson.loads(manage(env, "bootstrap", "--json"))
        project = int(keys["project_id"])
        loader = [sys.executable, "-m", "bench.cohorts.load", str(args.persons), str(project)]
        subprocess.run(loader, cwd=ROOT, env=env, check=True)  # its progress goes to our stderr
        print("starting the server…", file=sys.stderr)
        server = start_server(env)
        try:
            return _run(Api(port, keys["personal_api_key"], project), args)
        finally:
            kill(server)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def _plan_is(value: Any) -> dict[str, Any]:
    person = {"type": "person", "key": "plan", "value": value, "operator": "exact"}
    return {"properties": {"type": "AND", "values": [person]}}


def _run(api: Api, args: argparse.Namespace) -> int:
    for i in range(5):  # a list with a few cohorts in it, as a project has
        api.call("POST", "", {"name": f"static {i}", "is_static": True})
    idle = _baseline(api)
    print("calculating `plan = pro`…", file=sys.stderr)
    rate = args.probes_per_second
    first = _calculate_while_probing(api, "POST", "", {"name": "Pro", "filters": _plan_is("pro")}, rate)
    print("recalculating after an edit (`plan in [pro, enterprise]`)…", file=sys.stderr)
    cohort_id = first["cohort"]["id"]
    paying = {"filters": _plan_is(["pro", "enterprise"])}
    second = _calculate_while_probing(api, "PATCH", f"{cohort_id}/", paying, rate)
    after = _baseline(api)
    persons_seconds = api.call("GET", f"{cohort_id}/persons/")[2]
    runs = [("create (25 %)", first, args.persons // 20 * 5), ("edit   (35 %)", second, args.persons // 20 * 7)]
    _report(args.persons, runs, idle, after, persons_seconds)
    during = first["latencies"] + second["latencies"]
    wrong = [label for label, run, want in runs if run["cohort"]["count"] != want]
    if max(during) > STALL_SECONDS:
        print(f"MISS: a list request took {max(during):.2f} s during a calculation", file=sys.stderr)
    return 1 if wrong or max(during) > STALL_SECONDS else 0


def _report(persons: int, runs: list, idle: list[float], after: list[float], persons_seconds: float) -> None:
    print(f"\ncohort calculation over {persons:,} persons (embedded default: the engine's cohort worker)")
    for label, run, want in runs:
        ok = "ok" if run["cohort"]["count"] == want else f"WRONG, expected {want:,}"
        print(
            f"  {label}: {run['cohort']['count']:>9,} members ({ok}); run {run['run']['duration_seconds']:.2f} s, "
            f"POST→done {run['wall']:.2f} s"
        )
    print("GET /cohorts/ latency")
    print(f"  idle before           {_ms(idle)}  ({len(idle)} requests)")
    for n, (_, run, _) in enumerate(runs, 1):
        print(f"  while calculating ({n}) {_ms(run['latencies'])}  ({len(run['latencies'])} requests)")
    print(f"  idle after            {_ms(after)}  ({len(after)} requests)")
    # the bench's persons live in ClickHouse only, so the page has ids but no Postgres person objects
    print(f"GET /cohorts/:id/persons/ (a page of member ids from ClickHouse): {persons_seconds * 1000:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
