"""`python -m bench.query [--events N] [--repeat R]`: load N synthetic events into a throwaway chDB,
then time typical HogQL queries through the Django /query/ view and the compiled SQL on chDB directly.

Prints, per query, the median /query/ latency, the median raw chDB time, the ratio and the overhead,
against the target (≤ 1.2× raw + 5 ms; top events over 10M ≤ 150 ms).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings

QUERIES = {
    "top events 7d": (
        "SELECT event, count() FROM events WHERE timestamp >= now() - INTERVAL 7 DAY "
        "GROUP BY event ORDER BY count() DESC LIMIT 20"
    ),
    "daily uniques 30d": (
        "SELECT toStartOfDay(timestamp) AS day, uniq(distinct_id) AS users FROM events "
        "WHERE timestamp >= now() - INTERVAL 30 DAY GROUP BY day ORDER BY day"
    ),
    "breakdown $browser 7d": (
        "SELECT properties.$browser AS browser, count() AS c FROM events "
        "WHERE timestamp >= now() - INTERVAL 7 DAY AND event = '$pageview' GROUP BY browser ORDER BY c DESC LIMIT 10"
    ),
    "person join 7d": (
        "SELECT person.properties.plan AS plan, count() AS c FROM events "
        "WHERE timestamp >= now() - INTERVAL 7 DAY AND event = 'signup' GROUP BY plan ORDER BY c DESC LIMIT 10"
    ),
}


def _setup_django(var_dir: str) -> None:
    os.environ["VAR_DIR"] = var_dir
    os.environ.setdefault("SECRET_KEY", "bench-secret-key")
    os.environ.setdefault("RATE_LIMIT_ENABLED", "false")
    os.environ.setdefault("INGEST_WORKER_IN_PROCESS", "false")
    os.environ.setdefault("CLICKHOUSE_MIGRATE_ON_START", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "posthog_clone.settings")
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _progress(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    rate = done / max(time.perf_counter() - started, 1e-9)
    sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} ({rate:,.0f}/s)")
    sys.stderr.flush()
    if done >= total:
        sys.stderr.write("\n")


def _load(team_id: int, events: int, chunk: int) -> None:
    from posthog_clone.clickhouse import get_client, table

    client = get_client()
    started = time.perf_counter()
    persons = max(events // 100, 10)
    # Persons and their distinct ids: one person per distinct id "user-<n>", plan in the properties.
    client.command(
        f"INSERT INTO {table('person')} (id, created_at, team_id, properties, is_identified, is_deleted, version) "
        f"SELECT reinterpretAsUUID(cityHash64(number, 1)), now64(3), {team_id}, "
        'concat(\'{"email": "user\', toString(number), \'@example.com", "plan": "\', '
        "['free', 'pro', 'enterprise'][number % 3 + 1], '\"}'), 1, 0, 1 "
        f"FROM numbers({persons})"
    )
    client.command(
        f"INSERT INTO {table('person_distinct_id2')} (team_id, distinct_id, person_id, is_deleted, version) "
        f"SELECT {team_id}, concat('user-', toString(number)), reinterpretAsUUID(cityHash64(number, 1)), 0, 1 "
        f"FROM numbers({persons})"
    )
    done = 0
    _progress("loading events", 0, events, started)
    while done < events:
        size = min(chunk, events - done)
        client.command(
            f"INSERT INTO {table('events')} (uuid, event, properties, timestamp, team_id, distinct_id, elements_chain,"
            " created_at, person_id, person_properties, person_mode, _timestamp) "
            "SELECT generateUUIDv4(), "
            "['$pageview', '$pageview', '$pageview', '$autocapture', 'signup', 'login', '$pageleave', 'purchase',"
            " '$identify', 'clicked button'][n % 10 + 1] AS ev, "
            "concat('{\"$browser\": \"', ['Chrome', 'Firefox', 'Safari', 'Edge', 'Opera'][(n % 7) % 5 + 1],"
            ' \'", "$current_url": "https://example.com/p/\', toString(n % 50), \'", "$session_id": "s\', '
            f"toString(intDiv(n, 20)), '\", \"price\": ', toString(n % 100), '}}'), "
            f"now64(6) - toIntervalSecond(cityHash64(n) % (30 * 86400)), {team_id}, "
            f"concat('user-', toString(cityHash64(n, 2) % {persons})), '', now64(6), "
            "toUUID('00000000-0000-0000-0000-000000000000'), '{}', 'full', now() "
            f"FROM (SELECT number + {done} AS n FROM numbers({size}))"
        )
        done += size
        _progress("loading events", done, events, started)
    client.command(f"OPTIMIZE TABLE {table('events')} FINAL")
    print(f"loaded {events:,} events and {persons:,} persons in {time.perf_counter() - started:.1f} s")


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000, help="synthetic events to load (default 10M)")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="rows per INSERT … SELECT FROM numbers()")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per query (median reported)")
    parser.add_argument("--var-dir", default="", help="data directory (default: a fresh temporary one)")
    args = parser.parse_args()

    var_dir = args.var_dir or tempfile.mkdtemp(prefix="bench_query_")
    _setup_django(var_dir)

    from rest_framework.test import APIClient

    from posthog_clone.accounts.services import organization_create, personal_api_key_create, team_create, user_create
    from posthog_clone.clickhouse import get_client
    from posthog_clone.clickhouse.migrations import migrate
    from query.runner import hogql_execute

    migrate()
    user = user_create(email=f"bench-{time.time_ns()}@example.com")
    org = organization_create(name="bench", owner=user)
    team = team_create(organization=org, name="bench")
    _, key = personal_api_key_create(user=user, label="bench", scopes=["query:read"])
    _load(team.pk, args.events, args.chunk)

    api = APIClient(HTTP_HOST="localhost")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = f"/api/projects/{team.pk}/query/"
    client = get_client()

    print(
        f"\n{'query':<24}{'/query/ ms':>12}{'raw chDB ms':>13}{'ratio':>8}{'overhead ms':>13}"
        f"{'cold compile ms':>17}  target"
    )
    for name, sql in QUERIES.items():
        compiled = hogql_execute(team=team, query=sql)  # also warms caches
        params, cold_compile = _raw_params(team, sql)
        api_times, raw_times = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            client.query(compiled.clickhouse, params)
            raw_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            response = api.post(
                url, {"query": {"kind": "HogQLQuery", "query": sql}, "refresh": "force_blocking"}, format="json"
            )
            api_times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.content
        api_ms, raw_ms = _median_ms(api_times), _median_ms(raw_times)
        ok = api_ms <= 1.2 * raw_ms + 5 and (name != "top events 7d" or args.events < 10_000_000 or api_ms <= 150)
        verdict = "ok" if ok else "MISS"
        ratio = api_ms / raw_ms
        overhead = api_ms - raw_ms
        cold = cold_compile * 1000
        print(f"{name:<24}{api_ms:>12.1f}{raw_ms:>13.1f}{ratio:>8.2f}{overhead:>13.1f}{cold:>17.1f}  {verdict}")
    print(f"\n{args.events:,} events, median of {args.repeat} runs (repeated requests reuse the compiled SQL)")
    if not args.var_dir:
        shutil.rmtree(var_dir, ignore_errors=True)


def _raw_params(team: object, sql: str) -> tuple[dict, float]:
    """The parameters of the compiled SQL (the same compile the view does) and a cold compile's time."""
    from django.conf import settings

    from query.hogql.ast import HogQLContext
    from query.hogql.compiler import compile_hogql
    from query.hogql.passes.limits import LIMIT_CONTEXTS
    from query.runner import query_settings
    from query.selectors import property_types_for_team

    ctx = HogQLContext(
        team_id=team.pk,  # type: ignore[attr-defined]
        timezone=team.timezone,  # type: ignore[attr-defined]
        database=settings.CLICKHOUSE_DATABASE,
        property_types=property_types_for_team(team=team),  # type: ignore[arg-type]
    )
    started = time.perf_counter()
    compiled = compile_hogql(
        sql, ctx, limit_context=LIMIT_CONTEXTS["query"], paginate=(100, 0), settings=query_settings("query")
    )
    return compiled.params, time.perf_counter() - started


if __name__ == "__main__":
    main()
