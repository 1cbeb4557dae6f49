"""What a query kind is: a request schema (a DRF serializer of the node), a response schema, and a runner
that builds HogQL for the node and runs it through `query.runner.hogql_execute`, so team isolation,
limits, timeouts and ClickHouse error mapping are the HogQL path's. The endpoint (`query.services`) adds
the cache, the refresh modes, async runs and the cache envelope around whatever the runner returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers
from sqlglot import exp

from posthog_clone.accounts.models import Team
from posthog_clone.api.field_copies import ShallowFieldCopiesMixin

EXTRA_INPUTS = "Extra inputs are not permitted"  # pydantic's wording, which PostHog answers with


def reject_unknown(serializer: serializers.Serializer, data: Any) -> None:
    """PostHog's query models forbid unknown keys: 400 naming the first one (attr `query__<key>`)."""
    if isinstance(data, dict):
        unknown = sorted(set(data) - set(serializer.fields))
        if unknown:
            raise serializers.ValidationError({unknown[0]: [EXTRA_INPUTS]})


class StrictSerializer(ShallowFieldCopiesMixin, serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        reject_unknown(self, data)
        return super().to_internal_value(data)


# (team, the validated query node, limit context) → the kind's response body without the cache envelope
Runner = Callable[[Team, dict[str, Any], str], dict[str, Any]]
# (the validated query node, the request body) → the node with `filters_override`/`variables_override` merged in
Overrides = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]
# (team, the validated insight node, the drill-down parameters of an `InsightActorsQuery` — `day`, `series`,
# `breakdown`, `compare`, `status`, `interval`, `operator`, … —, limit context) → a HogQL SELECT over events
# whose first column is `actor_id` (the person id, one row per actor) and whose other columns are extras
# named by alias (`event_count`, `matching_events`). `ActorsQuery` with that insight as `source` joins it to
# persons. Invalid parameters raise `HogQLQueryError` (a 400).
ActorsSource = Callable[[Team, dict[str, Any], dict[str, Any], str], exp.Select]
# (team, the validated insight node, limit context) → what `InsightActorsQueryOptions` answers for it: `{label,
# value}` lists under `day`, `status`, `interval`, `breakdown`, `series`, `compare` (null where not applicable)
# and `breakdowns`.
ActorsOptions = Callable[[Team, dict[str, Any], str], dict[str, Any]]


@dataclass(frozen=True)
class QueryKind:
    name: str
    request: type[serializers.Serializer]
    response: type[serializers.Serializer]
    run: Runner
    apply_overrides: Overrides
    actors: ActorsSource | None = None
    """Insight kinds: who was counted in one data point (what `InsightActorsQuery` asks)."""
    actors_options: ActorsOptions | None = None
    """Insight kinds: the data points a client may ask `actors` about (what `InsightActorsQueryOptions` asks)."""


def no_overrides(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """`apply_overrides` of a kind that a dashboard's dates and filters do not apply to: the node as is."""
    return query


KINDS: dict[str, QueryKind] = {}
"""Every kind by name; the package (`query.kinds`) fills it. Here so that kinds which run other kinds (ActorsQuery
with an insight source) can look them up without importing the package that imports them."""


# The cache and status fields every kind's response carries (query/services.py fills them). A comment, not a
# docstring: the spec would give each kind's response that text as its description.
class CachedResponseSerializer(serializers.Serializer):
    cache_key = serializers.CharField(help_text="Key of the cached result.")
    is_cached = serializers.BooleanField(help_text="Served from cache.")
    last_refresh = serializers.DateTimeField(help_text="When the result was computed.")
    next_allowed_client_refresh = serializers.DateTimeField(help_text="Before this, refreshes serve the cache.")
    cache_target_age = serializers.DateTimeField(help_text="When the result becomes stale (last_refresh + threshold).")
    timezone = serializers.CharField(help_text="The project timezone used for DateTimes.")
    query_status = serializers.JSONField(allow_null=True, help_text="Async status (null for blocking runs).")
