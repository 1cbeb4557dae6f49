"""Soak: every process's RSS and the p95 latencies of a steady mixed load against the real server, per minute.

    .venv/bin/python -m bench.soak [--minutes 30] [--rate 2000] [--new-users 100] [--queries 1] [--flags 20]
                                   [--history-minutes 60] [--chdb-defaults] [--env NAME=VALUE ...]

Sets up a throwaway VAR_DIR, migrates, creates the demo project (`manage.py bootstrap`) with five feature flags,
loads --history-minutes of the same load's events and new users before now (so each query's window is full, and
stays full, from the first minute: a steady load, not one whose queries read more every minute), and starts
`manage.py serve` as the README does (the embedded default: granian web processes and the chDB
engine process, which also runs the ingestion worker draining the spool). Then, open loop (each request
starts on schedule, whatever the latency of the one before):
  - capture: --rate events a second as gzip /batch/ requests of 100 events, --new-users of them from
    distinct ids never seen before, the rest from a pool of 1,000 returning users;
  - --queries /query/ calls a second, HogQL and TrendsQuery in turn, over the last --query-minutes (60: the
    data each query reads grows for the first hour) with refresh: blocking, so each one reaches chDB;
  - --flags POST /flags/?v=2 calls a second.
Every 10 s it samples the RSS of every process of the server (/proc: serve, each web process, the engine);
every minute it prints one row of the curve (mean RSS per role in that minute, requests sent, non-2xx, and
p95 latency per request kind). At the end: events acknowledged against events in ClickHouse, and the verdict
of issue 26's acceptance 3: the engine's RSS at every minute from minute 5 on is within ±10% of its value at
the end (the last minute's mean).

--chdb-defaults runs the server as it was before the memory bounds (chDB's own caches, jemalloc options and
part removal, and a 100,000-person ingestion cache), for a before/after comparison.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import itertools
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from bench.server import free_port, kill, manage, server_env, start_server, wait_healthy

SAMPLE_SECONDS = 10
BATCH = 100
CHDB_DEFAULTS = {  # what the server ran with before the bounds (docs/operations.md "Memory")
    "CHDB_MARK_CACHE_MB": "5120",
    "CHDB_PRIMARY_INDEX_CACHE_MB": "5120",
    "CHDB_QUERY_CONDITION_CACHE_MB": "100",
    "CHDB_UNCOMPRESSED_CACHE_MB": "0",
    "CHDB_JEMALLOC_CONF": "",
    "CHDB_SERVER_SETTINGS": "merge_tree.concurrent_part_removal_threshold=100",
    "INGEST_PERSONS_CACHE_SIZE": "100000",
}
HOGQL = (
    "SELECT event, count() AS c, uniq(distinct_id) AS users FROM events "
    "WHERE timestamp > now() - INTERVAL {minutes} MINUTE GROUP BY event ORDER BY c DESC LIMIT 10"
)


def trends(minutes: int) -> dict:
    return {
        "kind": "TrendsQuery",
        "series": [{"kind": "EventsNode", "event": "$pageview", "math": "dau"}],
        "dateRange": {"date_from": f"-{minutes}M"},
        "interval": "minute",
        "breakdownFilter": {"breakdown": "$browser", "breakdown_type": "event"},
    }


FLAG_FILTERS = [
    {"groups": [{"properties": [], "rollout_percentage": 30}]},
    {"groups": [{"properties": [{"key": "plan", "value": "pro", "type": "person"}], "rollout_percentage": 100}]},
    {
        "groups": [{"properties": [], "rollout_percentage": 100}],
        "multivariate": {
            "variants": [{"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]
        },
    },
    {"groups": [{"properties": [{"key": "email", "value": "example", "operator": "icontains", "type": "person"}]}]},
    {"groups": [{"properties": [], "rollout_percentage": 75}]},
]


class Stats:
    """Latencies and failures per (minute, kind), and RSS samples per (minute, role)."""

    def __init__(self, started: float):
        self.started = started
        self.lock = threading.Lock()
        self.latency: dict[tuple[int, str], list[float]] = defaultdict(list)
        self.failed: dict[tuple[int, str], int] = defaultdict(int)
        self.rss: dict[tuple[int, str], list[float]] = defaultdict(list)
        self.events_acked = 0

    def minute(self, at: float | None = None) -> int:
        return int(((at or time.monotonic()) - self.started) // 60)

    def record(self, kind: str, started: float, seconds: float, ok: bool, events: int = 0) -> None:
        with self.lock:
            key = (self.minute(started), kind)
            self.latency[key].append(seconds * 1000)
            if not ok:
                self.failed[key] += 1
            elif events:
                self.events_acked += events


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else (values[0] if values else float("nan"))


def _open_loop(stats: Stats, kind: str, per_second: float, stop: threading.Event, port: int, send: callable) -> None:
    """Call ``send(conn, i)`` ``per_second`` times a second on schedule; records its latency and status."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    interval, next_at = 1.0 / per_second, time.monotonic()
    for i in itertools.count():
        if stop.wait(max(0.0, next_at - time.monotonic())):
            break
        next_at += interval
        started = time.monotonic()
        try:
            status, events = send(conn, i)
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status, events = 0, 0
        stats.record(kind, started, time.monotonic() - started, 200 <= status < 300, events)
    conn.close()


