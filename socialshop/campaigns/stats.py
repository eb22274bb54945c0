"""The statistics behind campaign results: lift against the hold-out with its 95 % interval, the tests
between variants (two-proportion z-test, Welch's t-test from sums) and the sample-ratio check, each with
a verdict in plain words. Only aggregates come in (counts, sums, sums of squares), never per-person rows.

The numbers come from statsmodels and scipy (reference/campaigns.md A); results.py gathers the aggregates
in SQL. Definitions and caveats: docs/campaigns.md, "Results".
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as scipy_stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

ALPHA = 0.05  # a difference counts when its two-sided p-value is below this (95 % intervals)
SRM_ALPHA = 0.001  # GrowthBook/Optimizely practice: a split whose chi-square p-value is below this is broken
# Below these, a test says "not yet conclusive" whatever its p-value: the normal approximations behind
# the z-test, Welch's test and the delta method need enough people and enough conversions per arm.
MIN_MEMBERS = 100
MIN_CONVERSIONS = 10
PEEKING = ("Fixed-horizon test: looking every day and stopping at the first significant result inflates false "
           "positives. Decide the run length (or sample size) first and read the verdict then.")


@dataclass(frozen=True, slots=True)
class Sample:
    """One arm as aggregates: members, converted members, and revenue per member as sum and sum of squares."""

    members: int
    conversions: int
    revenue: float
    revenue_sq: float

    @property
    def rate(self) -> float | None:
        return self.conversions / self.members if self.members else None

    @property
    def mean(self) -> float | None:
        return self.revenue / self.members if self.members else None

    @property
    def variance(self) -> float | None:
        """Sample variance of revenue per member (zeros included), from the sums: (Σx² − (Σx)²/n) / (n − 1)."""
        if self.members < 2:
            return None
        return max(0.0, (self.revenue_sq - self.revenue ** 2 / self.members) / (self.members - 1))

    @property
    def small(self) -> bool:
        return self.members < MIN_MEMBERS or self.conversions < MIN_CONVERSIONS


@dataclass(frozen=True, slots=True)
class Lift:
    """Relative lift of a treatment over a control (0.25 = +25 %) with its 95 % interval and p-value."""

    lift: float | None
    low: float | None
    high: float | None
    p_value: float | None
    conclusive: bool
    verdict: str


@dataclass(frozen=True, slots=True)
class Comparison:
    """A variant against the reference variant: both tests with their verdicts."""

    conversion_p: float | None
    revenue_p: float | None
    conversion_verdict: str
    revenue_verdict: str


def _fmt_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _too_small(*samples: Sample) -> str:
    return (f"not yet conclusive: too few people (each arm needs {MIN_MEMBERS} members and "
            f"{MIN_CONVERSIONS} conversions)")


def conversion_lift(treated: Sample, control: Sample) -> Lift:
    """Conversion-rate lift CR_t / CR_c − 1; interval from statsmodels' ratio CI (log method), p from the z-test."""
    if not treated.members or not control.members or not control.conversions:
        return Lift(None, None, None, None, False, "no hold-out conversions yet: lift cannot be measured")
    ratio = (treated.conversions / treated.members) / (control.conversions / control.members)
    p_value = two_proportion_p(treated, control)
    low = high = None
    if treated.conversions:
        low, high = confint_proportions_2indep(treated.conversions, treated.members, control.conversions, control.members,
                                               method="log", compare="ratio", alpha=ALPHA)
        low, high = float(low) - 1, float(high) - 1
    return _lift(ratio - 1, low, high, p_value, treated, control, "convert")


