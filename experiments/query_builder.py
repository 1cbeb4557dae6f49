"""HogQL for an experiment (reference §3.2–3.3): who was exposed to which variant, and each metric's per-variant
sufficient statistics over the exposed entities. Builds text only; `experiments.query_kinds` runs it through
`query.runner.hogql_execute` (team guard, limits, ClickHouse errors as the HogQL path's).

- Exposures: one row per entity (`person_id`, or `$group_<n>`) with its `variant` and `first_exposure_time`, from
  the exposure events in [start, end] whose variant is one of the flag's (or the holdout's). The default event is
  `$feature_flag_called` with `$feature_flag` = the key, variant `$feature_flag_response`; a custom event or an
  action reads `$feature/<key>`. `exclude` marks entities seen with two variants `$multiple`; `first_seen` keeps
  the earliest exposure's variant.
- Mean: the entity's metric events at/after its first exposure (and inside the conversion window) aggregated with
  the source's `math`; 0 for entities without events.
- Funnel: the funnel engine of the FunnelsQuery kind with the exposure as step 0; value 1 when the last step is
  reached within the window.
- Ratio: numerator and denominator per entity, as a mean each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from query.dates import moment_expr
from query.hogql.parser import to_hogql
from query.kinds.funnels_engine import WINDOW_SECONDS, FunnelSpec, actor_rows
from query.kinds.series import event_condition, series_filters
from query.properties import property_filters_to_expr

DEFAULT_EXPOSURE_EVENT = "$feature_flag_called"
MULTIPLE = "$multiple"
MATH_AGGREGATES = {"sum": "sumIf", "avg": "avgIf", "min": "minIf", "max": "maxIf"}
SUPPORTED_MATHS = ("total", "sum", "avg", "min", "max", "unique_session", "dau", "unique_group")
NO_WINDOW_MS = 10 * 366 * 86400 * 1000  # funnels need a window: without a conversion window, any time


class MetricError(ValueError):
    """A metric this backend cannot evaluate (an unsupported math or source); a 400."""


def _text(conditions: Sequence[exp.Expression]) -> str:
    return to_hogql(exp.and_(*conditions, copy=False)) if conditions else "true"


def _string(value: str) -> str:
    return to_hogql(exp.Literal.string(value))


def _property(name: str) -> str:
    return f"properties.`{name.replace('`', '')}`"


@dataclass(frozen=True)
class ExperimentScope:
    """What every experiment query shares."""

    flag_key: str
    variants: Sequence[str]
    start: dt.datetime
    end: dt.datetime
    exposure_criteria: Mapping[str, Any]
    test_account_filters: Any
    aggregation_group_type_index: int | None = None
    property_types: Mapping[tuple[int, str], str] = field(default_factory=dict)
    timezone: str = "UTC"
    now: dt.datetime | None = None

    @property
    def entity(self) -> str:
        if self.aggregation_group_type_index is not None:
            return f"`$group_{int(self.aggregation_group_type_index)}`"
        return "person_id"

    @property
    def filter_test_accounts(self) -> bool:
        return bool(self.exposure_criteria.get("filterTestAccounts", True)) and bool(self.test_account_filters)

    def context(self) -> dict[str, Any]:
        return {"property_types": self.property_types, "timezone": self.timezone, "now": self.now}

    def bounds(self) -> list[str]:
        conditions = [
            f"timestamp >= {to_hogql(moment_expr(self.start))}",
            f"timestamp <= {to_hogql(moment_expr(self.end))}",
        ]
        if self.aggregation_group_type_index is not None:
            conditions.append(f"{self.entity} != ''")
        if self.filter_test_accounts:
            conditions.append(
                _text([property_filters_to_expr(self.test_account_filters, scope="event", **self.context())])
            )
        return conditions

    def exposure_condition(self) -> tuple[str, str]:
        """(the HogQL condition of an exposure event, the HogQL of its variant)."""
        config = self.exposure_criteria.get("exposure_config") or {}
        keys = ", ".join(_string(v) for v in self.variants)
        if not config or (
            config.get("kind") == "ExperimentEventExposureConfig"
            and config.get("event")
            in (
                None,
                DEFAULT_EXPOSURE_EVENT,
            )
            and not config.get("properties")
        ):
            variant = _property("$feature_flag_response")
            condition = (
                f"event = {_string(DEFAULT_EXPOSURE_EVENT)} AND {_property('$feature_flag')} = {_string(self.flag_key)}"
            )
            return f"{condition} AND {variant} IN ({keys})", variant
        variant = _property(f"$feature/{self.flag_key}")
        if config.get("kind") == "ActionsNode":
            parts = [event_condition(config, **self.context())]
        else:
            parts = [exp.EQ(this=exp.column("event"), expression=exp.Literal.string(config["event"]))]
        if config.get("properties"):
            parts.append(property_filters_to_expr(config["properties"], scope="event", **self.context()))
        return f"{_text([p for p in parts if p is not None])} AND {variant} IN ({keys})", variant

    def exposures(self) -> str:
        """One row per exposed entity: entity_id, variant, first_exposure_time."""
        condition, variant = self.exposure_condition()
        if self.exposure_criteria.get("multiple_variant_handling") == "first_seen":
            chosen = f"argMin({variant}, timestamp)"
        else:
            chosen = f"if(uniqExact({variant}) > 1, {_string(MULTIPLE)}, any({variant}))"
        where = " AND ".join([condition, *self.bounds()])
        return (
            f"SELECT {self.entity} AS entity_id, {chosen} AS variant, min(timestamp) AS first_exposure_time "
            f"FROM events WHERE {where} GROUP BY entity_id"
        )


def window_seconds(metric: Mapping[str, Any]) -> int | None:
    amount = metric.get("conversion_window")
    if not amount:
        return None
    unit = metric.get("conversion_window_unit") or "day"
    if unit not in WINDOW_SECONDS:
        raise MetricError(f"Unknown conversion_window_unit: {unit}")
    return int(amount) * WINDOW_SECONDS[unit]


def _source_condition(scope: ExperimentScope, source: Mapping[str, Any]) -> str:
    kind = source.get("kind")
    if kind not in ("EventsNode", "ActionsNode"):
        raise MetricError(f"Metric source kind {kind} is not supported; use EventsNode or ActionsNode")
    conditions = []
    event = event_condition(source, **scope.context())
    if event is not None:
        conditions.append(event)
    conditions.extend(series_filters(source, {}, **scope.context()))
    return _text(conditions)


def _source_value(scope: ExperimentScope, source: Mapping[str, Any]) -> tuple[str, str]:
    """(the per-event value column, the per-entity aggregate over it given a condition placeholder `{ok}`)."""
    math = source.get("math") or "total"
    if math not in SUPPORTED_MATHS:
        raise MetricError(
            f"Math '{math}' is not supported for experiment metrics; use one of {', '.join(SUPPORTED_MATHS)}"
        )
    if math == "total":
        return "1", "countIf({ok})"
    if math == "unique_session":
        return "`$session_id`", "uniqExactIf({col}, {ok} AND {col} != '')"
    if math == "dau":
        return "toDate(timestamp)", "uniqExactIf({col}, {ok})"
    if math == "unique_group":
        index = source.get("math_group_type_index")
        if index is None:
            raise MetricError("math unique_group needs math_group_type_index")
        return f"`$group_{int(index)}`", "uniqExactIf({col}, {ok} AND {col} != '')"
    if not source.get("math_property"):
        raise MetricError(f"Math '{math}' needs math_property")
    return f"toFloat({_property(source['math_property'])})", f"ifNull({MATH_AGGREGATES[math]}({{col}}, {{ok}}), 0)"


def _in_window(metric: Mapping[str, Any], alias: str) -> str:
    ok = f"{alias}.timestamp >= e.first_exposure_time"
    seconds = window_seconds(metric)
    if seconds is not None:
        ok += f" AND {alias}.timestamp <= e.first_exposure_time + toIntervalSecond({seconds})"
    return ok


def per_entity_values(scope: ExperimentScope, metric: Mapping[str, Any], sources: Sequence[Mapping[str, Any]]) -> str:
    """`SELECT entity_id, variant, value_0[, value_1]` over the exposed entities (not `$multiple`)."""
    columns, aggregates, conditions = [], [], []
    ok = _in_window(metric, "m")
    for i, source in enumerate(sources):
        condition = _source_condition(scope, source)
        column, aggregate = _source_value(scope, source)
        conditions.append(f"({condition})")
        columns.append(f"if({condition}, 1, 0) AS is_{i}, {column} AS col_{i}")
        aggregates.append(aggregate.format(col=f"m.col_{i}", ok=f"{ok} AND m.is_{i} = 1") + f" AS value_{i}")
    events_where = " AND ".join([f"({' OR '.join(conditions)})", *scope.bounds()])
    metric_events = (
        f"SELECT {scope.entity} AS entity_id, timestamp, {', '.join(columns)} FROM events WHERE {events_where}"
    )
    return (
        f"SELECT e.entity_id AS entity_id, e.variant AS variant, {', '.join(aggregates)} "
        f"FROM ({scope.exposures()}) AS e LEFT JOIN ({metric_events}) AS m ON e.entity_id = m.entity_id "
        f"WHERE e.variant != {_string(MULTIPLE)} GROUP BY e.entity_id, e.variant"
    )


def mean_query(scope: ExperimentScope, metric: Mapping[str, Any], bounds: tuple[float, float] | None = None) -> str:
    value = "toFloat(value_0)"
    if bounds is not None:
        value = f"least(greatest({value}, {float(bounds[0])}), {float(bounds[1])})"
    return (
        f"SELECT variant, count() AS number_of_samples, sum({value}) AS sum, sum(pow({value}, 2)) AS sum_squares "
        f"FROM ({per_entity_values(scope, metric, [metric['source']])}) GROUP BY variant ORDER BY variant"
    )


def mean_quantiles_query(scope: ExperimentScope, metric: Mapping[str, Any]) -> str | None:
    """The winsorisation bounds: quantiles of the per-entity values over all entities (zeros left out of the
    upper one with `ignore_zeros`)."""
    lower, upper = metric.get("lower_bound_percentile"), metric.get("upper_bound_percentile")
    if lower is None and upper is None:
        return None
    low = f"quantile({float(lower)})(toFloat(value_0))" if lower is not None else "min(toFloat(value_0))"
    if upper is None:
        high = "max(toFloat(value_0))"
    elif metric.get("ignore_zeros"):
        high = f"quantileIf({float(upper)})(toFloat(value_0), value_0 != 0)"
    else:
        high = f"quantile({float(upper)})(toFloat(value_0))"
    return f"SELECT {low}, {high} FROM ({per_entity_values(scope, metric, [metric['source']])})"


def ratio_query(scope: ExperimentScope, metric: Mapping[str, Any]) -> str:
    inner = per_entity_values(scope, metric, [metric["numerator"], metric["denominator"]])
    m, d = "toFloat(value_0)", "toFloat(value_1)"
    return (
        f"SELECT variant, count() AS number_of_samples, sum({m}) AS sum, sum(pow({m}, 2)) AS sum_squares, "
        f"sum({d}) AS denominator_sum, sum(pow({d}, 2)) AS denominator_sum_squares, "
        f"sum({m} * {d}) AS numerator_denominator_sum_product FROM ({inner}) GROUP BY variant ORDER BY variant"
    )


def funnel_query(scope: ExperimentScope, metric: Mapping[str, Any]) -> str:
    """Exposure is step 0; `step_counts[i]` = entities reaching metric step i+1; value 1 at the last step."""
    series = metric["series"]
    if not series:
        raise MetricError("A funnel metric needs at least one step")
    exposure, _ = scope.exposure_condition()
    seconds = window_seconds(metric)
    spec = FunnelSpec(
        steps=[exposure, *(_source_condition(scope, step) for step in series)],
        order=metric.get("funnel_order_type") or "ordered",
        window_ms=seconds * 1000 if seconds is not None else NO_WINDOW_MS,
        actor=scope.entity,
        where=" AND ".join(scope.bounds()),
    )
    n = len(series)
    steps = ", ".join(f"countIf(length(f.path) >= {i + 2})" for i in range(n))
    return (
        f"SELECT e.variant AS variant, count() AS number_of_samples, countIf(length(f.path) >= {n + 1}) AS sum, "
        f"[{steps}] AS step_counts FROM ({scope.exposures()}) AS e "
        f"LEFT JOIN ({actor_rows(spec)}) AS f ON e.entity_id = f.aggregation_target "
        f"WHERE e.variant != {_string(MULTIPLE)} GROUP BY variant ORDER BY variant"
    )


def exposure_timeseries_query(scope: ExperimentScope) -> str:
    """Entities per variant and day of first exposure (team timezone)."""
    return (
        f"SELECT variant, toDate(first_exposure_time) AS day, count() AS entities FROM ({scope.exposures()}) "
        f"GROUP BY variant, day ORDER BY variant, day"
    )
