"""The random, stable split of a campaign's members: ``sha256(salt + person)`` as a number in [0, 1);
below the hold-out share -> hold-out, else a variant by weight. Pure functions: campaigns/targeting.py
stores each result once (``Assignment``), so later changes never move anyone already assigned.
"""
from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialshop.campaigns.models import Campaign

SCALE = float(2 ** 64)


def bucket(salt: str, person: str) -> float:
    """The person's fixed position in [0, 1) for this salt: the first 8 bytes of sha256(salt + person)."""
    digest = hashlib.sha256(f"{salt}{person}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / SCALE


@dataclass(frozen=True, slots=True)
class Split:
    """A campaign's split: its salt, hold-out share and variants (ids with cumulative weights)."""

    salt: str
    holdout: float
    variant_ids: tuple[int, ...]
    cumulative: tuple[int, ...]

    @classmethod
    def of(cls, campaign: Campaign) -> Split | None:
        """The split now, or None when no variant has a weight (nobody can be assigned)."""
        pairs = [(v.pk, v.weight) for v in campaign.variants.filter(weight__gt=0).order_by("pk")]
        if not pairs:
            return None
        return cls(salt=campaign.salt, holdout=campaign.holdout_percent / 100,
                   variant_ids=tuple(p for p, _ in pairs), cumulative=tuple(accumulate(w for _, w in pairs)))


def assign(split: Split, person: str) -> tuple[float, int | None]:
    """(bucket, variant id) for ``person``; the variant is None for the hold-out."""
    position = bucket(split.salt, person)
    if position < split.holdout:
        return position, None
    # Rescale the rest of [0, 1) onto the total weight: each variant gets its weight's share of it.
    scaled = (position - split.holdout) / (1 - split.holdout) * split.cumulative[-1]
    index = min(bisect_right(split.cumulative, scaled), len(split.variant_ids) - 1)
    return position, split.variant_ids[index]


# --- sample-ratio mismatch: are the assigned counts what the configured split should give? -----------
SRM_ALPHA = 0.001  # GrowthBook/Optimizely practice: flag a split whose chi-square p-value is below this


def _upper_gamma_q(a: float, x: float) -> float:
    """The regularised upper incomplete gamma Q(a, x) (series below a + 1, Lentz's continued fraction above)."""
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        while abs(term) > abs(total) * 1e-15:
            n += 1
            term *= x / n
            total += term
        return max(0.0, 1.0 - total * math.exp(log_front))
    tiny = 1e-300
    b, c, d = x + 1 - a, 1 / tiny, 1 / (x + 1 - a)
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = 1 / (d if abs(d) > tiny else tiny)
        c = b + an / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return math.exp(log_front) * h


def srm_p_value(observed: list[int], shares: list[float]) -> float:
    """The chi-square test's p-value of ``observed`` counts against the expected ``shares`` (hold-out first,
    then the variants by weight). Below ``SRM_ALPHA``: the split is broken (a bug, or a filter after assignment)."""
    total, share_sum = sum(observed), sum(shares)
    if total == 0 or len(observed) < 2 or share_sum <= 0:
        return 1.0
    statistic = sum((o - total * s / share_sum) ** 2 / (total * s / share_sum) for o, s in zip(observed, shares) if s > 0)
    return _upper_gamma_q((len(observed) - 1) / 2, statistic / 2)