def revenue_lift(treated: Sample, control: Sample) -> Lift:
    """Revenue-per-member lift μ_t / μ_c − 1 with a delta-method interval; p from Welch's test."""
    mu_t, mu_c, var_t, var_c = treated.mean, control.mean, treated.variance, control.variance
    if not mu_c or mu_t is None or var_t is None or var_c is None:
        return Lift(None, None, None, None, False, "no hold-out revenue yet: lift cannot be measured")
    lift = mu_t / mu_c - 1
    # Delta method for a ratio of independent means (GrowthBook, reference/campaigns.md A).
    variance = var_c * mu_t ** 2 / (mu_c ** 4 * control.members) + var_t / (mu_c ** 2 * treated.members)
    half = float(scipy_stats.norm.ppf(1 - ALPHA / 2)) * math.sqrt(variance)
    return _lift(lift, lift - half, lift + half, welch_p(treated, control), treated, control, "earn")


def _lift(lift: float, low: float | None, high: float | None, p_value: float | None, treated: Sample,
          control: Sample, verb: str) -> Lift:
    if treated.small or control.small:
        return Lift(lift, low, high, p_value, False, _too_small())
    if p_value is None or p_value >= ALPHA:
        shown = "" if p_value is None else f" ({_fmt_p(p_value)})"
        return Lift(lift, low, high, p_value, False, f"not yet conclusive{shown}: the difference may be chance")
    direction = "more" if lift > 0 else "less"
    return Lift(lift, low, high, p_value, True, f"reached members {verb} {abs(lift):.0%} {direction} than the hold-out "
                                                 f"({_fmt_p(p_value)})")


def two_proportion_p(a: Sample, b: Sample) -> float | None:
    """Two-sided p-value of the two-proportion z-test (pooled variance), None when it is undefined."""
    if not a.members or not b.members:
        return None
    pooled = (a.conversions + b.conversions) / (a.members + b.members)
    if pooled in (0.0, 1.0):
        return None
    _, p_value = proportions_ztest([a.conversions, b.conversions], [a.members, b.members])
    return float(p_value)


def welch_p(a: Sample, b: Sample) -> float | None:
    """Two-sided p-value of Welch's t-test on revenue per member, from means and variances (scipy)."""
    if a.variance is None or b.variance is None or (a.variance == 0 and b.variance == 0):
        return None
    result = scipy_stats.ttest_ind_from_stats(a.mean, math.sqrt(a.variance), a.members, b.mean, math.sqrt(b.variance),
                                              b.members, equal_var=False)
    return None if math.isnan(result.pvalue) else float(result.pvalue)


def compare(variant: Sample, reference: Sample, *, name: str, reference_name: str) -> Comparison:
    """``variant`` against ``reference`` on conversion rate and revenue per member, with verdicts."""
    conversion_p, revenue_p = two_proportion_p(variant, reference), welch_p(variant, reference)
    return Comparison(
        conversion_p, revenue_p,
        _verdict(conversion_p, variant.rate, reference.rate, variant, reference, name, reference_name, "converts"),
        _verdict(revenue_p, variant.mean, reference.mean, variant, reference, name, reference_name, "earns per member"),
    )


def _verdict(p_value: float | None, mine: float | None, theirs: float | None, a: Sample, b: Sample, name: str,
             other: str, verb: str) -> str:
    if a.small or b.small:
        return _too_small()
    if p_value is None or mine is None or theirs is None:
        return "not yet conclusive: no difference to test"
    if p_value >= ALPHA:
        return f"not yet conclusive ({_fmt_p(p_value)})"
    return f"{name} {verb} {'more' if mine > theirs else 'less'} than {other} ({_fmt_p(p_value)})"


def srm_p(observed: list[int], shares: list[float]) -> float:
    """Chi-square p-value of the assigned counts against the configured shares (scipy); 1.0 when untestable."""
    kept = [(o, s) for o, s in zip(observed, shares) if s > 0]
    total, share_sum = sum(o for o, _ in kept), sum(s for _, s in kept)
    if total == 0 or len(kept) < 2:
        return 1.0
    expected = [total * s / share_sum for _, s in kept]
    return float(scipy_stats.chisquare([o for o, _ in kept], expected).pvalue)
