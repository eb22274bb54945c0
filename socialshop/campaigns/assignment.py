"""The random, stable split of a campaign's members: ``sha256(salt + person)`` as a number in [0, 1);
below the hold-out share -> hold-out, else a variant by weight. Pure functions: campaigns/targeting.py
stores each result once (``Assignment``), so later changes never move anyone already assigned.
"""
from __future__ import annotations

import hashlib
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
