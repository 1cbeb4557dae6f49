"""The current statistics engine (reference §3.4): per-variant sufficient statistics → the relative (or absolute)
effect of a test variant against the control, with a Bayesian (flat prior, normal posterior) or a frequentist
(Welch t-test) verdict. Distributions come from scipy; nothing here is hand-rolled.

Pure functions on plain numbers, so they are tested against the reference's worked vectors directly."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from scipy import stats

MetricType = Literal["mean", "funnel", "ratio"]
Method = Literal["bayesian", "frequentist"]

CI_LEVEL = 0.95
ALPHA = 0.05
MIN_EXPOSURES = 50
MIN_FUNNEL_CONVERSIONS = 5


class StatisticsError(ValueError):
    """The inputs cannot give a verdict (a zero control mean, too few successes or samples)."""


@dataclass(frozen=True)
class SampleStats:
    """One variant's sufficient statistics, as the experiment query returns them."""

    key: str
    n: int
    sum: float
    sum_squares: float
    denominator_sum: float = 0.0
    denominator_sum_squares: float = 0.0
    numerator_denominator_sum_product: float = 0.0


@dataclass(frozen=True)
class Moments:
    """A variant's point estimate, the per-entity variance of that estimate, and its sample size."""

    mean: float
    variance: float
    n: int


def moments(sample: SampleStats, metric_type: MetricType) -> Moments:
    n = sample.n
    if n <= 0:
        raise StatisticsError("A variant has no samples")
    if metric_type == "funnel":
        p = sample.sum / n
        return Moments(p, p * (1 - p), n)
    if metric_type == "ratio":
        return _ratio_moments(sample)
    mean = sample.sum / n
    variance = (sample.sum_squares - sample.sum**2 / n) / (n - 1) if n > 1 else 0.0
    return Moments(mean, max(variance, 0.0), n)


def _ratio_moments(sample: SampleStats) -> Moments:
    """R = Σm/Σd with the delta-method variance of a ratio of per-entity means."""
    n = sample.n
    if sample.denominator_sum == 0:
        raise StatisticsError("The ratio's denominator is zero")
    m_bar, d_bar = sample.sum / n, sample.denominator_sum / n
    if n > 1:
        var_m = (sample.sum_squares - sample.sum**2 / n) / (n - 1)
        var_d = (sample.denominator_sum_squares - sample.denominator_sum**2 / n) / (n - 1)
        cov = (sample.numerator_denominator_sum_product - sample.sum * sample.denominator_sum / n) / (n - 1)
    else:
        var_m = var_d = cov = 0.0
    variance = var_m / d_bar**2 + m_bar**2 * var_d / d_bar**4 - 2 * m_bar * cov / d_bar**3
    return Moments(sample.sum / sample.denominator_sum, max(variance, 0.0), n)


@dataclass(frozen=True)
class Effect:
    estimate: float
    variance: float

    @property
    def std(self) -> float:
        return math.sqrt(self.variance)


def effect(test: Moments, control: Moments, *, relative: bool = True) -> Effect:
    """θ̂ and Var(θ̂): relative (μ_T − μ_C)/μ_C by the delta method without covariance, or absolute μ_T − μ_C."""
    se_t, se_c = test.variance / test.n, control.variance / control.n
    if not relative:
        return Effect(test.mean - control.mean, se_t + se_c)
    if control.mean == 0:
        raise StatisticsError("The control mean is zero")
    estimate = (test.mean - control.mean) / control.mean
    variance = se_t / control.mean**2 + test.mean**2 * se_c / control.mean**4
    return Effect(estimate, variance)


def welch_df(test: Moments, control: Moments) -> float:
    a, b = test.variance / test.n, control.variance / control.n
    denominator = a**2 / (test.n - 1) + b**2 / (control.n - 1)
    return (a + b) ** 2 / denominator if denominator > 0 else float("inf")


@dataclass(frozen=True)
class BayesianResult:
    chance_to_win: float
    credible_interval: tuple[float, float]
    significant: bool


@dataclass(frozen=True)
class FrequentistResult:
    p_value: float
    confidence_interval: tuple[float, float]
    significant: bool


def _check_proportions(test: Moments, control: Moments, metric_type: MetricType) -> None:
    if metric_type != "funnel":
        return
    for arm in (test, control):
        successes = arm.mean * arm.n
        if round(successes) < 5 or round(arm.n - successes) < 5:
            raise StatisticsError("Proportions need at least 5 successes and 5 failures per variant")


def bayesian(
    test: Moments, control: Moments, metric_type: MetricType, *, ci_level: float = CI_LEVEL, relative: bool = True
) -> BayesianResult:
    """Flat prior: the posterior of θ is Normal(θ̂, Var(θ̂))."""
    _check_proportions(test, control, metric_type)
    if relative and control.mean <= 0:
        raise StatisticsError("The control mean must be positive")
    found = effect(test, control, relative=relative)
    if found.variance <= 0:
        raise StatisticsError("The effect has no variance")
    posterior = stats.norm(loc=found.estimate, scale=found.std)
    chance = float(posterior.sf(0.0))
    low, high = posterior.interval(ci_level)
    return BayesianResult(chance, (float(low), float(high)), chance > ci_level or chance < 1 - ci_level)


def frequentist(test: Moments, control: Moments, *, alpha: float = ALPHA, relative: bool = True) -> FrequentistResult:
    """Two-sided Welch t-test on θ̂ with Welch–Satterthwaite degrees of freedom."""
    if test.n < 5 or control.n < 5:
        raise StatisticsError("Each variant needs at least 5 samples")
    found = effect(test, control, relative=relative)
    if found.variance <= 0:
        raise StatisticsError("The effect has no variance")
    df = welch_df(test, control)
    distribution = stats.t(df)
    t_stat = found.estimate / found.std
    p_value = float(2 * distribution.sf(abs(t_stat)))
    half = float(distribution.ppf(1 - alpha / 2)) * found.std
    return FrequentistResult(p_value, (found.estimate - half, found.estimate + half), p_value < alpha)