def _request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes, headers: dict) -> int:
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status


class Load:
    """The three request kinds, each on its own threads."""

    def __init__(self, args: argparse.Namespace, port: int, keys: dict):
        self.args, self.port, self.keys = args, port, keys
        self.new_user = itertools.count()
        self.lock = threading.Lock()

    def capture(self, conn: http.client.HTTPConnection, i: int) -> tuple[int, int]:
        per_request_new = self.args.new_users * BATCH / self.args.rate
        with self.lock:  # a fraction of a new user per request adds up over the requests
            new = int((i + 1) * per_request_new) - int(i * per_request_new)
            fresh = [f"new-{next(self.new_user)}" for _ in range(new)]
        now = datetime.now(UTC).isoformat()
        events = []
        for n in range(BATCH):
            did = fresh[n] if n < len(fresh) else f"user-{(i * BATCH + n) % 1000}"
            props = {"$current_url": f"https://example.com/p/{n % 50}", "$browser": ("Chrome", "Firefox")[n % 2]}
            if n < len(fresh):
                props["$set"] = {"plan": ("free", "pro")[n % 2], "email": f"{did}@example.com"}
            events.append({"event": "$pageview", "distinct_id": did, "uuid": str(uuid.uuid4()), "timestamp": now,
                           "properties": props})  # fmt: skip
        body = gzip.compress(json.dumps({"api_key": self.keys["project_api_key"], "batch": events}).encode(), 1)
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        return _request(conn, "POST", "/batch/", body, headers), BATCH

    def query(self, conn: http.client.HTTPConnection, i: int) -> tuple[int, int]:
        minutes = self.args.query_minutes
        query = {"kind": "HogQLQuery", "query": HOGQL.format(minutes=minutes)} if i % 2 == 0 else trends(minutes)
        body = json.dumps({"query": query, "refresh": "force_blocking"}).encode()
        headers = {"Authorization": f"Bearer {self.keys['personal_api_key']}", "Content-Type": "application/json"}
        return _request(conn, "POST", f"/api/projects/{self.keys['project_id']}/query/", body, headers), 0

    def flags(self, conn: http.client.HTTPConnection, i: int) -> tuple[int, int]:
        body = json.dumps({"api_key": self.keys["project_api_key"], "distinct_id": f"user-{i % 1000}"}).encode()
        return _request(conn, "POST", "/flags/?v=2", body, {"Content-Type": "application/json"}), 0


