"""The ads channel in the campaign admin and its edges: per platform and variant the audience to target,
its size, the last sync and the minimum, the frequency cap in each platform's own field names, in a
constant number of queries; a refresh's cost does not grow with the audience; the per-person campaign
limit's check; a bad cap value in the form."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.checks import run_checks
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from socialshop.audiences.models import Audience, AudienceMember, Destination
from socialshop.campaigns.ads import cap_instruction, channel_summary
from socialshop.campaigns.models import AdAudience, Assignment, Campaign
from socialshop.campaigns.targeting import refresh_campaign
from tests.campaigns.conftest import make_audience, make_campaign

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def members(audience: Any, count: int, *, start: int = 0) -> None:
    at = timezone.now() - 2 * H
    AudienceMember.objects.bulk_create([
        AudienceMember(audience=audience, person=f"v:visitor-{n:05d}", visitor_id=f"visitor-{n:05d}", qualified_at=at,
                       joined_at=at) for n in range(start, start + count)])


def test_the_campaign_page_shows_each_platform_audience_its_size_sync_minimum_and_cap(admin_client: Any) -> None:
    audience = make_audience()
    members(audience, 12)
    campaign = make_campaign(audience, channels=["meta", "tiktok", "email"], holdout_percent=0, ad_impressions_cap=2,
                             ad_cap_days=7, variants=(("A", 1), ("B", 1)))
    refresh_campaign(campaign)
    meta_a = AdAudience.objects.get(campaign=campaign, platform="meta", variant__name="A")
    Destination.objects.create(audience=meta_a.audience, platform="meta", remote_id="23850000000000042",
                               state="12 members can be shared, below Meta's minimum of 100: not uploaded")
    page = admin_client.get(f"/admin/socialshop/campaign/{campaign.pk}/change/").content.decode()
    assert "Ads channel" in page and "23850000000000042" in page and "below Meta&#x27;s minimum of 100" in page
    assert "1,000" in page  # TikTok's minimum, from its capability
    assert "&quot;interval_days&quot;: 7, &quot;max_frequency&quot;: 2" in page  # Meta's ad set field
    assert "frequency = 2, frequency_schedule = 7" in page  # TikTok's ad group fields
    sizes = {(r.platform, r.variant): r.size for r in channel_summary(campaign)}
    assert set(sizes) == {("meta", "A"), ("meta", "B"), ("tiktok", "A"), ("tiktok", "B")}
    assert sizes[("meta", "A")] + sizes[("meta", "B")] == 12


def test_a_platform_channel_without_an_audience_yet_says_when_it_comes(admin_client: Any) -> None:
    campaign = make_campaign(channels=["pinterest"], status="draft")
    [row] = channel_summary(campaign)
    assert row.platform == "pinterest" and row.min_size == 100 and "next refresh while the campaign runs" in row.state


def test_the_summary_takes_two_queries_whatever_the_variants_and_platforms() -> None:
    counts = []
    for variants in ((("A", 1),), (("A", 1), ("B", 1), ("C", 1))):
        audience = make_audience()
        members(audience, 5)
        campaign = make_campaign(audience, channels=["meta", "pinterest", "google", "tiktok"], holdout_percent=0,
                                 variants=variants)
        refresh_campaign(campaign)
        campaign = Campaign.objects.get(pk=campaign.pk)
        with CaptureQueriesContext(connection) as queries:
            rows = channel_summary(campaign)
        assert len(rows) == 4 * len(variants)
        counts.append(len(queries))
    assert counts == [2, 2]


def test_a_refresh_writes_the_ad_audiences_in_the_same_number_of_queries_for_10_or_1000_people() -> None:
    counts = []
    for size in (10, 1000):
        audience = make_audience()
        members(audience, size, start=size)
        campaign = make_campaign(audience, channels=["meta"], holdout_percent=10)
        refresh_campaign(campaign)  # assigns everyone first, so the second refresh only recomputes
        with CaptureQueriesContext(connection) as queries:
            refresh_campaign(campaign)
        counts.append(len(queries))
        link = AdAudience.objects.select_related("audience").get(campaign=campaign)
        assert link.audience.size == Assignment.objects.filter(campaign=campaign, variant__isnull=False).count() > 0
    assert counts[0] == counts[1]


def test_the_cap_is_written_in_each_platforms_terms() -> None:
    campaign = Campaign(ad_impressions_cap=3, ad_cap_days=7)
    assert cap_instruction(campaign, "pinterest").startswith("ad group lifetime_frequency_cap = 13")  # 3 per 7 days ~ 13 per 30
    assert "time_length: 7}, cap: 3" in cap_instruction(campaign, "google")
    assert "no cap chosen" in cap_instruction(Campaign(ad_impressions_cap=0, ad_cap_days=7), "meta")


@pytest.mark.parametrize("value", [-1, "3", 2.5, True])
def test_a_wrong_per_person_campaign_limit_fails_the_checks_naming_the_key(settings: Any, value: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "ADS_CAMPAIGNS_PER_PERSON": value}
    errors = [e for e in run_checks() if e.id == "socialshop.E181"]
    assert len(errors) == 1 and "SOCIALSHOP['ADS_CAMPAIGNS_PER_PERSON']" in errors[0].msg and repr(value) in errors[0].msg


@pytest.mark.parametrize(("field", "value"), [("ad_cap_days", "0"), ("ad_cap_days", "91"), ("ad_impressions_cap", "91"),
                                              ("ad_impressions_cap", "-1"), ("ad_cap_days", "weekly")])
def test_a_cap_out_of_the_platforms_range_is_refused_by_the_form_and_nothing_changes(
        admin_client: Any, field: str, value: str) -> None:
    campaign = make_campaign(channels=["meta"])
    page = admin_client.get(f"/admin/socialshop/campaign/{campaign.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"audiences": [a.pk for a in campaign.audiences.all()], "exclusions": [], "channels": '["meta"]',
                 field: value, "variants-TOTAL_FORMS": "0", "variants-INITIAL_FORMS": "0",
                 "variants-MIN_NUM_FORMS": "0", "variants-MAX_NUM_FORMS": "1000"})
    data.pop("starts_at", None), data.pop("ends_at", None)
    answer = admin_client.post(f"/admin/socialshop/campaign/{campaign.pk}/change/", data)
    assert answer.status_code == 200 and field in answer.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert (campaign.ad_cap_days, campaign.ad_impressions_cap) == (7, 3)


def test_the_api_refuses_to_create_a_campaign_kind_audience_and_stores_nothing() -> None:
    from tests.api.conftest import basic_client, make_user

    make_user("audience-maker", perms=("add_audience", "view_audience"))
    client = basic_client("audience-maker")
    before = Audience.objects.count()
    for params in ({}, {"platform": "meta"}):
        answer = client.post("/socialshop/api/audiences/", {"name": "Mine", "slug": "mine", "kind": "campaign",
                                                            "params": params}, format="json")
        assert answer.status_code == 400 and "campaign" in answer.content.decode()
    assert Audience.objects.count() == before


def test_the_audiences_admin_shows_a_campaign_audience_with_its_history(admin_client: Any) -> None:
    audience = make_audience()
    members(audience, 4)
    campaign = make_campaign(audience, channels=["meta"], holdout_percent=0)
    refresh_campaign(campaign)
    link = AdAudience.objects.select_related("audience").get(campaign=campaign)
    listing = admin_client.get("/admin/socialshop/audience/")
    assert listing.status_code == 200 and link.audience.name in listing.content.decode()
    page = admin_client.get(f"/admin/socialshop/audience/{link.audience_id}/change/")
    assert page.status_code == 200 and "kept by its campaign" in page.content.decode()
