"""Campaign results (campaigns/results.py): what counts as a landing, a conversion and revenue, per arm,
against a hand-built history; the headline metrics; a constant number of queries for any size."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from socialshop.audiences.models import VisitorLink
from socialshop.campaigns.models import Assignment, Campaign, IssuedCode, PlatformReport, Touch
from socialshop.campaigns.results import campaign_results, results_for, timeline
from tests.campaigns.conftest import NOW, event, make_campaign

pytestmark = pytest.mark.django_db
D = timedelta(days=1)
# 09:00 UTC ten days back: the history's same-day events (up to T0 + 3 h) stay on T0's day whatever the hour
# the tests run (at 23:25 UTC the landings at T0 + 1 h fell on the next day and the timeline test failed).
T0 = (NOW - 10 * D).replace(hour=9, minute=0, second=0)


def assign(campaign: Campaign, person: str, variant: str | None, *, at: datetime = T0) -> None:
    variant_id = campaign.variants.get(name=variant).pk if variant else None
    Assignment.objects.create(campaign=campaign, person=person, variant_id=variant_id, bucket=0.5, qualified_at=at,
                              assigned_at=at)


def purchase(visitor: str, at: datetime, value: str, *, currency: str = "USD", **fields: object) -> None:
    event("Purchase", visitor, at=at, value=Decimal(value), currency=currency, **fields)


def landing(visitor: str, at: datetime, slug: str, **fields: object) -> None:
    event("PageView", visitor, at=at, utm={"utm_source": "socialshop", "utm_campaign": slug}, **fields)


@pytest.fixture
def history() -> Campaign:
    """Three hold-out members, three in A, two in B, with purchases inside and outside the 7-day window."""
    campaign = make_campaign(variants=(("A", 1), ("B", 1)), attribution_days=7)
    slug = campaign.slug
    for person, arm in [("v:h1", None), ("v:h2", None), ("v:h3", None), ("v:a1", "A"), ("v:a2", "A"), ("v:a3", "A"),
                        ("v:b1", "B"), ("u:7", "B")]:
        assign(campaign, person, arm)
    purchase("h1", T0 + D, "50")                        # hold-out: converts
    purchase("h2", T0 - timedelta(hours=1), "80")       # before assignment: not counted
    purchase("h2", T0 + 8 * D, "80")                    # after the window: not counted
    landing("a1", T0 + timedelta(hours=1), slug, click_ids={"fbclid": "IwAR1"})
    purchase("a1", T0 + timedelta(hours=2), "30")
    purchase("a1", T0 + timedelta(hours=3), "20")
    Touch.objects.create(person="v:a2", campaign=campaign, channel="email", at=T0 + 6 * D)
    purchase("a2", T0 + 6 * D + timedelta(hours=1), "40")
    purchase("a2", T0 + 8 * D, "10")                    # outside assignment + 7 d, inside touch + 7 d
    purchase("a3", T0 + D, "25")                        # never reached: exposure falls back to assignment
    landing("b1", T0 + timedelta(hours=1), slug)
    landing("b1", T0 + timedelta(hours=2), "another-campaign")
    purchase("b1", T0 + timedelta(hours=2), "99", currency="EUR")  # converts; revenue in another currency
    VisitorLink.objects.create(visitor_id="b2-phone", person="u:7", user_id=7, linked_at=T0)
    purchase("b2-phone", T0 + D, "10")                  # a person across devices
    purchase("stranger", T0 + D, "500")                 # not a member
    PlatformReport.objects.create(campaign=campaign, platform="meta", day=T0.date(), impressions=1000, clicks=50,
                                  spend=Decimal("20.00"), currency="USD")
    PlatformReport.objects.create(campaign=campaign, platform="meta", day=(T0 + D).date(), impressions=1000, clicks=30,
                                  spend=Decimal("30.00"), currency="USD")
    a = campaign.variants.get(name="A")
    IssuedCode.objects.create(campaign=campaign, person="v:a1", variant=a, code="AAAA-BBBB-CCCC", expires_at=NOW,
                              redeemed_at=T0 + timedelta(hours=2))
    IssuedCode.objects.create(campaign=campaign, person="v:a2", variant=a, code="AAAA-BBBB-DDDD", expires_at=NOW)
    return campaign


def test_each_arm_counts_members_landings_conversions_and_revenue_in_the_window(history: Campaign) -> None:
    results = campaign_results(history)
    holdout, a, b = results.arms
    assert (holdout.name, holdout.members, holdout.exposed, holdout.landings) == ("hold-out", 3, 0, 0)
    assert (holdout.conversions, holdout.purchases, holdout.revenue, holdout.revenue_sq) == (1, 1, Decimal("50.00"), 2500.0)
    assert (a.members, a.exposed, a.landings, a.click_landings) == (3, 2, 1, 1)
    assert (a.conversions, a.purchases, a.revenue, a.revenue_sq) == (3, 4, Decimal("115.00"), 2500.0 + 1600.0 + 625.0)
    assert (a.attributed_conversions, a.attributed_revenue) == (3, Decimal("125.00"))
    assert (a.codes_issued, a.codes_redeemed) == (2, 1)
    assert (b.members, b.exposed, b.landings, b.click_landings) == (2, 1, 1, 0)
    assert (b.conversions, b.purchases, b.revenue, b.attributed_conversions, b.attributed_revenue) == (
        2, 2, Decimal("10.00"), 2, Decimal("10.00"))


def test_headline_metrics_follow_their_definitions(history: Campaign) -> None:
    results = campaign_results(history)
    assert (results.impressions, results.clicks, results.spend) == (2000, 80, Decimal("50.00"))
    assert results.ctr == pytest.approx(80 / 2000)
    assert results.roas == pytest.approx(135 / 50)
    assert results.cpa == Decimal("10.00")  # 50.00 over 5 attributed conversions
    assert results.incremental_conversions == pytest.approx(5 - (1 / 3) * 5)
    assert results.incremental_revenue == Decimal("41.67")  # 125 − 50/3 · 5
    assert results.arms[1].conversion_rate == 1.0 and results.arms[1].revenue_per_member == Decimal("38.33")
    assert results.conversion_lift.lift == pytest.approx((5 / 5) / (1 / 3) - 1)
    assert results.conversion_lift.verdict.startswith("not yet conclusive")
    assert "peeking" in results.caveat or "Fixed-horizon" in results.caveat


def test_spend_in_another_currency_leaves_roas_and_cpa_out_with_a_note(history: Campaign) -> None:
    PlatformReport.objects.create(campaign=history, platform="tiktok", day=T0.date(), impressions=10, clicks=1,
                                  spend=Decimal("5.00"), currency="EUR")
    results = campaign_results(history)
    assert results.spend is None and results.roas is None and results.cpa is None
    assert any("another currency" in note for note in results.notes)


def test_a_campaign_without_members_has_empty_results_and_plain_words() -> None:
    campaign = make_campaign(variants=(("A", 1), ("B", 1)))
    results = campaign_results(campaign)
    assert [a.members for a in results.arms] == [0, 0, 0]
    assert results.roas is None and results.incremental_conversions is None and results.sample_ratio_p == 1.0
    assert results.conversion_lift.verdict == "no hold-out conversions yet: lift cannot be measured"
    assert "No hold-out members" in results.notes[0]
    assert timeline(campaign) == []


def test_timeline_splits_days_and_sides(history: Campaign) -> None:
    days = {(d.day, d.holdout): d for d in timeline(history)}
    first = days[(T0.date(), False)]
    assert (first.members, first.landings) == (5, 2)  # assigned together; a1 and b1 landed that day
    assert days[(T0.date(), True)].members == 3
    held = days[((T0 + D).date(), True)]
    assert (held.conversions, held.revenue) == (1, Decimal("50.00"))
    assert sum(d.conversions for d in days.values() if not d.holdout) == 5
    assert sum((d.revenue for d in days.values() if not d.holdout), Decimal("0")) == Decimal("125.00")


def _members(campaign: Campaign, n: int) -> None:
    Assignment.objects.bulk_create([
        Assignment(campaign=campaign, person=f"v:p{campaign.pk}-{i}", variant=None if i % 10 == 0 else campaign.variants.first(),
                   bucket=0.5, qualified_at=T0, assigned_at=T0) for i in range(n)])
    for i in range(0, n, 3):
        purchase(f"p{campaign.pk}-{i}", T0 + D, "12.50")
        landing(f"p{campaign.pk}-{i}", T0 + timedelta(hours=1), campaign.slug)


def test_results_take_the_same_number_of_queries_for_10_and_200_members() -> None:
    small, large = make_campaign(), make_campaign()
    _members(small, 10)
    _members(large, 200)
    counts = []
    for campaign in (small, large):
        with CaptureQueriesContext(connection) as queries:
            results = campaign_results(campaign)
            timeline(campaign)
        counts.append(len(queries))
        assert results.members == (10 if campaign is small else 200)
    assert counts[0] == counts[1]
    with CaptureQueriesContext(connection) as queries:
        both = results_for(Campaign.objects.filter(pk__in=[small.pk, large.pk]))
    assert len(queries) == 5  # campaigns, variants, arms, codes, reports: for any number of campaigns
    buyers = range(0, 200, 3)
    assert both[large.pk].arms[0].conversions == len([i for i in buyers if i % 10 == 0])
    assert both[large.pk].arms[1].conversions == len([i for i in buyers if i % 10])
    assert both[large.pk].arms[1].landings == len([i for i in buyers if i % 10])


@pytest.mark.parametrize(("field", "value", "message"), [
    ("platform_campaigns", ["120210000000001"], "is not a dict of platform slug to campaign id"),
    ("platform_campaigns", {"meta": ""}, "is not a dict of platform slug to campaign id"),
    ("platform_campaigns", {"meta": True}, "is not a dict of platform slug to campaign id"),
    ("platform_campaigns", {"myspace": "1"}, "unknown platforms ['myspace']"),
    ("attribution_days", 0, "greater than or equal to 1"),
    ("attribution_days", 91, "less than or equal to 90"),
])
def test_bad_results_settings_are_refused_with_a_clear_message(field: str, value: object, message: str) -> None:
    from django.core.exceptions import ValidationError

    campaign = make_campaign()
    setattr(campaign, field, value)
    with pytest.raises(ValidationError) as info:
        campaign.full_clean()
    assert message in " ".join(info.value.message_dict[field])

