"""`PathsQuery` (reference §7): the most common paths users take, as edges between numbered nodes.

The HogQL is `query.kinds.paths_sql`'s (one scan of `events` through `hogql_execute`, the per-actor paths built
with arrays in ClickHouse); here the runner: the edges as ClickHouse ranks and cuts them (value desc, source,
target; `edgeLimit`), then only those reachable from a `1_` node through the edges kept (§7.6), in that order:

    {"source": "1_/home", "target": "2_/pricing", "value": 1, "average_conversion_time": 120000.0}

`average_conversion_time` is the mean of the milliseconds between the two events (PostHog's mean seconds × 1000,
at millisecond precision). The schemas are `query.kinds.paths_schema`'s; the actors hook `query.kinds.paths_actors`'.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from posthog_clone.accounts.models import Team
from query.kinds.base import QueryKind
from query.kinds.paths_schema import PathsQueryResponseSerializer, PathsQuerySerializer
from query.kinds.paths_sql import PathsSql
from query.kinds.trends import trends_overrides
from query.runner import hogql_execute


def reachable(edges: list[list[Any]]) -> list[list[Any]]:
    """The edges (source first) whose source can be reached from a `1_` node through the edges given, in order."""
    targets: dict[str, list[str]] = defaultdict(list)
    for source, target, *_ in edges:
        targets[source].append(target)
    seen: set[str] = set()
    stack = [source for source, *_ in edges if source.startswith("1_")]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        stack.extend(targets[node])
    return [edge for edge in edges if edge[0] in seen]


def run_paths_query(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    sql = PathsSql(team, query, limit_context)
    result = hogql_execute(team=team, query=sql.edges(), limit_context=limit_context, limit=sql.edge_limit)
    results = [
        {
            "source": source,
            "target": target,
            "value": int(value),
            "average_conversion_time": float(average_ms) if average_ms is not None else None,
        }
        for source, target, value, average_ms in reachable(result.results)
    ]
    return {
        "results": results,
        "hogql": result.hogql,
        "timings": [{"k": ".", "t": sum(t.get("t", 0) for t in result.timings if t.get("k") == ".")}],
        "resolved_date_range": sql.date_range.resolved_date_range(),
    }


PATHS_WITHOUT_ACTORS = QueryKind(
    name="PathsQuery",
    request=PathsQuerySerializer,
    response=PathsQueryResponseSerializer,
    run=run_paths_query,
    apply_overrides=trends_overrides,
)
