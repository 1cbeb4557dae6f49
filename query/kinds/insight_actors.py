"""The `source` of an `ActorsQuery`: the people behind an insight data point, or a HogQL query's actor ids.

- `InsightActorsQuery` `{kind, source: <insight node>, day?, status?, interval?, series?, breakdown?, compare?,
  includeRecordings?}` (`InsightPersonsQuery`, its 2023 name, is the same node): the insight node is validated
  by its own kind's request serializer; the kind's `actors` hook (`QueryKind.actors`) turns it and the drill-down
  parameters into a HogQL SELECT whose first column is `actor_id`. A kind without the hook is a 400 naming it.
- `StickinessActorsQuery`: the same with `operator` (`gte`/`lte`/`exact`), for a `StickinessQuery` source.
- `FunnelsActorsQuery`: a `FunnelsQuery` source with `funnelStep`, `funnelStepBreakdown`, `funnelTrendsDropOff`,
  `funnelTrendsEntrancePeriodStart`, `funnelCustomSteps` (`query.kinds.funnels_actors`).
- `HogQLQuery`: its first column holds the actor ids (persons); its other named columns come along.

`source_select` wraps either in `SELECT <first column> AS actor_id, <extras> FROM (…)`, so the ActorsQuery can
join it to `persons` and select the extras (`event_count`, `matching_events`, …) by name. Extras named like a
person field (`id`, `created_at`, `properties`, `is_identified`) are left out: `id` would be ambiguous.

`InsightActorsQueryOptions` `{kind, source: <InsightActorsQuery>}` answers what the source's kind offers to drill
into (its `actors_options` hook): `{label, value}` lists under `day`, `status`, `interval`, `breakdown`, `series`,
`compare`, and `breakdowns`.

`InsightActorsQuery` itself is no top-level kind: the reference describes it only as a source (PostHog's UI
always sends it inside an ActorsQuery), so on its own it is the unknown-kind 400.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework import serializers
from sqlglot import exp

from posthog_clone.accounts.models import Team
from query.hogql.ast import call
from query.hogql.errors import HogQLQueryError
from query.hogql.parser import parse_select
from query.kinds.base import KINDS, CachedResponseSerializer, QueryKind, StrictSerializer
from query.runner import variable_values

INSIGHT_ACTORS_KINDS = ("InsightActorsQuery", "InsightPersonsQuery")
STICKINESS_ACTORS = "StickinessActorsQuery"
FUNNELS_ACTORS = "FunnelsActorsQuery"
HOGQL_SOURCE = "HogQLQuery"
SOURCE_KINDS = (*INSIGHT_ACTORS_KINDS, STICKINESS_ACTORS, FUNNELS_ACTORS, HOGQL_SOURCE)
NOT_YET = ("FunnelCorrelationActorsQuery",)
PARAMETERS = (
    "day", "status", "interval", "series", "breakdown", "compare", "operator",
    # FunnelsActorsQuery
    "funnelStep", "funnelStepBreakdown", "funnelTrendsDropOff", "funnelTrendsEntrancePeriodStart", "funnelCustomSteps",
)  # fmt: skip
PERSON_FIELDS = frozenset({"id", "created_at", "properties", "is_identified", "team_id", "actor_id"})
STATUSES = ("new", "returning", "resurrecting", "dormant")


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


class InsightSourceField(serializers.JSONField):
    """The insight node of an InsightActorsQuery: a registered kind with an `actors` hook, validated by that
    kind's own request serializer (`kinds` narrows the kinds allowed, `hook` names the hook it needs)."""

    def __init__(self, *, kinds: tuple[str, ...] | None = None, hook: str = "actors", **kwargs: Any):
        self.kinds = kinds
        self.hook = hook
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        data = super().to_internal_value(data)
        kind = data.get("kind") if isinstance(data, dict) else None
        if kind is None:
            raise serializers.ValidationError({"kind": ["An insight query node with a kind is required."]})
        if self.kinds is not None and kind not in self.kinds:
            raise serializers.ValidationError({"kind": [f"The source must be a {' or '.join(self.kinds)}, not {kind}"]})
        spec = KINDS.get(kind) if isinstance(kind, str) else None
        if spec is None:
            raise serializers.ValidationError({"kind": [f"Unknown source kind '{kind}'"]})
        if getattr(spec, self.hook) is None:
            what = "actors" if self.hook == "actors" else "actors options"
            raise serializers.ValidationError({"kind": [f"{kind} has no {what} to list: it cannot be a source here"]})
        node = spec.request(data=data, context=self.context)
        if not node.is_valid():
            raise serializers.ValidationError(node.errors)
        return dict(node.validated_data)


