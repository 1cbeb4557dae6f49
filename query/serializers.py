"""Request and response shapes of /query/: PostHog's QueryRequest around a query node whose `kind` picks its
schema and response (query.kinds), and the async status."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from posthog_clone.api.field_copies import ShallowFieldCopiesMixin, copy_field
from query.kinds import KINDS, unknown_kind_message
from query.kinds.base import reject_unknown


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="QueryNode",
        serializers={name: kind.request for name, kind in KINDS.items()},
        resource_type_field_name="kind",
    )
)
class QueryNodeField(serializers.Field):
    """The query node: its `kind` picks the schema it is validated against (query.kinds.KINDS)."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError('A query must be an object with a "kind".')
        kind = data.get("kind")
        if kind is None:
            raise serializers.ValidationError({"kind": ["This field is required."]})
        spec = KINDS.get(kind) if isinstance(kind, str) else None
        if spec is None:
            raise serializers.ValidationError({"kind": [unknown_kind_message(kind)]})
        node = spec.request(data=data, context=self.context)
        if not node.is_valid():
            raise serializers.ValidationError(node.errors)
        return dict(node.validated_data)

    def to_representation(self, value: Any) -> Any:
        return value


RESPONSE_COMPONENT = "QueryResponse"


def response_schema() -> PolymorphicProxySerializer:
    """The 200 body: the response of the node's kind (anyOf: the shapes overlap, see _QuerySchema)."""
    return PolymorphicProxySerializer(
        component_name=RESPONSE_COMPONENT,
        serializers=list(dict.fromkeys(kind.response for kind in KINDS.values())),  # aliases share one
        resource_type_field_name=None,
    )


# `async` is a keyword: declared here, added by get_fields
_ASYNC = serializers.BooleanField(required=False, help_text='Legacy: true means refresh "async".')


class QueryRequestSerializer(ShallowFieldCopiesMixin, serializers.Serializer):
    query = QueryNodeField(help_text="The query to run, discriminated by `kind`.")
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
        fields["async"] = copy_field(_ASYNC)
        return fields

    def to_internal_value(self, data: Any) -> Any:
        reject_unknown(self, data)
        return super().to_internal_value(data)


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