def _processes(root: int) -> dict[int, str]:
    """pid → role of serve (``root``) and every process under it."""
    children: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children[int(fields[1])].append(int(stat.parent.name))
    out, todo = {root: "serve"}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            out[child] = "engine" if "clickhouse_engine" in cmdline else "web"
            todo.append(child)
    return out


def _rss_mib(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(status.split("VmRSS:", 1)[1].split()[0]) / 1024 if "VmRSS:" in status else None


def _sample(stats: Stats, root: int) -> dict[str, float]:
    """RSS of every process now, recorded under the current minute; the engine's and the web processes' sum."""
    by_role: dict[str, float] = defaultdict(float)
    minute = stats.minute()
    webs = 0
    for pid, role in sorted(_processes(root).items()):
        rss = _rss_mib(pid)
        if rss is None:
            continue
        name = role
        if role == "web":
            webs += 1
            name = f"web{webs}"
        by_role[name] += rss
        with stats.lock:
            stats.rss[(minute, name)].append(rss)
    return by_role


def _row(stats: Stats, minute: int, roles: list[str]) -> str:
    with stats.lock:
        rss = [statistics.mean(stats.rss[(minute, r)]) if stats.rss.get((minute, r)) else float("nan") for r in roles]
        parts = [f"{minute + 1:>4}"] + [f"{v:>8.0f}" for v in rss]
        for kind in ("capture", "query", "flags"):
            values = stats.latency.get((minute, kind), [])
            parts.append(f"{_p95(values):>9.1f}")
        sent = sum(len(stats.latency.get((minute, k), [])) for k in ("capture", "query", "flags"))
        failed = sum(stats.failed.get((minute, k), 0) for k in ("capture", "query", "flags"))
    return " ".join(parts) + f" {sent:>6} {failed:>5}"


def _header(roles: list[str]) -> str:
    cols = [f"{'min':>4}"] + [f"{r:>8}" for r in roles]
    cols += [f"{'capture':>9}", f"{'query':>9}", f"{'flags':>9}", f"{'reqs':>6}", f"{'non2xx':>5}"]
    return "RSS in MiB (mean of the minute's samples), p95 in ms\n" + " ".join(cols)


def _verdict(stats: Stats, minutes: int) -> tuple[bool, str]:
    # the sample taken as the run ends belongs to a minute of its own: left out
    engine = {m: statistics.mean(v) for (m, r), v in stats.rss.items() if r == "engine" and v and m < minutes}
    last = max(engine) if engine else -1
    if last < 5:
        return False, "not enough minutes for a verdict (needs more than 5)"
    end = engine[last]
    after = {m: v for m, v in engine.items() if m >= 5}
    worst_m, worst = max(after.items(), key=lambda kv: abs(kv[1] - end))
    samples = [s for (m, r), v in stats.rss.items() if r == "engine" and 5 <= m < minutes for s in v]
    dev = (worst - end) / end * 100
    ok = abs(dev) <= 10
    return ok, (
        f"engine RSS at the end (minute {last + 1} mean) {end:.0f} MiB; minutes 6–{last + 1}: "
        f"{min(after.values()):.0f}–{max(after.values()):.0f} MiB (per-minute means; samples "
        f"{min(samples):.0f}–{max(samples):.0f}); farthest minute {worst_m + 1} at {dev:+.1f}% of the end value: "
        f"{'FLAT (within ±10%)' if ok else 'NOT FLAT (beyond ±10%)'}"
    )


def _setup(var_dir: Path, env: dict[str, str]) -> dict:
    manage(env, "migrate", "--noinput", "-v", "0")
    keys = json.loads(manage(env, "bootstrap", "--json"))
    code = (
        "import json\n"
        "from flags.models import FeatureFlag\n"
        f"for i, f in enumerate(json.loads({json.dumps(FLAG_FILTERS)!r})):\n"
        f"    FeatureFlag.objects.create(team_id={keys['project_id']}, key=f'soak-flag-{{i}}', filters=f)\n"
    )
    manage(env, "shell", "-c", code)
    return keys


HISTORY_CHUNK = 1_000_000


def _history_code(team_id: int, minutes: int, rate: int, new_users: int) -> str:
    """`manage.py shell` code loading the events and persons of ``minutes`` of the same load before now, as if
    the soak had been running that long: the queries' window is full from the first minute and stays as
    full (as many events leave it as arrive), so what the engine holds answers a steady load. Without it,
    each query's input grows for its whole window (2,000 events/s fill a 60-minute window only at minute 60)."""
    every = max(rate // max(new_users, 1), 1)  # one event in ``every`` is a new user's, as in ``Load.capture``
    events, persons = rate * minutes * 60, (rate * minutes * 60) // every
    person = "reinterpretAsUUID(cityHash64({}, 7))"
    event_person = (
        f"if(n % {every} = 0, {person.format(f'intDiv(n, {every})')}, toUUID('{'0' * 8}-0000-0000-0000-{'0' * 12}'))"
    )
    return f"""
from posthog_clone.clickhouse import get_client, table
from posthog_clone.clickhouse.migrations import migrate
migrate()
c = get_client()
c.command(
    f"INSERT INTO {{table('person')}} (id, created_at, team_id, properties, is_identified, is_deleted, version) "
    "SELECT {person.format("number")}, now64(3), {team_id}, "
    "concat('{{\\"plan\\": \\"', ['free', 'pro'][number % 2 + 1], '\\"}}'), 0, 0, 1 FROM numbers({persons})"
)
c.command(
    f"INSERT INTO {{table('person_distinct_id2')}} (team_id, distinct_id, person_id, is_deleted, version) "
    "SELECT {team_id}, concat('hist-', toString(number)), {person.format("number")}, 0, 1 FROM numbers({persons})"
)
for start in range(0, {events}, {HISTORY_CHUNK}):
    size = min({HISTORY_CHUNK}, {events} - start)
    c.command(
        f"INSERT INTO {{table('events')}} (uuid, event, properties, timestamp, team_id, distinct_id, elements_chain, "
        "created_at, person_id, person_properties, person_mode, _timestamp) "
        "SELECT generateUUIDv4(), '$pageview', "
        "concat('{{\\"$current_url\\": \\"https://example.com/p/', toString(n % 50), "
        "'\\", \\"$browser\\": \\"', ['Chrome', 'Firefox'][n % 2 + 1], '\\"}}'), "
        "now64(6) - toIntervalMicrosecond(intDiv(n * 1000000, {rate})), {team_id}, "
        "if(n % {every} = 0, concat('hist-', toString(intDiv(n, {every}))), concat('user-', toString(n % 1000))), "
        "'', now64(6), {event_person}, "
        "'', 'full', now() "
        f"FROM (SELECT number + {{start}} AS n FROM numbers({{size}}))"
    )
    print(f"history: {{start + size:,}}/{events:,} events", flush=True)
"""


def _count_events(port: int, keys: dict) -> int | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    query = {"kind": "HogQLQuery", "query": "SELECT count() FROM events"}
    body = json.dumps({"query": query, "refresh": "force_blocking"})
    headers = {"Authorization": f"Bearer {keys['personal_api_key']}", "Content-Type": "application/json"}
    conn.request("POST", f"/api/projects/{keys['project_id']}/query/", body, headers)
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return json.loads(payload)["results"][0][0] if response.status == 200 else None


def run(args: argparse.Namespace) -> bool:
    var_dir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    try:
        port = args.port or free_port()
        extra = {"DEBUG": "false", "RATE_LIMIT_ENABLED": "false", "LOG_LEVEL": "WARNING"}
        if args.chdb_defaults:
            extra.update(CHDB_DEFAULTS)
        extra.update(dict(item.split("=", 1) for item in args.env))
        env = server_env(var_dir, port, **extra)
        print(f"setting up {var_dir} (migrate, bootstrap, {len(FLAG_FILTERS)} flags)…", flush=True)
        keys = _setup(var_dir, env)
        if args.history_minutes:
            print(
                f"loading {args.history_minutes} min of history ({args.rate * args.history_minutes * 60:,} events, "
                f"{args.new_users * args.history_minutes * 60:,} new users) before now…",
                flush=True,
            )
            code = _history_code(keys["project_id"], args.history_minutes, args.rate, args.new_users)
            manage(env, "shell", "-c", code, timeout=1800)
        print(f"starting manage.py serve on :{port}…", flush=True)
        proc = start_server(env)
        try:
            wait_healthy(proc, port, path="/_readyz", timeout=120)
            return _soak(args, proc, port, keys)
        finally:
            kill(proc)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


def _soak(args: argparse.Namespace, proc, port: int, keys: dict) -> bool:  # type: ignore[no-untyped-def]
    load = Load(args, port, keys)
    stats = Stats(time.monotonic())
    stop = threading.Event()
    plan = [("capture", args.rate / BATCH, load.capture, 2), ("query", args.queries, load.query, 1),
            ("flags", args.flags, load.flags, 2)]  # fmt: skip
    threads = [
        threading.Thread(target=_open_loop, args=(stats, kind, rate / n, stop, port, send), daemon=True)
        for kind, rate, send, n in plan
        if rate > 0
        for _ in range(n)
    ]
    for thread in threads:
        thread.start()
    roles = sorted(_sample(stats, proc.pid), key=lambda r: (r != "engine", r))
    print(
        f"load: {args.rate} events/s ({args.new_users} new users/s) in /batch/ requests of {BATCH}, "
        f"{args.queries} /query/ a second over the last {args.query_minutes} min, {args.flags} /flags a second, "
        f"for {args.minutes} min; RSS every "
        f"{SAMPLE_SECONDS} s (the engine process also runs the ingestion worker)\n",
        flush=True,
    )
    print(_header(roles), flush=True)
    end = stats.started + args.minutes * 60
    printed = 0
    while time.monotonic() < end:
        time.sleep(min(SAMPLE_SECONDS, max(0.0, end - time.monotonic())))
        now_roles = _sample(stats, proc.pid)
        if "engine" not in now_roles:
            print("  (no engine process at this sample: it is restarting)", flush=True)
        while stats.minute() > printed:
            print(_row(stats, printed, roles), flush=True)
            printed += 1
    stop.set()
    for thread in threads:
        thread.join(60)
    while printed < args.minutes:
        print(_row(stats, printed, roles), flush=True)
        printed += 1
    time.sleep(5)  # the last batches drain
    stored = _count_events(port, keys)
    history = args.rate * args.history_minutes * 60
    if stored is not None:
        print(
            f"\nevents acknowledged {stats.events_acked:,}; in ClickHouse {stored - history:,} "
            f"(besides {history:,} of history)"
        )
    ok, text = _verdict(stats, args.minutes)
    print("\nacceptance 3 (issue 26): " + text, flush=True)
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--rate", type=int, default=2000, help="events a second (in requests of 100)")
    parser.add_argument("--new-users", type=int, default=100, help="never-seen distinct ids a second")
    parser.add_argument("--queries", type=float, default=1.0, help="/query/ calls a second")
    parser.add_argument("--flags", type=float, default=20.0, help="/flags calls a second")
    parser.add_argument("--query-minutes", type=int, default=60, help="the window each query reads, minutes")
    parser.add_argument(
        "--history-minutes",
        type=int,
        default=60,
        help="minutes of the same load loaded before the start (default 60, the query window: a steady load "
        "from the first minute); 0: start empty",
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--chdb-defaults", action="store_true", help="the server without the memory bounds")
    parser.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server (repeatable)")
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    ok = run(args)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
