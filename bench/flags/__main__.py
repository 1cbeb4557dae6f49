"""/flags latency: 1,000 evaluations of 20 flags against a real server subprocess, next to /_health.

    .venv/bin/python -m bench.flags [--requests 1000] [--port 8765]

Sets up a throwaway VAR_DIR (SQLite + chDB), migrates, creates one project with 20 flags (rollouts,
multivariate, person-property conditions) and 200 persons, starts `manage.py serve`, then times
sequential keep-alive requests: POST /flags/?v=2 (posthog-python's shape) and GET /_health (the
do-nothing baseline of the same server), then the same evaluations in-process (the raw engine).
Prints p50/p99 of each and the ratios. Target: p99 < 10 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def configure_env(var_dir: str) -> dict[str, str]:
    env = {
        **os.environ,
        "VAR_DIR": var_dir,
        "SECRET_KEY": "bench-secret-key-not-for-production",
        "DEBUG": "false",
        "INGEST_WORKER_IN_PROCESS": "false",
        "RATE_LIMIT_ENABLED": "false",
        "WEB_THREADS": "4",
        "DJANGO_SETTINGS_MODULE": "posthog_clone.settings",
    }
    os.environ.update(env)
    return env


def seed(n_persons: int) -> str:
    """Migrate and create the project, its flags and persons; return the project token."""
    import django

    django.setup()
    from django.core.management import call_command

    from flags.models import FeatureFlag
    from persons.models import Person, PersonDistinctId
    from posthog_clone.accounts.services import organization_create, team_create, user_create

    call_command("migrate", verbosity=0, interactive=False)
    user = user_create(email="bench@example.com")
    team = team_create(organization=organization_create(name="Bench", owner=user), name="Bench")
    variants = [{"key": "control", "rollout_percentage": 50}, {"key": "test", "rollout_percentage": 50}]
    plan = {"key": "plan", "value": "pro", "operator": "exact", "type": "person"}
    email = {"key": "email", "value": "example.com", "operator": "icontains", "type": "person"}
    for i in range(20):
        kind = i % 4
        if kind == 0:
            filters = {"groups": [{"properties": [], "rollout_percentage": 10 + i * 4}]}
        elif kind == 1:
            everyone = [{"properties": [], "rollout_percentage": 100}]
            filters = {"groups": everyone, "multivariate": {"variants": variants}}
        elif kind == 2:
            filters = {"groups": [{"properties": [plan], "rollout_percentage": 100}]}
        else:
            filters = {"groups": [{"properties": [email], "rollout_percentage": 30}, {"properties": [plan]}]}
        FeatureFlag.objects.create(team=team, key=f"bench-flag-{i}", filters=filters)
    for i in range(n_persons):
        props = {"email": f"user{i}@example.com", "plan": "pro" if i % 3 == 0 else "free"}
        person = Person.objects.create(team=team, properties=props, created_at="2026-11-01T00:00Z")
        PersonDistinctId.objects.create(team=team, person=person, distinct_id=f"user-{i}")
    return team.api_token


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited with {server.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/_health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not become healthy")


def timed(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None) -> float:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    payload = response.read()
    elapsed = time.perf_counter() - started
    if response.status != 200:
        raise SystemExit(f"{method} {path} → {response.status}: {payload[:300]!r}")
    return elapsed * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def in_process_ms(requests: int) -> list[float]:
    """The evaluation alone (cache warm, stored-person lookup included), without HTTP or Django's stack."""
    from flags.cache import team_flags_get
    from flags.selectors import flags_evaluate
    from posthog_clone.accounts.models import Team

    team_id = Team.objects.get(name="Bench").pk
    team_flags_get(team_id=team_id)
    out = []
    for i in range(requests):
        started = time.perf_counter()
        flags_evaluate(
            team_id=team_id, distinct_id=f"user-{i % 400}", person_properties={}, groups={}, group_properties={}
        )
        out.append((time.perf_counter() - started) * 1000)
    return out


def run(requests: int, port: int, n_persons: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_flags_") as var_dir:
        env = configure_env(var_dir)
        print(f"seeding {var_dir}: 20 flags, {n_persons} persons …", flush=True)
        token = seed(n_persons)
        server = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            wait_ready(port, server)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            bodies = [
                json.dumps(
                    {"api_key": token, "distinct_id": f"user-{i % (n_persons * 2)}", "person_properties": {}}
                ).encode()
                for i in range(requests)
            ]
            conn.request("POST", "/flags/?v=2", body=bodies[0], headers={"Content-Type": "application/json"})
            first = json.loads(conn.getresponse().read())
            assert len(first["flags"]) == 20, first
            for i in range(100):  # warm-up (caches, connections)
                timed(conn, "POST", "/flags/?v=2", bodies[i % len(bodies)])
                timed(conn, "GET", "/_health")
            flags_ms: list[float] = []
            health_ms: list[float] = []
            for i, body in enumerate(bodies):
                flags_ms.append(timed(conn, "POST", "/flags/?v=2", body))
                health_ms.append(timed(conn, "GET", "/_health"))
                if (i + 1) % 200 == 0:
                    print(f"  {i + 1}/{requests} requests", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=15)
        engine_ms = in_process_ms(requests)
    report(flags_ms, health_ms, engine_ms)


def report(flags_ms: list[float], health_ms: list[float], engine_ms: list[float]) -> None:
    rows = [
        ("POST /flags/?v=2 (20 flags)", flags_ms),
        ("GET /_health (baseline)", health_ms),
        ("in-process evaluation only", engine_ms),
    ]
    print(f"\n{'endpoint':<30} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} {'max ms':>8}")
    for name, values in rows:
        print(
            f"{name:<30} {len(values):>6} {percentile(values, 50):>8.2f} {percentile(values, 99):>8.2f} "
            f"{statistics.fmean(values):>8.2f} {max(values):>8.2f}"
        )
    p50_ratio = percentile(flags_ms, 50) / percentile(health_ms, 50)
    p99_ratio = percentile(flags_ms, 99) / percentile(health_ms, 99)
    print(f"\n/flags vs /_health: p50 ×{p50_ratio:.2f}, p99 ×{p99_ratio:.2f}")
    engine_ratio = percentile(flags_ms, 50) / percentile(engine_ms, 50)
    print(f"/flags vs in-process evaluation: p50 ×{engine_ratio:.2f}")
    verdict = "OK" if percentile(flags_ms, 99) < 10 else "ABOVE TARGET"
    print(f"target p99 < 10 ms: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--persons", type=int, default=200)
    args = parser.parse_args()
    run(args.requests, args.port, args.persons)


if __name__ == "__main__":
    main()
