"""The demo's results seed step (shop_demo/store/seed_results.py) on a campaign made here: a week of
landings and purchases for both arms through the storage path, and reports pulled from the stand-in."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from shop_demo.store.seed_results import DAYS, seed_campaign_results, seed_results_step
from socialshop.campaigns.activity import campaign_activity
from socialshop.campaigns.models import Assignment, CampaignMember, MemberState, PlatformReport, ReportPull, ReportPullStatus
from socialshop.campaigns.reports import lookback_days
from socialshop.campaigns.results import campaign_results
from socialshop.tracking.models import Delivery, Event
from tests.campaigns.conftest import join, make_audience, make_campaign
from tests.fakes.platforms import FakePlatforms

pytestmark = pytest.mark.django_db


@pytest.fixture
def stand_in(settings: Any) -> Iterator[FakePlatforms]:
    server = FakePlatforms().start()
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": server.settings()}
    yield server
    server.stop()


def _campaign(members: int) -> Any:
    audience = make_audience()
    now = timezone.now()
    for i in range(members):  # carts left over the last week, as the demo's simulated traffic leaves them
        join(audience, f"v:seed-{i:04d}", qualified_at=now - timedelta(hours=2 + (i * 163) % (DAYS * 24 - 3)))
    return make_campaign(audience, variants=(("Reminder", 1), ("Reminder with code", 1)), holdout_percent=30,
                         min_delay_minutes=0)


def test_the_step_says_so_and_does_nothing_without_the_seeded_campaign() -> None:
    said: list[str] = []
    seed_results_step(said.append)
    assert said[-1] == "  no campaign 'come-back-for-your-cart' yet: campaign results not seeded"
    assert not Event.objects.exists()


def test_the_step_simulates_a_week_of_results_for_both_arms(stand_in: FakePlatforms, admin_client: Client) -> None:
    campaign = _campaign(600)
    said: list[str] = []
    seeded = seed_campaign_results(slug=campaign.slug, progress=said.append)
    assert seeded is not None and seeded.members == Assignment.objects.filter(campaign=campaign).count() == 600
    assert seeded.purchases > 0 and seeded.events == Event.objects.filter(source="simulated").count()
    first = Assignment.objects.filter(campaign=campaign).order_by("assigned_at").first()
    assert timezone.now() - first.assigned_at <= timedelta(days=DAYS)
    assert timezone.now() - first.assigned_at > timedelta(days=DAYS - 1)
    # Assigned after the action that qualified each member, and the campaign's traffic after both: the
    # activity screen (counting from the action) sees the landings and purchases the results count.
    members = dict(CampaignMember.objects.filter(campaign=campaign).values_list("person", "qualified_at"))
    assert all(a.assigned_at >= members[a.person] for a in Assignment.objects.filter(campaign=campaign))
    activity = campaign_activity(campaign, series=False)
    assert sum(arm.landings for arm in activity.arms) > 0
    assert CampaignMember.objects.filter(campaign=campaign, state=MemberState.CONVERTED).exists()

    results = campaign_results(campaign)
    holdout, reached = results.holdout, results.exposed
    assert holdout.members + reached.members == 600
    assert holdout.conversions > 0 and reached.conversions > 0 and sum(a.landings for a in results.variants) > 0
    assert sum(a.click_landings for a in results.variants) > 0
    assert holdout.landings == 0  # the hold-out never gets the campaign's links
    assert not Delivery.objects.exists()  # simulated traffic is never forwarded

    days = lookback_days()  # the week of the campaign, as far back as the pull looks
    assert seeded.reports == {"meta": f"{days} days", "pinterest": f"{days} days", "tiktok": f"{days} days"}
    assert set(ReportPull.objects.filter(campaign=campaign).values_list("status", flat=True)) == {ReportPullStatus.OK}
    assert PlatformReport.objects.filter(campaign=campaign).count() == 3 * days
    assert results.spend and results.roas is not None and results.impressions > 0
    assert any("events stored" in line for line in said) and any("platform reports: meta:" in line for line in said)

    page = admin_client.get(f"/admin/socialshop/campaign/{campaign.pk}/results/").content.decode()
    assert "600 members assigned" in page and "Platform spend per day" in page


def test_without_the_stand_in_the_reports_wait_for_the_hourly_pull(settings: Any) -> None:
    platforms = settings.SOCIALSHOP["PLATFORMS"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {
        slug: {**values, "api_base": "http://127.0.0.1:9", "timeout": 1} for slug, values in platforms.items()}}
    campaign = _campaign(20)
    seeded = seed_campaign_results(slug=campaign.slug)
    assert seeded is not None and seeded.members == 20
    assert all("connection failed" in said for said in seeded.reports.values())
    assert set(ReportPull.objects.filter(campaign=campaign).values_list("status", flat=True)) == {ReportPullStatus.RETRYING}
