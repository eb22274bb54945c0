"""The statistics of campaign results (campaigns/stats.py) against figures computed independently here:
textbook formulas with ``math`` only (the normal tail by erfc, Student's t by numerical integration)."""
from __future__ import annotations

import math
import statistics

import pytest

from socialshop.campaigns.assignment import srm_p_value
from socialshop.campaigns.stats import (
    Sample, compare, conversion_lift, revenue_lift, srm_p, two_proportion_p, welch_p,
)

Z975 = 1.959963984540054  # the normal 97.5 % quantile


def normal_two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def student_t_two_sided(t: float, df: float, steps: int = 20_000) -> float:
    """2 · P(T > |t|) = 1 − 2 · ∫_0^|t| pdf: Simpson's rule on the t density."""
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    pdf = lambda x: math.exp(log_c - (df + 1) / 2 * math.log1p(x * x / df))  # noqa: E731
    h = abs(t) / steps
    area = pdf(0) + pdf(abs(t)) + sum((4 if i % 2 else 2) * pdf(i * h) for i in range(1, steps))
    return 1 - 2 * area * h / 3


def sample_of(values: list[float], conversions: int | None = None) -> Sample:
    return Sample(len(values), sum(1 for v in values if v > 0) if conversions is None else conversions,
                  sum(values), sum(v * v for v in values))


def test_two_proportion_z_test_matches_the_pooled_formula() -> None:
    a, b = Sample(1000, 120, 0, 0), Sample(1000, 90, 0, 0)
    pooled = 210 / 2000
    z = (0.12 - 0.09) / math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 1000))
    assert two_proportion_p(a, b) == pytest.approx(normal_two_sided(z), rel=1e-9)
    assert two_proportion_p(a, b) == pytest.approx(0.0290, abs=5e-4)


def test_conversion_lift_interval_is_the_log_ratio_interval() -> None:
    treated, control = Sample(4000, 240, 0, 0), Sample(1000, 40, 0, 0)
    ratio = (240 / 4000) / (40 / 1000)
    half = Z975 * math.sqrt(1 / 240 - 1 / 4000 + 1 / 40 - 1 / 1000)
    lift = conversion_lift(treated, control)
    assert lift.lift == pytest.approx(ratio - 1)
    assert lift.low == pytest.approx(ratio * math.exp(-half) - 1, rel=1e-6)
    assert lift.high == pytest.approx(ratio * math.exp(half) - 1, rel=1e-6)
    assert lift.low < lift.lift < lift.high


def test_welch_test_from_sums_matches_the_per_person_formula() -> None:
    # Revenue per member with the zeros of those who did not buy.
    a = [0.0] * 150 + [20.0, 35.5, 12.0, 80.0, 45.0] * 10
    b = [0.0] * 170 + [20.0, 15.0, 30.0, 10.0, 25.0] * 6
    sa, sb = sample_of(a), sample_of(b)
    assert sa.variance == pytest.approx(statistics.variance(a))
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    t = (statistics.mean(a) - statistics.mean(b)) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    assert welch_p(sa, sb) == pytest.approx(student_t_two_sided(t, df), rel=1e-6)


def test_revenue_lift_interval_is_the_delta_method() -> None:
    treated = sample_of([0.0] * 800 + [40.0, 60.0] * 100)
    control = sample_of([0.0] * 230 + [40.0, 50.0] * 10)
    mt, mc = treated.revenue / treated.members, control.revenue / control.members
    vt, vc = treated.variance, control.variance
    se = math.sqrt(vc * mt ** 2 / (mc ** 4 * control.members) + vt / (mc ** 2 * treated.members))
    lift = revenue_lift(treated, control)
    assert lift.lift == pytest.approx(mt / mc - 1)
    assert (lift.low, lift.high) == (pytest.approx(mt / mc - 1 - Z975 * se), pytest.approx(mt / mc - 1 + Z975 * se))


@pytest.mark.parametrize(("observed", "shares"), [
    ([100, 450, 450], [0.1, 0.45, 0.45]), ([130, 430, 440], [0.1, 0.45, 0.45]), ([52, 48], [0.5, 0.5]),
    ([10, 300, 700], [0.05, 0.475, 0.475]),
])
def test_sample_ratio_check_agrees_with_the_hand_written_chi_square(observed: list[int], shares: list[float]) -> None:
    assert srm_p(observed, shares) == pytest.approx(srm_p_value(observed, shares), rel=1e-6, abs=1e-12)


def test_verdicts_say_plainly_when_a_result_is_not_yet_conclusive() -> None:
    few = compare(Sample(50, 9, 100, 2000), Sample(50, 2, 10, 100), name="B", reference_name="A")
    assert few.conversion_verdict.startswith("not yet conclusive: too few people")
    close = compare(Sample(2000, 101, 0, 0), Sample(2000, 99, 0, 0), name="B", reference_name="A")
    assert close.conversion_verdict.startswith("not yet conclusive (p = ")
    clear = compare(Sample(2000, 200, 0, 0), Sample(2000, 120, 0, 0), name="B", reference_name="A")
    assert clear.conversion_verdict.startswith("B converts more than A (p ")
    lift = conversion_lift(Sample(9000, 900, 0, 0), Sample(1000, 60, 0, 0))
    assert lift.conclusive and lift.verdict.startswith("reached members convert 67% more")
