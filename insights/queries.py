"""An insight's `query`: which nodes it may hold, how it is checked and what actually runs.

An insight stores a node as sent: `InsightVizNode` (its `source` an insight kind: TrendsQuery, FunnelsQuery,
…), `DataTableNode` / `DataVisualizationNode` (any runnable `source`, usually `HogQLQuery` or `EventsQuery`) or
a bare runnable kind. The wrapper's display keys (`showLegend`, `full`, `vizSpecificOptions`, …) are kept but not
checked: PostHog's UI sends many of them, and they do not change results. The runnable node (the `source`, or
the node itself) is checked against its kind's schema, as /query/ checks it, and is what runs: the same
effective query from /query/ and from an insight share one cache entry.

An invalid node is PostHog's 400 `{"type": "invalid_request", "code": "parse_error", "detail": ...}`."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status

from query import services

WRAPPERS = frozenset({"InsightVizNode", "DataTableNode", "DataVisualizationNode"})
INSIGHT_TYPES = {
    "TrendsQuery": "TRENDS",
    "FunnelsQuery": "FUNNELS",
    "RetentionQuery": "RETENTION",
    "PathsQuery": "PATHS",
    "StickinessQuery": "STICKINESS",
    "LifecycleQuery": "LIFECYCLE",
}
NOT_AN_OBJECT = "Query must be a valid JSON object"


class QueryParseError(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "parse_error"
    error_type = "invalid_request"


def _flatten(detail: Any, path: tuple[str, ...] = ()) -> str:
    """The first message of a DRF error tree, prefixed with where it is (`source.series.0.math: ...`)."""
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        return _flatten(value, (*path, str(key)) if key != "non_field_errors" else path)
    if isinstance(detail, list) and detail:
        return _flatten(detail[0], path)
    text = str(detail) if detail not in ({}, []) else "Invalid query."
    return f"{'.'.join(path)}: {text}" if path else text


def _runnable(node: Any, where: tuple[str, ...]) -> dict[str, Any]:
    try:
        return services.validate_query_node(node)
    except exceptions.ValidationError as error:
        raise QueryParseError(_flatten(error.detail, where)) from error


def source_node(query: dict[str, Any]) -> Any:
    """The node that runs: a wrapper's `source`, else the node itself."""
    return query.get("source") if query.get("kind") in WRAPPERS else query


def check_insight_query(query: Any) -> dict[str, Any]:
    """`query` if an insight may hold it; raises QueryParseError otherwise."""
    if not isinstance(query, dict):
        raise QueryParseError(NOT_AN_OBJECT)
    kind = query.get("kind")
    if kind in WRAPPERS:
        source = query.get("source")
        if not isinstance(source, dict):
            raise QueryParseError(f"source: {NOT_AN_OBJECT}")
        if kind == "InsightVizNode" and source.get("kind") not in INSIGHT_TYPES:
            raise QueryParseError(
                f"source.kind: InsightVizNode needs an insight query ({', '.join(INSIGHT_TYPES)}), "
                f"got {source.get('kind')!r}"
            )
        _runnable(source, ("source",))
    else:
        _runnable(query, ())
    return query


def runnable_query(query: dict[str, Any] | None) -> dict[str, Any] | None:
    """The validated node that runs for a stored insight query (None: nothing runs, e.g. a legacy insight)."""
    if not isinstance(query, dict):
        return None
    source = source_node(query)
    if not isinstance(source, dict):
        return None
    try:
        return services.validate_query_node(source)
    except exceptions.ValidationError:
        return None  # stored before a schema change: shown without results


def insight_type(query: dict[str, Any] | None) -> str:
    """PostHog's legacy insight type of a query: TRENDS, FUNNELS, …, SQL (a wrapper around HogQL) or JSON."""
    if not isinstance(query, dict):
        return "JSON"
    source = source_node(query)
    source_kind = source.get("kind") if isinstance(source, dict) else None
    if query.get("kind") == "InsightVizNode" and source_kind in INSIGHT_TYPES:
        return INSIGHT_TYPES[source_kind]
    if query.get("kind") in {"DataVisualizationNode", "DataTableNode"} and source_kind == "HogQLQuery":
        return "SQL"
    return "JSON"
