"""`python -m bench.query [--events N] [--repeat R] [--only NAME] [--show-sql] [--var-dir DIR [--reuse]]`: load N
synthetic events (default 10M; 1 % as many persons, each fifth with a second distinct id; 35 days; `$browser` with a
long tail) into a throwaway chDB (or, with `--var-dir DIR --reuse`, one kept in DIR and reused by later runs: the
events' times are relative to the load), then time typical queries through the Django /query/ view against the
engine directly.

- HogQL queries: /query/ against their own compiled SQL on chDB.
- TrendsQuery (DAU of `$pageview` by day over 30 days, broken down by `$browser`: top 25 + other): /query/
  against one hand-written ClickHouse statement, after checking both give the same answer.
- FunnelsQuery (`$pageview` → `signup` → `purchase`, 30 days, 14-day window): the same, its counts also checked
  against ClickHouse's windowFunnel; target also ≤ 1 s over 10M events.
- RetentionQuery and PathsQuery (`$pageview` paths over 30 days): the same, against hand-written statements.

Prints, per query, the median /query/ latency, the median raw chDB time, the ratio and the overhead, against
the target (≤ 1.2× raw + 5 ms; top events over 10M ≤ 150 ms); exits 1 naming the queries that MISS it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from bench.query import funnels, paths, retention, trends
from bench.query.funnels import NAME as FUNNELS_NAME
from bench.query.trends import NAME as TRENDS_NAME

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


BROWSERS = (
    # (name, share per mille): a head of real browsers, then a tail of 60 rare ones and 1 % without $browser,
    # so the 25-value breakdown has an other bucket and a null value.
    ("Chrome", 450), ("Safari", 200), ("Firefox", 150), ("Edge", 80), ("Opera", 40), ("Samsung Internet", 20),
    ("Brave", 15), ("Vivaldi", 10), ("UC Browser", 10), ("", 10),
)  # fmt: skip
TAIL_BROWSERS = 60
DAYS = 35


def _browser_sql(n: str) -> str:
    """A ClickHouse expression picking the `$browser` of event `n` ("" = none), per mille from BROWSERS."""
    pick = f"cityHash64({n}, 3) % 1000"
    branches, bound = [], 0
    for name, share in BROWSERS:
        bound += share
        branches.append(f"{pick} < {bound}, '{name}'")
    tail = f"concat('Browser ', toString(cityHash64({n}, 4) % {TAIL_BROWSERS}))"
    return f"multiIf({', '.join(branches)}, {tail})"


def _load(team_id: int, events: int, chunk: int) -> None:
    from posthog_clone.clickhouse import get_client, table

    client = get_client()
    started = time.perf_counter()
    persons = max(events // 100, 10)
    distinct_ids = persons * 6 // 5  # a fifth of the persons have a second distinct id
    person_uuid = "reinterpretAsUUID(cityHash64({} % " + str(persons) + ", 1))"
    client.command(
        f"INSERT INTO {table('person')} (id, created_at, team_id, properties, is_identified, is_deleted, version) "
        f"SELECT {person_uuid.format('number')}, now64(3), {team_id}, "
        'concat(\'{"email": "user\', toString(number), \'@example.com", "plan": "\', '
        "['free', 'pro', 'enterprise'][number % 3 + 1], '\"}'), 1, 0, 1 "
        f"FROM numbers({persons})"
    )
    client.command(
        f"INSERT INTO {table('person_distinct_id2')} (team_id, distinct_id, person_id, is_deleted, version) "
        f"SELECT {team_id}, concat('user-', toString(number)), {person_uuid.format('number')}, 0, 1 "
        f"FROM numbers({distinct_ids})"
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
            "concat('{', if(browser = '', '', concat('\"$browser\": \"', browser, '\", ')),"
            ' \'"$current_url": "https://example.com/p/\', toString(n % 50), \'", "$session_id": "s\', '
            f"toString(intDiv(n, 20)), '\", \"price\": ', toString(n % 100), '}}'), "
            f"now64(6) - toIntervalSecond(cityHash64(n) % ({DAYS} * 86400)), {team_id}, "
            f"concat('user-', toString(d)), '', now64(6), {person_uuid.format('d')}, '{{}}', 'full', now() "
            f"FROM (SELECT number + {done} AS n, cityHash64(n, 2) % {distinct_ids} AS d, {_browser_sql('n')} AS browser"
            f" FROM numbers({size}))"
        )
        done += size
        _progress("loading events", done, events, started)
    client.command(f"OPTIMIZE TABLE {table('events')} FINAL")
    print(
        f"loaded {events:,} events, {persons:,} persons and {distinct_ids:,} distinct ids "
        f"in {time.perf_counter() - started:.1f} s"
    )


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000, help="synthetic events to load (default 10M)")
    parser.add_argument("--chunk", type=int, default=1_000_000, help="rows per INSERT … SELECT FROM numbers()")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per query (median reported)")
    parser.add_argument("--var-dir", default="", help="data directory (default: a fresh temporary one, removed after)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --var-dir: reuse the dataset an earlier run loaded there (same --events), else load and keep it",
    )
    parser.add_argument("--only", default="", help="run only the queries whose name contains this (e.g. trends)")
    parser.add_argument(
        "--show-sql", action="store_true", help="print the TrendsQuery's compiled ClickHouse SQL and the hand SQL"
    )
    parser.add_argument(
        "--server",
        action="store_true",
        help="also time the HogQL queries through the real server (manage.py serve) on the same data",
    )
    parser.add_argument("--json", default="", help=argparse.SUPPRESS)  # the in-process run's numbers, for --server
    args = parser.parse_args()

    var_dir = args.var_dir or tempfile.mkdtemp(prefix="bench_query_")
    if args.server:
        from bench.query import server

        argv = sys.argv[1:] if args.var_dir else [*sys.argv[1:], "--var-dir", var_dir]
        code = server.run(argv, var_dir, args.repeat)
        if not args.var_dir:
            shutil.rmtree(var_dir, ignore_errors=True)
        sys.exit(code)
    _setup_django(var_dir)

    from rest_framework.test import APIClient

    from posthog_clone.accounts.services import organization_create, personal_api_key_create, team_create, user_create
    from posthog_clone.clickhouse.migrations import migrate

    migrate()
    marker = os.path.join(var_dir, f"bench_dataset_{args.events}.json")
    if args.reuse and os.path.exists(marker):
        from posthog_clone.accounts.models import Team

        with open(marker) as f:
            loaded = json.load(f)
        team = Team.objects.get(pk=loaded["team"])
        user = team.organization.memberships.first().user
        print(f"reusing {args.events:,} events loaded {loaded['loaded_at']} (team {team.pk})")
    else:
        user = user_create(email=f"bench-{time.time_ns()}@example.com")
        org = organization_create(name="bench", owner=user)
        team = team_create(organization=org, name="bench")
        _load(team.pk, args.events, args.chunk)
        if args.reuse:
            with open(marker, "w") as f:
                json.dump({"team": team.pk, "loaded_at": dt.datetime.now(dt.UTC).isoformat()}, f)
    _, key = personal_api_key_create(user=user, label="bench", scopes=["query:read"])

    api = APIClient(HTTP_HOST="localhost")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    bench = _Bench(team, api, args)
    print(
        f"\n{'query':<28}{'/query/ ms':>12}{'raw chDB ms':>13}{'ratio':>8}{'overhead ms':>13}"
        f"{'cold compile ms':>17}  target"
    )
    missed = []
    for name, sql in QUERIES.items():
        if args.only in name and not bench.hogql_case(name, sql):
            missed.append(name)
    if args.json:
        Path(args.json).write_text(
            json.dumps({"team": team.pk, "key": key, "events": args.events, "hogql": bench.hogql_results})
        )
        return
    if args.only in TRENDS_NAME and not bench.trends_case():
        missed.append(TRENDS_NAME)
    if args.only in FUNNELS_NAME and not bench.funnels_case():
        missed.append(FUNNELS_NAME)
    if args.only in retention.NAME and not retention.run_case(bench):
        missed.append(retention.NAME)
    if args.only in paths.NAME and not paths.run_case(bench):
        missed.append(paths.NAME)
    print(f"\n{args.events:,} events, median of {args.repeat} runs (repeated requests reuse the compiled SQL)")
    if not args.var_dir:
        shutil.rmtree(var_dir, ignore_errors=True)
    if missed:
        print(f"MISS: {', '.join(missed)}")
        sys.exit(1)


def _row(name: str, api_ms: float, raw_ms: float, cold_ms: float | None, ok: bool) -> None:
    cold = f"{cold_ms:>17.1f}" if cold_ms is not None else f"{'-':>17}"
    ratio, overhead = api_ms / raw_ms, api_ms - raw_ms
    print(f"{name:<28}{api_ms:>12.1f}{raw_ms:>13.1f}{ratio:>8.2f}{overhead:>13.1f}{cold}  {'ok' if ok else 'MISS'}")


class _Bench:
    def __init__(self, team: Any, api: Any, args: argparse.Namespace):
        from posthog_clone.clickhouse import get_client

        self.team, self.api, self.args = team, api, args
        self.url = f"/api/projects/{team.pk}/query/"
        self.client = get_client()
        self.hogql_results: dict[str, dict[str, Any]] = {}

    def _post(self, query: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        response = self.api.post(self.url, {"query": query, "refresh": "force_blocking"}, format="json")
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.content
        return elapsed, response.json()

    def _raw(self, sql: str, params: dict[str, Any] | None = None) -> tuple[float, Any]:
        started = time.perf_counter()
        result = self.client.query(sql, params)
        return time.perf_counter() - started, result

    def hogql_case(self, name: str, sql: str) -> bool:
        """A HogQLQuery through /query/ against its own compiled SQL on chDB."""
        from query.runner import hogql_execute

        compiled = hogql_execute(team=self.team, query=sql)  # also warms caches
        params, cold_compile = _raw_params(self.team, sql)
        api_times, raw_times = [], []
        for _ in range(self.args.repeat):
            raw_times.append(self._raw(compiled.clickhouse, params)[0])
            api_times.append(self._post({"kind": "HogQLQuery", "query": sql})[0])
        api_ms, raw_ms = _median_ms(api_times), _median_ms(raw_times)
        ok = api_ms <= 1.2 * raw_ms + 5 and (name != "top events 7d" or self.args.events < 10_000_000 or api_ms <= 150)
        _row(name, api_ms, raw_ms, cold_compile * 1000, ok)
        self.hogql_results[name] = {"sql": sql, "api_ms": api_ms, "raw_ms": raw_ms}
        return ok

    def trends_case(self) -> bool:
        """The TrendsQuery through /query/ against one hand-written statement giving the same answer."""
        import query.kinds.trends as trends_kind
        from posthog_clone.clickhouse import table
        from query.kinds import KINDS

        today = dt.datetime.now(dt.UTC).date()
        query = trends.trends_query(today)
        where = {"events": table("events"), "pdi": table("person_distinct_id2"), "team_id": self.team.pk}
        hand = trends.hand_sql(**where, today=today, timezone=self.team.timezone or "UTC")
        exact = trends.hand_sql(**where, today=today, timezone=self.team.timezone or "UTC", read=trends.POSTHOG_READ)
        with trends.SqlRecorder(trends_kind) as recorder:
            runner_items = KINDS["TrendsQuery"].run(self.team, query, "query")["results"]
        expected = trends.answer_from_rows(self._raw(hand)[1].rows)
        trends.check_equal(trends.answer_from_rows(self._raw(exact)[1].rows), expected, "the PostHog-read hand SQL")
        trends.check_equal(trends.answer_from_items(runner_items), expected, "the TrendsQuery runner")
        trends.check_equal(trends.answer_from_items(self._post(query)[1]["results"]), expected, "/query/")
        if self.args.show_sql:
            for i, (sql, params) in enumerate(recorder.compiled, 1):
                print(f"\n-- TrendsQuery, compiled query {i} of {len(recorder.compiled)} (params {params})\n{sql}")
            print(f"\n-- hand-written\n{hand}")
        runs = {
            "raw": lambda: self._raw(hand)[0],
            "api": lambda: self._post(query)[0],
            "own": lambda: sum(self._raw(sql, params)[0] for sql, params in recorder.compiled),
            "exact": lambda: self._raw(exact)[0],
        }
        times: dict[str, list[float]] = {name: [] for name in runs}
        for i in range(self.args.repeat):
            order = list(runs)[i % len(runs) :] + list(runs)[: i % len(runs)]  # each first in turn: no order bias
            for name in order:
                times[name].append(runs[name]())
        api_ms, raw_ms = _median_ms(times["api"]), _median_ms(times["raw"])
        ok = api_ms <= 1.2 * raw_ms + 5
        _row(TRENDS_NAME, api_ms, raw_ms, None, ok)
        own_ms, exact_ms = _median_ms(times["own"]), _median_ms(times["exact"])
        print(
            f"{'':<4}raw = the hand SQL (JSONExtractString); target ≤ 1.2 × raw + 5 = {1.2 * raw_ms + 5:.1f} ms\n"
            f"{'':<4}the runner's {len(recorder.compiled)} compiled queries run directly: {own_ms:.1f} ms "
            f"({own_ms / raw_ms:.2f} × raw)\n"
            f"{'':<4}the hand SQL reading $browser as PostHog does (raw JSON, quotes trimmed): {exact_ms:.1f} ms; "
            f"/query/ is {api_ms / exact_ms:.2f} × that"
        )
        return ok

    def funnels_case(self) -> bool:
        """The FunnelsQuery through /query/ against one hand-written statement giving the same answer."""
        from posthog_clone.clickhouse import table
        from query.kinds import KINDS

        today = dt.datetime.now(dt.UTC).date()
        query = funnels.funnels_query(today)
        where = {"events": table("events"), "pdi": table("person_distinct_id2"), "team_id": self.team.pk}
        hand = funnels.hand_sql(**where, today=today, timezone=self.team.timezone or "UTC")
        native = funnels.window_funnel_sql(**where, today=today, timezone=self.team.timezone or "UTC")
        expected = funnels.answer_from_rows(self._raw(hand)[1].rows)
        levels = funnels.counts_from_levels(self._raw(native)[1].rows)
        if levels != [count for count, _, _ in expected]:
            raise SystemExit(f"{FUNNELS_NAME}: windowFunnel counts {levels} != the hand SQL's {expected}")
        runner = KINDS["FunnelsQuery"].run(self.team, query, "query")
        funnels.check_equal(funnels.answer_from_items(runner["results"]), expected, "the FunnelsQuery runner")
        funnels.check_equal(funnels.answer_from_items(self._post(query)[1]["results"]), expected, "/query/")
        if self.args.show_sql:
            print(f"\n-- FunnelsQuery HogQL\n{runner['hogql']}\n\n-- hand-written\n{hand}")
        runs = {"raw": lambda: self._raw(hand)[0], "api": lambda: self._post(query)[0]}
        times: dict[str, list[float]] = {name: [] for name in runs}
        cpu: dict[str, list[float]] = {name: [] for name in runs}
        for i in range(self.args.repeat):
            for name in list(runs)[i % 2 :] + list(runs)[: i % 2]:
                started = time.process_time()  # chDB runs in this process: its threads' CPU time counts
                times[name].append(runs[name]())
                cpu[name].append(time.process_time() - started)
        api_ms, raw_ms = _median_ms(times["api"]), _median_ms(times["raw"])
        ok = api_ms <= 1.2 * raw_ms + 5 and (self.args.events < 10_000_000 or api_ms <= 1000)
        _row(FUNNELS_NAME, api_ms, raw_ms, None, ok)
        print(
            f"{'':<4}counts {[c for c, _, _ in expected]}; target ≤ 1.2 × raw + 5 = {1.2 * raw_ms + 5:.1f} ms\n"
            f"{'':<4}CPU time (all threads; moves far less with the machine's load than wall time): /query/ "
            f"{_median_ms(cpu['api']):.0f} ms, hand SQL {_median_ms(cpu['raw']):.0f} ms; load average "
            f"{os.getloadavg()[0]:.2f}"
        )
        return ok


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
