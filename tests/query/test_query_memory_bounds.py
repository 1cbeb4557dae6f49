"""The embedded engine's per-query memory bounds (issue 26, docs/operations.md "Memory"), through /query/ on chDB:
a GROUP BY larger than CHDB_QUERY_EXTERNAL_GROUP_BY_MB spills to disk and answers, where the same query held in
memory hits the per-query memory limit and is PostHog's 400; joins run with CHDB_QUERY_JOIN_ALGORITHM and give
the hash join's answer."""

from __future__ import annotations

from typing import Any

import pytest

from posthog_clone.clickhouse import query_bounds
from posthog_clone.env import parse_clickhouse_url
from tests.query.conftest import insert_events, insert_person, run

# 3,000,000 distinct keys: ~100 MiB of hash table in memory, far over a 64 MiB limit; spilled in 8 MiB parts
WIDE_GROUP_BY = "SELECT count() FROM (SELECT number % 3000000 AS k, count() AS c FROM numbers(6000000) GROUP BY k)"


@pytest.mark.clickhouse
def test_a_group_by_over_the_bound_spills_and_answers(project: Any, settings: Any) -> None:
    settings.HOGQL_MAX_MEMORY_USAGE = 64 * 1024**2
    settings.CHDB_QUERY_EXTERNAL_GROUP_BY_MB = 8
    response = run(project, WIDE_GROUP_BY, refresh="force_blocking")
    assert response.status_code == 200, response.content
    assert response.json()["results"] == [[3_000_000]]
    assert "max_bytes_before_external_group_by=8388608" in response.json()["clickhouse"]


@pytest.mark.clickhouse
def test_without_the_bound_the_same_group_by_is_the_memory_limit_400(project: Any, settings: Any) -> None:
    settings.HOGQL_MAX_MEMORY_USAGE = 64 * 1024**2
    settings.CHDB_QUERY_EXTERNAL_GROUP_BY_MB = 0  # ClickHouse's own: the GROUP BY stays in memory
    response = run(project, WIDE_GROUP_BY, refresh="force_blocking")
    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["type"], body["code"]) == ("validation_error", "memory_limit_exceeded")
    assert "memory limit" in body["detail"]


@pytest.mark.clickhouse
@pytest.mark.parametrize("algorithm", ["prefer_partial_merge", "default"])
def test_the_persons_join_gives_the_same_people_with_either_join(project: Any, settings: Any, algorithm: str) -> None:
    settings.CHDB_QUERY_JOIN_ALGORITHM = algorithm
    # three people: ada (two distinct ids, three events), bob (one id, two events), cy (one event); one
    # event from an id without a person (not in an INNER join's answer)
    insert_person(project.team.pk, ["anon-a", "ada"], {"email": "ada@example.com"})
    insert_person(project.team.pk, ["bob"], {"email": "bob@example.com"})
    insert_person(project.team.pk, ["cy"], {"email": "cy@example.com"})
    ids = ["anon-a", "ada", "ada", "bob", "bob", "cy", "nobody"]
    insert_events(project.team.pk, [{"event": "$pageview", "distinct_id": d} for d in ids])
    response = run(
        project,
        "SELECT p.properties.email AS email, count() AS c FROM events e "
        "INNER JOIN persons p ON e.person_id = p.id GROUP BY email ORDER BY email",
        refresh="force_blocking",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["results"] == [["ada@example.com", 3], ["bob@example.com", 2], ["cy@example.com", 1]]
    assert ("join_algorithm='prefer_partial_merge'" in body["clickhouse"]) is (algorithm != "default")


def test_no_bounds_are_sent_to_a_clickhouse_server(settings: Any) -> None:
    settings.CLICKHOUSE = parse_clickhouse_url("CLICKHOUSE_URL", "http://default:@127.0.0.1:8123/posthog")
    assert query_bounds() == {}
    settings.CLICKHOUSE = parse_clickhouse_url("CLICKHOUSE_URL", "chdb:///tmp/x")
    assert query_bounds() == {"max_bytes_before_external_group_by": 0}  # the defaults: ClickHouse's own
    settings.CHDB_QUERY_EXTERNAL_GROUP_BY_MB, settings.CHDB_QUERY_JOIN_ALGORITHM = 16, "prefer_partial_merge"
    assert query_bounds() == {
        "max_bytes_before_external_group_by": 16 * 1024**2,
        "join_algorithm": "prefer_partial_merge",
    }
