"""What the console's detail pages show, made once over bench.query's dataset: the persons in the Django database
(as ingestion leaves them), a calculated dynamic cohort (`plan = pro`: a third of the persons) and a static one
of 1,000, a multivariate flag, three saved insights on a dashboard, and 1M session replay blocks (200,000
sessions over 30 days, five blocks each). Returns the URL of each page's default view."""

from __future__ import annotations

import json
import time
from typing import Any

RECORDING_SESSIONS = 200_000


def _persons_to_django(team_id: int) -> int:
    from django.utils import timezone

    from persons.models import Person, PersonDistinctId
    from posthog_clone.clickhouse import get_client, table

    client = get_client()
    rows = client.query(f"SELECT toString(id), properties FROM {table('person')} WHERE team_id = {team_id}").rows
    now = timezone.now()
    persons = [
        Person(team_id=team_id, uuid=uuid, properties=json.loads(props), is_identified=True, created_at=now)
        for uuid, props in rows
    ]
    Person.objects.bulk_create(persons, batch_size=5000)
    by_uuid = {str(k): v for k, v in Person.objects.filter(team_id=team_id).values_list("uuid", "id")}
    pdis = client.query(
        f"SELECT distinct_id, toString(person_id) FROM {table('person_distinct_id2')} WHERE team_id = {team_id}"
    ).rows
    PersonDistinctId.objects.bulk_create(
        [PersonDistinctId(team_id=team_id, person_id=by_uuid[p], distinct_id=d) for d, p in pdis], batch_size=5000
    )
    return len(persons)


def _recordings(team_id: int) -> None:
    from posthog_clone.clickhouse import get_client, table

    blocks = RECORDING_SESSIONS * 5
    get_client().command(
        f"INSERT INTO {table('session_replay_events')} (session_id, team_id, distinct_id, block_id, window_id, "
        "min_first_timestamp, max_last_timestamp, first_url, all_urls, click_count, keypress_count, "
        "mouse_activity_count, active_milliseconds, console_log_count, console_warn_count, console_error_count, "
        "size, message_count, event_count, snapshot_source, snapshot_library, retention_period_days, blob_key, "
        "blob_start, blob_end, _timestamp) "
        f"SELECT concat('s-', toString(s)), {team_id}, concat('user-', toString(s % 120000)), toString(number), 'w1', "
        "start + toIntervalSecond(b * 10), start + toIntervalSecond(b * 10 + 9), "
        "if(b = 0, 'https://example.com/', NULL), ['https://example.com/'], 3, 5, 20, 9000, 1, 0, 0, 20000, 1, 40, "
        "'web', 'web', 30, concat('bench/', toString(number)), 0, 20000, now() "
        f"FROM (SELECT number, intDiv(number, 5) AS s, number % 5 AS b, "
        f"now64(6) - toIntervalSecond(cityHash64(intDiv(number, 5)) % (30 * 86400)) AS start FROM numbers({blocks}))"
    )


def _insights(team: Any, user: Any) -> tuple[Any, list[Any]]:
    from dashboards.services import dashboard_create
    from insights.services import insight_create

    dashboard = dashboard_create(team=team, user=user, data={"name": "Bench dashboard"})
    pageviews = {"kind": "EventsNode", "event": "$pageview"}
    sources = {
        "Pageviews by day": {"kind": "TrendsQuery", "series": [pageviews], "dateRange": {"date_from": "-7d"}},
        "Signup funnel": {
            "kind": "FunnelsQuery",
            "dateRange": {"date_from": "-30d"},
            "series": [
                pageviews,
                {"kind": "EventsNode", "event": "signup"},
                {"kind": "EventsNode", "event": "purchase"},
            ],
        },  # fmt: skip
        "Weekly retention": {"kind": "RetentionQuery", "dateRange": {"date_from": "-30d"}},
    }
    insights = [
        insight_create(
            team=team,
            user=user,
            data={"name": name, "dashboards": [dashboard.pk], "query": {"kind": "InsightVizNode", "source": source}},
        )  # fmt: skip
        for name, source in sources.items()
    ]
    return dashboard, insights


def prepare(team: Any, user: Any) -> dict[str, str]:
    from cohorts import worker
    from cohorts.models import Cohort, CohortPeople
    from flags.models import FeatureFlag
    from persons.models import Person, PersonDistinctId

    started = time.perf_counter()
    count = _persons_to_django(team.pk)
    print(f"{count:,} persons written to the Django database in {time.perf_counter() - started:.1f} s")
    rule = {"type": "person", "key": "plan", "value": "pro", "operator": "exact"}
    group = {"type": "OR", "values": [{"type": "AND", "values": [rule]}]}
    dynamic = Cohort.objects.create(team=team, name="Pro plan", is_calculating=True, filters={"properties": group})
    started = time.perf_counter()
    worker.run_pending()
    dynamic.refresh_from_db()
    print(f"dynamic cohort calculated: {dynamic.count:,} members in {time.perf_counter() - started:.1f} s")
    static = Cohort.objects.create(team=team, name="Picked", is_static=True, count=1000)
    picked = Person.objects.filter(team=team).values_list("pk", flat=True)[:1000]
    CohortPeople.objects.bulk_create([CohortPeople(cohort=static, person_id=pk) for pk in picked])
    variants = [{"key": "a", "rollout_percentage": 50}, {"key": "b", "rollout_percentage": 50}]
    filters = {"groups": [{"properties": [], "rollout_percentage": 50}], "multivariate": {"variants": variants}}
    flag = FeatureFlag.objects.create(team=team, key="bench-flag", filters=filters)
    person = PersonDistinctId.objects.get(team=team, distinct_id="user-0").person
    dashboard, insights = _insights(team, user)
    started = time.perf_counter()
    _recordings(team.pk)
    print(f"{RECORDING_SESSIONS * 5:,} replay blocks loaded in {time.perf_counter() - started:.1f} s")
    base = f"/console/project/{team.pk}"
    return {
        "activity": f"{base}/activity/",
        "sql": f"{base}/sql/",
        "insights": f"{base}/insights/",
        **{f"insight: {i.name}": f"{base}/insights/{i.short_id}/" for i in insights},
        "dashboards": f"{base}/dashboards/",
        "dashboard (3 tiles)": f"{base}/dashboards/{dashboard.pk}/",
        "people": f"{base}/people/",
        "person (7 days of events)": f"{base}/people/{person.uuid}/",
        "cohorts": f"{base}/cohorts/",
        "cohort (dynamic, members)": f"{base}/cohorts/{dynamic.pk}/",
        "cohort (static, members)": f"{base}/cohorts/{static.pk}/",
        "flags": f"{base}/flags/",
        "flag edit": f"{base}/flags/{flag.pk}/edit/",
        "recordings": f"{base}/recordings/",
        "settings": f"{base}/settings/",
        "(not default) people search": f"{base}/people/?search=user12345@",
    }
