"""`FunnelsQuery` request and response schemas and the validation of reference §3.7 (each a 400 naming the
problem, PostHog's wording)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from query.dates import DateRangeError, QueryDateRange
from query.kinds.base import CachedResponseSerializer, StrictSerializer
from query.kinds.funnels_engine import WINDOW_SECONDS
from query.kinds.series import NODE_SERIALIZERS, InsightQuerySerializer, SeriesField, checked_sampling_factor

ORDER_TYPES = ("ordered", "strict", "unordered")
VIZ_TYPES = ("steps", "trends", "time_to_convert")
ATTRIBUTIONS = ("first_touch", "last_touch", "all_events", "step")


def _display(**kwargs: Any) -> dict[str, Any]:
    return {"required": False, "allow_null": True, "help_text": "Display only (accepted, ignored).", **kwargs}


class ExclusionsField(serializers.ListField):
    """`exclusions`: EventsNodes/ActionsNodes with `funnelFromStep` and `funnelToStep` (0-based)."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault(
            "help_text",
            "EventsNodes/ActionsNodes with funnelFromStep and funnelToStep: an actor with such an event after "
            "reaching funnelFromStep and before the next step is dropped from the funnel.",
        )
        super().__init__(child=serializers.JSONField(), **kwargs)

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        nodes = []
        for i, item in enumerate(super().to_internal_value(data)):
            if not isinstance(item, dict) or item.get("kind") not in NODE_SERIALIZERS:
                raise serializers.ValidationError({i: ["An exclusion is an EventsNode or an ActionsNode"]})
            steps = {key: item.get(key) for key in ("funnelFromStep", "funnelToStep")}
            for key, value in steps.items():
                if isinstance(value, bool) or not isinstance(value, int):
                    raise serializers.ValidationError({i: {key: ["A valid integer is required."]}})
            node = NODE_SERIALIZERS[item["kind"]](data={k: v for k, v in item.items() if k not in steps})
            if not node.is_valid():
                raise serializers.ValidationError({i: node.errors})
            nodes.append({**node.validated_data, **steps})
        return nodes


class FunnelsFilterSerializer(StrictSerializer):
    funnelOrderType = serializers.ChoiceField(  # noqa: N815
        choices=ORDER_TYPES, required=False, allow_null=True, help_text="ordered (default), strict or unordered."
    )
    funnelVizType = serializers.ChoiceField(  # noqa: N815
        choices=VIZ_TYPES, required=False, allow_null=True, help_text="steps (default), trends or time_to_convert."
    )
    funnelWindowInterval = serializers.IntegerField(  # noqa: N815
        required=False, allow_null=True, min_value=1, help_text="Conversion window length (default 14)."
    )
    funnelWindowIntervalUnit = serializers.ChoiceField(  # noqa: N815
        choices=list(WINDOW_SECONDS),
        required=False,
        allow_null=True,
        help_text="second, minute, hour, day (default), week or month (31 days).",
    )
    exclusions = ExclusionsField(required=False, allow_null=True)
    breakdownAttributionType = serializers.ChoiceField(  # noqa: N815
        choices=ATTRIBUTIONS, required=False, allow_null=True, help_text="first_touch (default), last_touch, …"
    )
    breakdownAttributionValue = serializers.IntegerField(  # noqa: N815
        required=False, allow_null=True, help_text="The step (0-based) whose value counts, for `step` attribution."
    )
    funnelFromStep = serializers.IntegerField(  # noqa: N815
        required=False, allow_null=True, help_text="First step of the trends / time_to_convert range (0-based)."
    )
    funnelToStep = serializers.IntegerField(  # noqa: N815
        required=False, allow_null=True, help_text="Last step of the trends / time_to_convert range (0-based)."
    )
    binCount = serializers.IntegerField(required=False, allow_null=True, help_text="Time-to-convert bins.")  # noqa: N815
    funnelAggregateByHogQL = serializers.CharField(  # noqa: N815
        required=False, allow_null=True, allow_blank=True, help_text='Custom actor key, e.g. "properties.$session_id".'
    )
    funnelStepReference = serializers.ChoiceField(  # noqa: N815
        choices=["total", "previous"], **_display(help_text="total or previous (client-side percentages).")
    )
    layout = serializers.CharField(**_display())
    hiddenLegendBreakdowns = serializers.ListField(child=serializers.CharField(), **_display())  # noqa: N815
    breakdownSorting = serializers.CharField(**_display())  # noqa: N815
    resultCustomizations = serializers.DictField(**_display())  # noqa: N815
    goalLines = serializers.ListField(child=serializers.DictField(), **_display())  # noqa: N815
    showValuesOnSeries = serializers.BooleanField(**_display())  # noqa: N815
    useUdf = serializers.BooleanField(**_display(help_text="Legacy engine switch (accepted, ignored)."))  # noqa: N815
    funnelWindowDays = serializers.IntegerField(**_display(help_text="Legacy (accepted, ignored)."))  # noqa: N815
    hidden_legend_keys = serializers.DictField(**_display())