class InsightActorsQuerySerializer(StrictSerializer):
    kind = serializers.ChoiceField(
        choices=list(INSIGHT_ACTORS_KINDS), help_text='"InsightActorsQuery" (or its 2023 name "InsightPersonsQuery").'
    )
    source = InsightSourceField(help_text="The insight node (TrendsQuery, …) whose data point to open.")
    day = serializers.JSONField(
        required=False, allow_null=True, help_text="The bucket (a date, or a moment inside it); an int for stickiness."
    )
    status = serializers.ChoiceField(
        choices=list(STATUSES), required=False, allow_null=True, help_text="Lifecycle status."
    )
    interval = serializers.IntegerField(required=False, allow_null=True, min_value=0, help_text="Retention cohort row.")
    series = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, help_text="Series index (default 0)."
    )
    breakdown = serializers.JSONField(
        required=False, allow_null=True, help_text="Breakdown value (a list for multiple breakdowns)."
    )
    compare = serializers.ChoiceField(
        choices=["current", "previous"], required=False, allow_null=True, help_text="Period of a compared insight."
    )
    includeRecordings = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="Accepted (select `matched_recordings` for the recordings)."
    )
    modifiers = serializers.DictField(required=False, allow_null=True, help_text="HogQLQueryModifiers; accepted.")
    tags = serializers.DictField(required=False, allow_null=True, help_text="Query tags (accepted, not used).")
    version = serializers.FloatField(required=False, allow_null=True, help_text="Schema version (accepted).")
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")

    def validate_day(self, value: Any) -> Any:
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            raise serializers.ValidationError("day must be a date string (or an int for stickiness)")
        return value

    def validate_breakdown(self, value: Any) -> Any:
        if not (_scalar(value) or (isinstance(value, list) and all(_scalar(v) for v in value))):
            raise serializers.ValidationError("breakdown must be a value or a list of values")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        series, index = attrs["source"].get("series"), attrs.get("series")
        if index is not None and isinstance(series, list) and index >= len(series):
            message = f"series index {index} is out of range: the source has {len(series)} series"
            raise serializers.ValidationError({"series": [message]})
        return attrs


class StickinessActorsQuerySerializer(InsightActorsQuerySerializer):
    kind = serializers.ChoiceField(choices=[STICKINESS_ACTORS], help_text='"StickinessActorsQuery".')
    source = InsightSourceField(kinds=("StickinessQuery",), help_text="The StickinessQuery.")
    operator = serializers.ChoiceField(
        choices=["gte", "lte", "exact"], required=False, allow_null=True, help_text="How `day` compares (exact)."
    )


class FunnelsActorsQuerySerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=[FUNNELS_ACTORS], help_text='"FunnelsActorsQuery".')
    source = InsightSourceField(kinds=("FunnelsQuery",), help_text="The FunnelsQuery.")
    funnelStep = serializers.IntegerField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text="1-based: n = actors whose furthest step is n or later; -n = reached step n-1 but not n.",
    )
    funnelStepBreakdown = serializers.JSONField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text="Only actors of this breakdown value (boxed list, text or cohort id).",
    )
    funnelTrendsDropOff = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="Trends viz: false = converted, true = dropped off."
    )
    funnelTrendsEntrancePeriodStart = serializers.CharField(  # noqa: N815
        required=False, allow_null=True, help_text="Trends viz: the entry interval (its start)."
    )
    funnelCustomSteps = serializers.ListField(  # noqa: N815
        child=serializers.IntegerField(), required=False, allow_null=True, help_text="Furthest steps to keep (1-based)."
    )
    includeRecordings = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="Accepted (select `matched_recordings` is not offered for funnels)."
    )
    modifiers = serializers.DictField(required=False, allow_null=True, help_text="HogQLQueryModifiers; accepted.")
    tags = serializers.DictField(required=False, allow_null=True, help_text="Query tags (accepted, not used).")
    version = serializers.FloatField(required=False, allow_null=True, help_text="Schema version (accepted).")
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")


def source_serializer(kind: Any) -> type[serializers.Serializer]:
    if kind in INSIGHT_ACTORS_KINDS:
        return InsightActorsQuerySerializer
    if kind == STICKINESS_ACTORS:
        return StickinessActorsQuerySerializer
    if kind == FUNNELS_ACTORS:
        return FunnelsActorsQuerySerializer
    return KINDS[HOGQL_SOURCE].request


class ActorsSourceField(serializers.JSONField):
    """`ActorsQuery.source`: an InsightActorsQuery (or InsightPersonsQuery), a StickinessActorsQuery, a
    FunnelsActorsQuery or a HogQLQuery, validated by its own serializer."""

    def to_internal_value(self, data: Any) -> Any:
        data = super().to_internal_value(data)
        if data is None:
            return None
        kind = data.get("kind") if isinstance(data, dict) else None
        if kind in NOT_YET:
            raise serializers.ValidationError({"kind": [f"{kind} is not supported yet"]})
        if kind not in SOURCE_KINDS:
            expected = ", ".join(SOURCE_KINDS)
            raise serializers.ValidationError({"kind": [f"Unknown source kind '{kind}': use one of {expected}"]})
        node = source_serializer(kind)(data=data, context=self.context)
        if not node.is_valid():
            raise serializers.ValidationError(node.errors)
        return dict(node.validated_data)


# ---------------------------------------------------------------------------------------------------
# the source as HogQL


@dataclass(frozen=True)
class SourceSelect:
    """`SELECT actor_id, <extras> FROM (…)` and what the outer query must pass to `hogql_execute` for it."""

    select: exp.Select
    extras: list[str]
    values: dict[str, Any] | None = None
    filters: dict[str, Any] | None = None
    variables: dict[str, Any] | None = None


def _first_select(root: exp.Expression) -> exp.Select:
    while isinstance(root, exp.SetOperation):
        root = root.this
    while isinstance(root, exp.Subquery):
        root = root.this
    if not isinstance(root, exp.Select):
        raise HogQLQueryError("The HogQL source must be a SELECT")
    return root


def _name(item: exp.Expression) -> str | None:
    if isinstance(item, exp.Alias):
        return item.alias
    if isinstance(item, exp.Column) and isinstance(item.this, exp.Identifier):
        return item.name
    return None


def _wrap(inner: exp.Expression) -> tuple[exp.Select, list[str]]:
    """`SELECT toString(<first column>) AS actor_id, <named extras> FROM (inner) AS source_actors`."""
    first = _first_select(inner)
    if not first.expressions or isinstance(first.expressions[0], exp.Star):
        raise HogQLQueryError("The first column of an actors source must be the actor id, not *")
    key = _name(first.expressions[0])
    if key is None:  # an unnamed expression: naming it breaks nothing that refers to it
        key = "actor_id"
        first.expressions[0].replace(exp.alias_(first.expressions[0].copy(), key))
    extras = []
    for item in first.expressions:
        name = _name(item)
        if name and name not in PERSON_FIELDS and name not in extras:
            extras.append(name)
    columns = [exp.alias_(call("toString", exp.column(key, table="source_actors")), "actor_id")]
    columns += [exp.alias_(exp.column(name, table="source_actors"), name) for name in extras]
    return exp.select(*columns).from_(exp.Subquery(this=inner, alias=exp.TableAlias(this="source_actors"))), extras


