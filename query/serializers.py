"""Request and response shapes of /query/ (PostHog's QueryRequest, HogQLQuery and the cached response)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


def _reject_unknown(serializer: serializers.Serializer, data: Any) -> None:
    if isinstance(data, dict):
        unknown = sorted(set(data) - set(serializer.fields))
        if unknown:
            raise serializers.ValidationError({unknown[0]: ["Extra inputs are not permitted"]})


class HogQLQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["HogQLQuery"], help_text='Query kind; only "HogQLQuery" is supported.')
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

    def to_internal_value(self, data: Any) -> Any:
        _reject_unknown(self, data)
        return super().to_internal_value(data)


class QueryRequestSerializer(serializers.Serializer):
    query = HogQLQuerySerializer(help_text="The query to run, discriminated by `kind`.")
    refresh = serializers.JSONField(
        required=False,
        help_text="blocking (default), async, lazy_async, force_blocking (or true), force_async, force_cache.",
    )
    client_query_id = serializers.CharField(
        required=False, max_length=200, help_text="Caller-chosen id, used for async status and cancel."
    )
    name = serializers.CharField(required=False, max_length=128, allow_blank=True, help_text="Label for logs.")
    filters_override = serializers.DictField(required=False, allow_null=True, help_text="Dashboard filters merged in.")
    variables_override = serializers.DictField(required=False, allow_null=True, help_text="Dashboard variables.")
    limit_context = serializers.ChoiceField(
        choices=["posthog_ai"], required=False, allow_null=True, help_text='Only "posthog_ai" may be sent.'
    )

    def validate_refresh(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        raise serializers.ValidationError("Must be a boolean or one of the refresh mode names.")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["async"] = serializers.BooleanField(required=False, help_text='Legacy: true means refresh "async".')
        return fields

    def to_internal_value(self, data: Any) -> Any:
        _reject_unknown(self, data)
        return super().to_internal_value(data)


class QueryResponseSerializer(serializers.Serializer):
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
    cache_key = serializers.CharField(help_text="Key of the cached result.")
    is_cached = serializers.BooleanField(help_text="Served from cache.")
    last_refresh = serializers.DateTimeField(help_text="When the result was computed.")
    next_allowed_client_refresh = serializers.DateTimeField(help_text="Before this, refreshes serve the cache.")
    timezone = serializers.CharField(help_text="The project timezone used for DateTimes.")
    query_status = serializers.JSONField(allow_null=True, help_text="Async status (null for blocking runs).")


class QueryStatusSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Query id.")
    team_id = serializers.IntegerField(help_text="Project id.")
    complete = serializers.BooleanField(help_text="Done (also when it failed).")
    error = serializers.BooleanField(help_text="It failed.")
    error_message = serializers.CharField(allow_null=True, help_text="User-fixable error, if any.")
    results = serializers.JSONField(allow_null=True, help_text="The full query response once complete.")
    start_time = serializers.CharField(allow_null=True, help_text="Queued at.")
    pickup_time = serializers.CharField(allow_null=True, help_text="Started at.")
    end_time = serializers.CharField(allow_null=True, help_text="Finished at.")
    expiration_time = serializers.CharField(allow_null=True, help_text="Status kept until.")
    task_id = serializers.CharField(allow_null=True, help_text="Background task id.")
    query_async = serializers.BooleanField(help_text="Always true.")
    query_progress = serializers.JSONField(allow_null=True, help_text="Progress (not tracked).")
    dashboard_id = serializers.IntegerField(allow_null=True, help_text="Unused.")
    insight_id = serializers.IntegerField(allow_null=True, help_text="Unused.")
    labels = serializers.JSONField(allow_null=True, help_text="Unused.")


class QueryAsyncStartedSerializer(serializers.Serializer):
    cache_key = serializers.CharField(help_text="Key the result will be cached under.")
    query_status = QueryStatusSerializer(help_text="Status of the background run; poll GET /query/:id/.")


class QueryStatusResponseSerializer(serializers.Serializer):
    query_status = QueryStatusSerializer(help_text="Status of the background run.")


class QueryStatusQuerySerializer(serializers.Serializer):
    show_progress = serializers.BooleanField(required=False, help_text="Include progress (not tracked).")
    showProgress = serializers.BooleanField(required=False, help_text="Legacy alias of show_progress.")  # noqa: N815
