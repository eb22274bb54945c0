"""Assignment: random by a salted hash, stored once, so nobody moves mid-campaign; the split follows
the weights and the hold-out share (10,000 synthetic persons, with the sample-ratio check)."""
from __future__ import annotations

from collections import Counter

import pytest

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import AudienceMember, BuildStatus, RuleKind
from socialshop.campaigns.assignment import SRM_ALPHA, Split, assign, bucket, srm_p_value
from socialshop.campaigns.models import Assignment, Variant
from socialshop.campaigns.targeting import refresh_campaign
from tests.campaigns.conftest import H, MIN, NOW, event, make_audience, make_campaign

pytestmark = pytest.mark.django_db


def _assignments(campaign) -> dict[str, int | None]:  # type: ignore[no-untyped-def]
    return dict(Assignment.objects.filter(campaign=campaign).values_list("person", "variant_id"))


def test_bucket_is_stable_uniform_looking_and_salted() -> None:
    assert bucket("salt-a", "v:1") == bucket("salt-a", "v:1")
    assert bucket("salt-a", "v:1") != bucket("salt-b", "v:1")
    assert all(0 <= bucket("s", f"v:{i}") < 1 for i in range(1000))


def test_assignments_survive_a_rebuild_and_a_new_variant() -> None:
    audience = make_audience()
    audience.kind, audience.params = RuleKind.CART_ABANDONERS, {"min_delay_minutes": 60, "max_delay_minutes": 6000}
    audience.save()
    for i in range(40):
        event("AddToCart", f"visitor-{i:02d}", at=NOW - 2 * H - i * MIN)
    assert build_audience(audience).status == BuildStatus.SUCCEEDED
    campaign = make_campaign(audience, variants=(("A", 1), ("B", 1)), holdout_percent=20)
    refresh_campaign(campaign)
    before = _assignments(campaign)
    assert len(before) == 40 and None in before.values()
    # Rebuild the audience with nothing else changed: every assignment stays.
    assert build_audience(audience).status == BuildStatus.SUCCEEDED
    refresh_campaign(campaign)
    assert _assignments(campaign) == before
    # A new variant, other weights and another hold-out share move nobody already assigned...
    Variant.objects.create(campaign=campaign, name="C", weight=10)
    campaign.holdout_percent = 50
    campaign.save()
    Variant.objects.filter(campaign=campaign, name="A").update(weight=5)
    event("AddToCart", "visitor-new", at=NOW - 2 * H)
    assert build_audience(audience).status == BuildStatus.SUCCEEDED
    refresh_campaign(campaign)
    after = _assignments(campaign)
    assert {p: after[p] for p in before} == before
    assert "v:visitor-new" in after  # ...while new members are assigned under the new split


def test_a_person_who_leaves_and_comes_back_keeps_their_variant() -> None:
    audience = make_audience()
    campaign = make_campaign(audience, variants=(("A", 1), ("B", 1)), holdout_percent=10)
    member = AudienceMember.objects.create(audience=audience, person="v:back", qualified_at=NOW - H, joined_at=NOW - H)
    refresh_campaign(campaign)
    first = _assignments(campaign)["v:back"]
    member.left_at = NOW
    member.save()
    refresh_campaign(campaign)
    AudienceMember.objects.create(audience=audience, person="v:back", qualified_at=NOW, joined_at=NOW)
    refresh_campaign(campaign)
    assert Assignment.objects.filter(campaign=campaign, person="v:back").count() == 1
    assert _assignments(campaign)["v:back"] == first


def test_the_split_of_10000_persons_matches_the_weights_and_passes_the_sample_ratio_check() -> None:
    audience = make_audience()
    campaign = make_campaign(audience, variants=(("A", 1), ("B", 2), ("C", 1)), holdout_percent=10)
    AudienceMember.objects.bulk_create([
        AudienceMember(audience=audience, person=f"u:{i}", qualified_at=NOW - H, joined_at=NOW - H) for i in range(10_000)
    ], batch_size=2000)
    stats = refresh_campaign(campaign, now=NOW)
    assert stats.assigned == 10_000
    names = dict(Variant.objects.filter(campaign=campaign).values_list("pk", "name"))
    counts = Counter(names.get(v, "hold-out") for v in Assignment.objects.filter(campaign=campaign).values_list("variant_id", flat=True))
    expected = {"hold-out": 0.10, "A": 0.225, "B": 0.45, "C": 0.225}
    for arm, share in expected.items():
        # 4 standard deviations of a binomial share over 10,000: about ±0.012 at p = 0.45.
        tolerance = 4 * (share * (1 - share) / 10_000) ** 0.5
        assert abs(counts[arm] / 10_000 - share) < tolerance, (arm, counts)
    observed = [counts[arm] for arm in expected]
    assert srm_p_value(observed, list(expected.values())) > SRM_ALPHA


def test_the_sample_ratio_check_flags_a_broken_split() -> None:
    # 10,000 persons meant to split 50/50 but counted 5,300 / 4,700: chi-square 36, p ~ 2e-9.
    assert srm_p_value([5300, 4700], [0.5, 0.5]) < SRM_ALPHA
    assert srm_p_value([5030, 4970], [0.5, 0.5]) > 0.5


def test_assign_puts_the_low_buckets_in_the_holdout() -> None:
    split = Split(salt="s", holdout=0.25, variant_ids=(7, 8), cumulative=(1, 4))
    for i in range(2000):
        position, variant = assign(split, f"v:{i}")
        if position < 0.25:
            assert variant is None
        else:
            # Above the hold-out, the first quarter of the rest goes to variant 7 (weight 1 of 4).
            assert variant == (7 if (position - 0.25) / 0.75 * 4 < 1 else 8)
