"""`HogQLQuery`: the SQL text as sent, compiled and run as is."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rest_framework import serializers

from posthog_clone.accounts.models import Team
from query.kinds.base import CachedResponseSerializer, QueryKind, StrictSerializer
from query.runner import hogql_execute, variable_values


class HogQLQuerySerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=["HogQLQuery"], help_text='Query kind: "HogQLQuery".')
    query = serializers.CharField(allow_blank=True, trim_whitespace=False, help_text="The HogQL (SQL) text.")
    values = serializers.DictField(required=False, help_text="Constants for `{placeholder}`s, always bound as values.")
    filters = serializers.DictField(
        required=False, help_text="HogQLFilters: `dateRange {date_from, date_to}`, `properties` (expand `{filters}`)."
    )
    modifiers = serializers.DictField(required=False, help_text="HogQLQueryModifiers; accepted and echoed.")
    variables = serializers.DictField(required=False, help_text="HogQL variables (accepted, not used).")
    explain = serializers.BooleanField(required=False, allow_null=True, help_text="Accepted for compatibility.")
    name = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="A label.")
    tags = serializers.DictField(required=False, help_text="Query tags (accepted, not used).")
    version = serializers.IntegerField(required=False, allow_null=True, help_text="Schema version (accepted).")
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")


class HogQLQueryResponseSerializer(CachedResponseSerializer):
    results = serializers.ListField(child=serializers.JSONField(), help_text="Rows, each a list of values.")
    columns = serializers.ListField(child=serializers.CharField(), help_text="HogQL-side column names.")
    types = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()), help_text="[column, ClickHouse type] pairs."
    )
    hogql = serializers.CharField(help_text="The normalized HogQL that ran (with the injected LIMIT).")
    clickhouse = serializers.CharField(help_text="The executed ClickHouse SQL with parameter markers and SETTINGS.")
    query = serializers.CharField(allow_blank=True, help_text="Echo of the input query text.")
    timings = serializers.ListField(
        child=serializers.DictField(), help_text='[{"k": step, "t": seconds}]; "." is total.'
    )
    modifiers = serializers.DictField(help_text="Effective modifiers (echoed).")
    hasMore = serializers.BooleanField(  # noqa: N815
        allow_null=True, help_text="More rows exist; set only when the query had no LIMIT (else null)."
    )
    limit = serializers.IntegerField(allow_null=True, help_text="Page size when the query had no LIMIT.")
    offset = serializers.IntegerField(allow_null=True, help_text="Page offset when the query had no LIMIT.")


def run_hogql_query(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    result = hogql_execute(
        team=team,
        query=query.get("query", ""),
        values=query.get("values"),
        filters=query.get("filters"),
        limit_context=limit_context,
        variables=variable_values(query.get("variables")),
    )
    return {**asdict(result), "query": query.get("query", "")}


def hogql_overrides(query: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Dashboard filters go into `filters` (what `{filters}` expands), variable values into `variables`."""
    query = dict(query)
    override = body.get("filters_override") or {}
    if override:
        filters = dict(query.get("filters") or {})
        current = filters.get("dateRange")
        date_range = dict(current) if isinstance(current, dict) else {}
        if override.get("date_from") or override.get("date_to"):  # both bounds are the dashboard's
            date_range.update(date_from=override.get("date_from"), date_to=override.get("date_to"))
        if date_range:
            filters["dateRange"] = date_range
        if override.get("properties"):
            filters["properties"] = [*(filters.get("properties") or []), *override["properties"]]
        query["filters"] = filters
    overrides = body.get("variables_override") or {}
    if overrides and isinstance(query.get("variables"), dict):
        merged = {key: dict(value) for key, value in query["variables"].items() if isinstance(value, dict)}
        for key, value in overrides.items():
            if key in merged and isinstance(value, dict) and "value" in value:
                merged[key]["value"] = value["value"]
        query["variables"] = merged
    return query


HOGQL_QUERY = QueryKind(
    name="HogQLQuery",
    request=HogQLQuerySerializer,
    response=HogQLQueryResponseSerializer,
    run=run_hogql_query,
    apply_overrides=hogql_overrides,
)
