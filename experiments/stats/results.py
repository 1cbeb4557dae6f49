"""An experiment metric's response (reference §3.3): the control as `baseline`, every other variant in
`variant_results` with its counts, its `validation_failures` and, when both it and the baseline pass, the
statistics of the experiment's method."""

from __future__ import annotations

from typing import Any

from experiments.stats.engine import (
    MIN_EXPOSURES,
    MIN_FUNNEL_CONVERSIONS,
    Method,
    MetricType,
    SampleStats,
    StatisticsError,
    bayesian,
    frequentist,
    moments,
)

CONTROL = "control"
COUNT_KEYS = (
    "number_of_samples",
    "sum",
    "sum_squares",
    "step_counts",
    "step_sessions",
    "denominator_sum",
    "denominator_sum_squares",
    "numerator_denominator_sum_product",
)


class NoControlVariant(ValueError):
    pass


def validation_failures(row: dict[str, Any], metric_type: MetricType, *, is_baseline: bool) -> list[str]:
    failures = []
    if row["number_of_samples"] < MIN_EXPOSURES:
        failures.append("not-enough-exposures")
    if metric_type == "funnel" and row["sum"] < MIN_FUNNEL_CONVERSIONS:
        failures.append("not-enough-metric-data")
    if is_baseline and row["sum"] == 0:
        failures.append("baseline-mean-is-zero")
    return failures


def sample_of(row: dict[str, Any]) -> SampleStats:
    return SampleStats(
        key=row["key"],
        n=int(row["number_of_samples"]),
        sum=float(row["sum"]),
        sum_squares=float(row["sum_squares"]),
        denominator_sum=float(row.get("denominator_sum") or 0),
        denominator_sum_squares=float(row.get("denominator_sum_squares") or 0),
        numerator_denominator_sum_product=float(row.get("numerator_denominator_sum_product") or 0),
    )


def _statistics(test: SampleStats, control: SampleStats, metric_type: MetricType, method: Method) -> dict[str, Any]:
    test_m, control_m = moments(test, metric_type), moments(control, metric_type)
    if method == "frequentist":
        found = frequentist(test_m, control_m)
        return {
            "method": "frequentist",
            "p_value": found.p_value,
            "confidence_interval": list(found.confidence_interval),
            "significant": found.significant,
        }
    result = bayesian(test_m, control_m, metric_type)
    return {
        "method": "bayesian",
        "chance_to_win": result.chance_to_win,
        "credible_interval": list(result.credible_interval),
        "significant": result.significant,
    }


def _counts(row: dict[str, Any]) -> dict[str, Any]:
    return {"key": row["key"], **{k: row[k] for k in COUNT_KEYS if k in row}}


def experiment_result(rows: list[dict[str, Any]], metric_type: MetricType, method: Method) -> dict[str, Any]:
    """`rows`: one dict per variant with `key` and the COUNT_KEYS the metric has."""
    control = next((row for row in rows if row["key"] == CONTROL), None)
    if control is None:
        raise NoControlVariant("No control variant found")
    baseline_failures = validation_failures(control, metric_type, is_baseline=True)
    variants = []
    for row in rows:
        if row is control:
            continue
        failures = validation_failures(row, metric_type, is_baseline=False)
        out = {**_counts(row), "validation_failures": failures}
        if not failures and not baseline_failures:
            try:
                out.update(_statistics(sample_of(row), sample_of(control), metric_type, method))
            except StatisticsError as error:
                out["validation_failures"] = [*failures, "statistics-error"]
                out["error"] = str(error)
        variants.append(out)
    return {"baseline": {**_counts(control), "validation_failures": baseline_failures}, "variant_results": variants}