def source_select(team: Team, source: dict[str, Any], limit_context: str) -> SourceSelect:
    """The actor rows of a validated `ActorsQuery.source` as HogQL (see the module docstring)."""
    if source["kind"] == HOGQL_SOURCE:
        select, extras = _wrap(parse_select(source.get("query") or ""))
        variables = variable_values(source.get("variables"))
        return SourceSelect(select, extras, source.get("values"), source.get("filters"), variables)
    insight = source["source"]
    params = {key: source.get(key) for key in PARAMETERS if key in source}
    inner = KINDS[insight["kind"]].actors(team, insight, params, limit_context)  # type: ignore[misc]
    select, extras = _wrap(inner)
    return SourceSelect(select, extras)


# ---------------------------------------------------------------------------------------------------
# InsightActorsQueryOptions


class ActorsQueryOptionsSourceField(serializers.JSONField):
    def to_internal_value(self, data: Any) -> Any:
        data = super().to_internal_value(data)
        kind = data.get("kind") if isinstance(data, dict) else None
        if kind not in (*INSIGHT_ACTORS_KINDS, STICKINESS_ACTORS):
            raise serializers.ValidationError(
                {"kind": [f"The source must be an InsightActorsQuery or a StickinessActorsQuery, not {kind}"]}
            )
        node = source_serializer(kind)(data=data, context=self.context)
        if not node.is_valid():
            raise serializers.ValidationError(node.errors)
        insight = node.validated_data["source"]
        if KINDS[insight["kind"]].actors_options is None:
            raise serializers.ValidationError(
                {"source": {"kind": [f"InsightActorsQueryOptions is not supported for {insight['kind']} yet"]}}
            )
        return dict(node.validated_data)


class InsightActorsQueryOptionsSerializer(StrictSerializer):
    kind = serializers.ChoiceField(choices=["InsightActorsQueryOptions"], help_text='"InsightActorsQueryOptions".')
    source = ActorsQueryOptionsSourceField(help_text="The InsightActorsQuery whose choices to list.")
    modifiers = serializers.DictField(required=False, allow_null=True, help_text="HogQLQueryModifiers; echoed.")
    tags = serializers.DictField(required=False, allow_null=True, help_text="Query tags (accepted, not used).")
    version = serializers.FloatField(required=False, allow_null=True, help_text="Schema version (accepted).")
    response = serializers.DictField(required=False, allow_null=True, help_text="Ignored.")


def _options(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=serializers.DictField(), allow_null=True, help_text=help_text)


class InsightActorsQueryOptionsResponseSerializer(CachedResponseSerializer):
    day = _options("[{label, value}] per bucket (null when the insight has none, e.g. a total value).")
    status = _options("[{label, value}] per lifecycle status (null for other insights).")
    interval = _options("[{label, value}] per retention row (null for other insights).")
    breakdown = _options("[{label, value}] per breakdown value, markers labelled (null without a breakdown).")
    breakdowns = _options("Multiple breakdowns: [{values: [{label, value}]}] (null otherwise).")
    series = _options("[{label, value}] per series (value = index).")
    compare = _options("[{label: Current|Previous, value: current|previous}] (null without compare).")
    modifiers = serializers.DictField(help_text="Effective modifiers (echoed).")


def run_insight_actors_options(team: Team, query: dict[str, Any], limit_context: str) -> dict[str, Any]:
    insight = query["source"]["source"]
    return KINDS[insight["kind"]].actors_options(team, insight, limit_context)  # type: ignore[misc]


INSIGHT_ACTORS_QUERY_OPTIONS = QueryKind(
    name="InsightActorsQueryOptions",
    request=InsightActorsQueryOptionsSerializer,
    response=InsightActorsQueryOptionsResponseSerializer,
    run=run_insight_actors_options,
    apply_overrides=lambda query, body: query,
)
