"""The legacy engine (reference §3.5, stats_version 2) for `ExperimentFunnelsQuery`/`ExperimentTrendsQuery`
metrics: Beta-binomial funnels, Gamma-Poisson counts and a log-normal continuous model. PostHog draws 10,000
Monte Carlo samples; here the same posteriors are integrated exactly (scipy.integrate.quad), so answers are
deterministic and agree with PostHog's to two decimals."""

from __future__ import annotations

import math
from typing import Any

from scipy import integrate, stats

FF_DISTRIBUTION_THRESHOLD = 100
MIN_PROBABILITY_FOR_SIGNIFICANCE = 0.9
EXPECTED_LOSS_SIGNIFICANCE_LEVEL = 0.01
LOG_VARIANCE = 0.75
EPSILON = 1e-10


def _support(posteriors: list[Any]) -> tuple[float, float]:
    low = min(float(p.ppf(1e-12)) for p in posteriors)
    high = max(float(p.isf(1e-12)) for p in posteriors)
    return low, high


def probabilities_best(posteriors: list[Any]) -> list[float]:
    """P(variant i has the largest value) = ∫ pdf_i(x) ∏_{j≠i} cdf_j(x) dx."""
    low, high = _support(posteriors)
    out = []
    for i, own in enumerate(posteriors):
        others = [p for j, p in enumerate(posteriors) if j != i]

        def integrand(x: float, own: Any = own, others: list[Any] = others) -> float:
            return float(own.pdf(x)) * math.prod(float(o.cdf(x)) for o in others)

        value, _ = integrate.quad(integrand, low, high, limit=200, points=[float(own.mean())])
        out.append(value)
    total = sum(out)
    return [v / total for v in out] if total > 0 else out


def expected_loss(best: Any, others: list[Any]) -> float:
    """E[max(0, max(others) − best)] = ∫ pdf_best(x) ∫_x^∞ (1 − ∏ cdf_j(y)) dy dx."""
    low, high = _support([best, *others])

    def tail(x: float) -> float:
        value, _ = integrate.quad(lambda y: 1 - math.prod(float(o.cdf(y)) for o in others), x, high, limit=200)
        return value

    value, _ = integrate.quad(lambda x: float(best.pdf(x)) * tail(x), low, high, limit=200)
    return max(value, 0.0)


def funnel_result(variants: list[dict[str, Any]]) -> dict[str, Any]:
    """`variants`: `{key, success_count, failure_count}`."""
    posteriors = [stats.beta(1 + v["success_count"], 1 + v["failure_count"]) for v in variants]
    probability = dict(zip((v["key"] for v in variants), probabilities_best(posteriors), strict=True))
    intervals = {
        v["key"]: [float(p.ppf(0.025)), float(p.ppf(0.975))] for v, p in zip(variants, posteriors, strict=True)
    }
    if any(v["success_count"] + v["failure_count"] < FF_DISTRIBUTION_THRESHOLD for v in variants):
        code = "not_enough_exposure"
    elif max(probability.values()) >= MIN_PROBABILITY_FOR_SIGNIFICANCE:
        code = "significant"
    else:
        code = "low_win_probability"
    return {
        "probability": probability,
        "significant": code == "significant",
        "significance_code": code,
        "expected_loss": 0.0 if code == "significant" else 1.0,
        "credible_intervals": intervals,
        "variants": variants,
        "stats_version": 2,
    }


def _trends_result(variants: list[dict[str, Any]], posteriors: list[Any], transform: Any) -> dict[str, Any]:
    keys = [v["key"] for v in variants]
    probability = dict(zip(keys, probabilities_best(posteriors), strict=True))
    intervals = {
        key: [transform(float(p.ppf(0.025))), transform(float(p.ppf(0.975)))]
        for key, p in zip(keys, posteriors, strict=True)
    }
    if any(v["absolute_exposure"] < FF_DISTRIBUTION_THRESHOLD for v in variants):
        code, loss = "not_enough_exposure", 1.0
    elif max(probability.values()) >= MIN_PROBABILITY_FOR_SIGNIFICANCE:
        best = max(range(len(variants)), key=lambda i: float(posteriors[i].mean()))
        loss = expected_loss(posteriors[best], [p for i, p in enumerate(posteriors) if i != best])
        code = "high_loss" if loss >= EXPECTED_LOSS_SIGNIFICANCE_LEVEL else "significant"
    else:
        code, loss = "low_win_probability", 1.0
    return {
        "probability": probability,
        "significant": code == "significant",
        "significance_code": code,
        "p_value": loss if code == "significant" else 1.0,
        "credible_intervals": intervals,
        "variants": variants,
        "stats_version": 2,
    }


def trends_count_result(variants: list[dict[str, Any]]) -> dict[str, Any]:
    """`variants`: `{key, count, exposure, absolute_exposure}`; posterior rate Gamma(1 + count, 1 + exposure)."""
    posteriors = [stats.gamma(1 + v["count"], scale=1 / (1 + v["absolute_exposure"])) for v in variants]
    return _trends_result(variants, posteriors, lambda x: x)


def trends_continuous_result(variants: list[dict[str, Any]]) -> dict[str, Any]:
    """`variants`: `{key, count (the variant's mean), exposure, absolute_exposure}`; the log of the mean under a
    Normal-Inverse-Gamma prior gives a Student-t posterior; intervals map back with exp(·) − ε, floored at 0."""
    posteriors = []
    for v in variants:
        n = v["absolute_exposure"]
        location = n * math.log(max(v["count"], 0) + EPSILON) / (1 + n)
        scale = math.sqrt((1 + LOG_VARIANCE / 2 * n) / ((1 + n) * (1 + n / 2)))
        posteriors.append(stats.t(df=2 + n, loc=location, scale=scale))
    return _trends_result(variants, posteriors, lambda x: max(math.exp(x) - EPSILON, 0.0))