class FunnelsQuerySerializer(InsightQuerySerializer):
    kind = serializers.ChoiceField(choices=["FunnelsQuery"], help_text='Query kind: "FunnelsQuery".')
    series = SeriesField(help_text="The steps, in order (at least 2): EventsNodes and ActionsNodes.")
    funnelsFilter = FunnelsFilterSerializer(required=False, allow_null=True)  # noqa: N815
    breakdownFilter = serializers.DictField(  # noqa: N815
        required=False,
        allow_null=True,
        help_text='{"breakdown": <property or HogQL>, "breakdown_type": "event"|"person"|"hogql"|"cohort", '
        '"breakdown_limit": 25}; values past the limit become "Other".',
    )
    interval = serializers.CharField(required=False, allow_null=True, help_text="Trends viz: the entry buckets.")
    dateRange = serializers.DictField(  # noqa: N815
        required=False, allow_null=True, help_text='{"date_from", "date_to", "explicitDate"}; default the last 7 days.'
    )
    filterTestAccounts = serializers.BooleanField(  # noqa: N815
        required=False, allow_null=True, help_text="AND the project's test_account_filters onto every step."
    )
    aggregation_group_type_index = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=4, help_text="Count groups of this type (0-4)."
    )
    samplingFactor = serializers.FloatField(  # noqa: N815
        required=False, allow_null=True, help_text="Read `events SAMPLE f`; counts are scaled by 1/f."
    )

    def validate_samplingFactor(self, value: float | None) -> float | None:  # noqa: N802
        return checked_sampling_factor(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        series = attrs.get("series") or []
        if len(series) < 2:
            raise serializers.ValidationError({"series": ["A funnel needs at least 2 steps"]})
        message = funnel_error(series, attrs.get("funnelsFilter") or {})
        if message:
            raise serializers.ValidationError({"funnelsFilter": [message]})
        try:
            QueryDateRange(attrs.get("dateRange"), interval=attrs.get("interval"), earliest_event=lambda: None)
        except DateRangeError as error:
            raise serializers.ValidationError({error.attr or "dateRange": [error.message]}) from None
        return attrs


def funnel_error(series: list[dict[str, Any]], funnels: dict[str, Any]) -> str | None:
    """The first §3.7 problem of a funnel, in PostHog's words; None when it is valid."""
    n = len(series)
    start, end = funnels.get("funnelFromStep"), funnels.get("funnelToStep")
    if start is not None and not 0 <= start <= n - 2:
        return f"funnelFromStep is out of bounds. It must be between 0 and {n - 2}."
    if end is not None and not 1 <= end <= n - 1:
        return f"funnelToStep is out of bounds. It must be between 1 and {n - 1}."
    if start is not None and end is not None and end <= start:
        return "Funnel step range is invalid. funnelToStep should be greater than funnelFromStep."
    for exclusion in funnels.get("exclusions") or []:
        message = _exclusion_error(series, exclusion)
        if message:
            return message
    if series[0].get("optionalInFunnel"):
        return "The first step of a funnel cannot be optional."
    order = funnels.get("funnelOrderType") or "ordered"
    if order == "unordered":
        if any(e["funnelFromStep"] != 0 or e["funnelToStep"] != n - 1 for e in funnels.get("exclusions") or []):
            return "Partial Exclusions not allowed in unordered funnels"
        attribution = funnels.get("breakdownAttributionType")
        if attribution == "step" and funnels.get("breakdownAttributionValue") not in (None, 0):
            return "Only the first step can be used for breakdown attribution in unordered funnels"
    return None


def _exclusion_error(series: list[dict[str, Any]], exclusion: dict[str, Any]) -> str | None:
    start, end = exclusion["funnelFromStep"], exclusion["funnelToStep"]
    if end <= start:
        return "Exclusion event range is invalid. End of range should be greater than start."
    if start >= len(series) - 1:
        return "Exclusion event range is invalid. Start of range is greater than number of steps."
    if end > len(series) - 1:
        return "Exclusion event range is invalid. End of range is greater than number of steps."
    if any(_covers(step, exclusion) for step in series[start : end + 1]):
        return "Exclusion steps cannot contain an event that's part of funnel steps."
    return None


def _covers(step: dict[str, Any], exclusion: dict[str, Any]) -> bool:
    """The step matches every event the exclusion does: same event (or action) and no filter the exclusion
    lacks."""
    if step.get("kind") != exclusion.get("kind"):
        return False
    same = step.get("id") == exclusion.get("id") if step.get("kind") == "ActionsNode" else None
    if same is None:
        same = step.get("event") == exclusion.get("event")
    filters = step.get("properties") or []
    if not isinstance(filters, list):  # a property group: compare whole
        return same and filters == exclusion.get("properties")
    return same and all(f in (exclusion.get("properties") or []) for f in filters)


class FunnelsQueryResponseSerializer(CachedResponseSerializer):
    results = serializers.JSONField(
        help_text="steps: one object per step {action_id, name, custom_name, order, people, count, type, "
        "average_conversion_time, median_conversion_time} (with a breakdown: one such list per value, + breakdown, "
        "breakdown_value); trends: [{count, data, days, labels}]; time_to_convert: {bins, average_conversion_time, "
        "median_conversion_time}."
    )
    isUdf = serializers.BooleanField(help_text="Always true (the array engine).")  # noqa: N815
    hogql = serializers.CharField(help_text="The HogQL run.")
    timings = serializers.ListField(
        child=serializers.DictField(), help_text='[{"k": step, "t": seconds}]; "." is total.'
    )
    error = serializers.CharField(allow_blank=True, help_text='Always "".')
    resolved_date_range = serializers.DictField(help_text='{"date_from", "date_to"} (ISO, team timezone).')
    modifiers = serializers.DictField(help_text="Effective modifiers (echoed).")
