"""The reporting capability of each platform against the local stand-in (real HTTP), and the hourly pull
that stores the days (campaigns/reports.py): upserts, 400/429/500 and refused credentials."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from shop_demo.fakeplatforms.reporting import GOOGLE_REPORTS, figures
from socialshop.campaigns.models import PlatformReport, ReportPull, ReportPullStatus
from socialshop.campaigns.reports import pull_campaign_reports
from socialshop.exceptions import ConfigurationError
from socialshop.platforms import REGISTRY, get_platform
from socialshop.platforms.google.oauth import clear_cache
from socialshop.platforms.http import PlatformAPIError
from socialshop.platforms.models import PlatformStatus
from socialshop.platforms.reporting import CampaignRef, ReportDay
from socialshop.tasks import pull_campaign_reports as pull_task
from tests.campaigns.conftest import make_campaign
from tests.fakes.platforms import FakePlatforms

pytestmark = pytest.mark.django_db
SLUGS = list(REGISTRY)
IDS = {"meta": "120210000000001", "google": "9876543210", "pinterest": "626736533506", "tiktok": "1790000000000001"}


@pytest.fixture
def reports(fake: FakePlatforms, settings: Any) -> Iterator[FakePlatforms]:
    """Every platform's reporting on against the stand-in (Google's through its token endpoint there)."""
    platforms = fake.settings()
    platforms["google"] = {**platforms["google"], **GOOGLE_REPORTS, "oauth_token_url": f"{fake.url}/token",
                           "reporting_api_base": fake.url}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": platforms}
    clear_cache()
    fake.log.clear()
    yield fake
    clear_cache()


def expected(ref: str, since: date, until: date) -> list[ReportDay]:
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    return [ReportDay(d, *figures(ref, d), currency="USD") for d in days]


def report_calls(fake: FakePlatforms, slug: str) -> int:
    return sum(1 for entry in fake.log if entry["kind"] == "report" and entry["platform"] == slug and entry["path"] != "/token")


@pytest.mark.parametrize("slug", SLUGS)
def test_each_platform_reports_daily_figures_for_a_campaign_id(slug: str, reports: FakePlatforms) -> None:
    since, until = date(2026, 11, 1), date(2026, 11, 5)
    days = get_platform(slug).capability("reporting").daily_report(CampaignRef("spring", IDS[slug]), since=since, until=until)
    currency = "" if slug == "pinterest" else "USD"  # Pinterest's answer does not name the currency
    assert days == [ReportDay(d.day, d.impressions, d.clicks, d.spend, currency) for d in expected(IDS[slug], since, until)]


@pytest.mark.parametrize("slug", ["meta", "google"])
def test_meta_and_google_find_the_ad_campaign_by_name(slug: str, reports: FakePlatforms) -> None:
    day = date(2026, 11, 3)
    assert get_platform(slug).capability("reporting").daily_report(CampaignRef("come-back"), since=day, until=day) == \
        expected("come-back", day, day)


@pytest.mark.parametrize("slug", ["pinterest", "tiktok"])
def test_pinterest_and_tiktok_need_the_campaign_id(slug: str, reports: FakePlatforms) -> None:
    with pytest.raises(ConfigurationError, match=rf"platform_campaigns\['{slug}'\] on campaign 'come-back'"):
        get_platform(slug).capability("reporting").daily_report(CampaignRef("come-back"), since=date(2026, 11, 1),
                                                               until=date(2026, 11, 2))


def test_tiktok_asks_a_long_window_in_pieces_of_30_days(reports: FakePlatforms, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "REPORT_LOOKBACK_DAYS": 45}
    campaign = make_campaign(channels=["tiktok"], platform_campaigns={"tiktok": IDS["tiktok"]})
    campaign.created_at = timezone.now() - timedelta(days=60)
    campaign.save()
    pull_campaign_reports()
    assert report_calls(reports, "tiktok") == 2
    assert PlatformReport.objects.filter(campaign=campaign, platform="tiktok").count() == 45


def _campaign(**fields: Any) -> Any:
    values = {"channels": ["email", "meta", "pinterest"], "platform_campaigns": {"pinterest": IDS["pinterest"]}, **fields}
    campaign = make_campaign(**values)
    campaign.created_at = timezone.now() - timedelta(days=3)
    campaign.save()
    return campaign


def test_the_pull_stores_each_day_once_and_a_second_pull_replaces_them(reports: FakePlatforms) -> None:
    campaign = _campaign()
    first = pull_campaign_reports()
    assert first[campaign.slug] == {"meta": "4 days", "pinterest": "4 days"}
    PlatformReport.objects.filter(campaign=campaign).update(impressions=1)
    pull_campaign_reports()
    rows = PlatformReport.objects.filter(campaign=campaign, platform="meta").order_by("day")
    today = timezone.now().date()
    assert [(r.day, r.impressions, r.clicks, r.spend, r.currency) for r in rows] == [
        (d.day, d.impressions, d.clicks, d.spend, "USD") for d in expected(campaign.slug, today - timedelta(days=3), today)]
    assert PlatformReport.objects.filter(campaign=campaign).count() == 8
    pull = ReportPull.objects.get(campaign=campaign, platform="meta")
    assert (pull.status, pull.rows, pull.last_error) == (ReportPullStatus.OK, 4, "")
    assert PlatformStatus.objects.get(slug="meta", capability="reporting").last_success_at is not None


def test_a_400_fails_with_the_platforms_words_and_keeps_the_stored_days(reports: FakePlatforms) -> None:
    campaign = _campaign(channels=["meta"], platform_campaigns={})
    pull_campaign_reports()
    reports.fail("meta", 400, body={"error": {"message": "(#100) Filtering field campaign.name is invalid", "code": 100}})
    said = pull_campaign_reports()[campaign.slug]["meta"]
    assert "Filtering field campaign.name is invalid" in said
    pull = ReportPull.objects.get(campaign=campaign, platform="meta")
    assert pull.status == ReportPullStatus.FAILED and pull.retry_at is None and pull.rows == 4
    assert PlatformReport.objects.filter(campaign=campaign).count() == 4
    assert pull_campaign_reports()[campaign.slug]["meta"] == "4 days"  # the next run asks again


def test_a_429_waits_for_retry_after_before_asking_again(reports: FakePlatforms) -> None:
    campaign = _campaign(channels=["meta"], platform_campaigns={})
    reports.fail("meta", 429, retry_after="120")
    # Noon UTC today, so that 121 s later is still today whatever the hour the suite runs (at 23:58 UTC the
    # last pull's window took in a fifth day: found by running the suite under faketime across midnight).
    now = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    said = pull_campaign_reports(now=now)[campaign.slug]["meta"]
    assert "HTTP 429" in said and "next try after" in said
    pull = ReportPull.objects.get(campaign=campaign, platform="meta")
    assert pull.status == ReportPullStatus.RETRYING and pull.retry_at == now + timedelta(seconds=120)
    calls = report_calls(reports, "meta")
    assert pull_campaign_reports(now=now + timedelta(seconds=60))[campaign.slug]["meta"].startswith("waiting until")
    assert report_calls(reports, "meta") == calls
    assert pull_campaign_reports(now=now + timedelta(seconds=121))[campaign.slug]["meta"] == "4 days"


def test_a_500_is_retried_at_a_later_run(reports: FakePlatforms) -> None:
    campaign = _campaign(channels=["pinterest"])
    reports.fail("pinterest", 500)
    now = timezone.now()
    pull_campaign_reports(now=now)
    pull = ReportPull.objects.get(campaign=campaign, platform="pinterest")
    assert pull.status == ReportPullStatus.RETRYING and pull.retry_at == now + timedelta(minutes=15)
    assert PlatformStatus.objects.get(slug="pinterest", capability="reporting").last_error.startswith(f"report of {campaign.slug}")
    assert PlatformReport.objects.filter(campaign=campaign).count() == 0


def test_tiktok_rate_limit_code_is_retryable(reports: FakePlatforms) -> None:
    reports.fail("tiktok", 200, body={"code": 40100, "message": "Requests made too frequently", "request_id": "x"})
    with pytest.raises(PlatformAPIError) as info:
        get_platform("tiktok").capability("reporting").daily_report(CampaignRef("c", IDS["tiktok"]), since=date(2026, 11, 1),
                                                                   until=date(2026, 11, 1))
    assert info.value.retryable and "40100" in info.value.message


def test_refused_credentials_halt_reporting_until_they_change(reports: FakePlatforms, settings: Any) -> None:
    campaign = _campaign(channels=["meta"], platform_campaigns={})
    platforms = settings.SOCIALSHOP["PLATFORMS"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {**platforms, "meta": {**platforms["meta"], "reports_access_token": "revoked"}}}
    assert "Invalid OAuth access token" in pull_campaign_reports()[campaign.slug]["meta"]
    assert PlatformStatus.objects.get(slug="meta", capability="reporting").halted_at is not None
    assert pull_campaign_reports()[campaign.slug]["meta"].startswith("halted until the credentials change")
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": platforms}
    assert pull_campaign_reports()[campaign.slug]["meta"] == "4 days"


def test_the_task_pulls_and_a_draft_campaign_is_left_alone(reports: FakePlatforms) -> None:
    draft = _campaign(status="draft")
    live = _campaign()
    result = pull_task.apply().get()
    assert live.slug in result and draft.slug not in result
    assert PlatformReport.objects.filter(campaign=live).count() == 8
    assert sum((r.spend for r in PlatformReport.objects.filter(campaign=live)), Decimal("0")) > 0


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                    max_leaves=12)
ROWS = st.lists(st.fixed_dictionaries({}, optional={
    "date_start": st.text(max_size=12) | st.just("2026-11-01"), "impressions": JSON, "clicks": JSON, "spend": JSON,
    "account_currency": JSON}), max_size=3)


@settings_(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=JSON | st.fixed_dictionaries({"data": ROWS}))
def test_any_answer_a_platform_gives_keeps_the_stored_days_and_never_breaks_the_pull(reports: FakePlatforms, body: Any) -> None:
    campaign = _campaign(channels=["meta"], platform_campaigns={})
    pull_campaign_reports()
    before = list(PlatformReport.objects.filter(campaign=campaign).values_list("day", "impressions", "spend"))
    reports.fail("meta", 200, body=body)
    said = pull_campaign_reports()[campaign.slug]["meta"]
    pull = ReportPull.objects.get(campaign=campaign, platform="meta")
    if pull.status == ReportPullStatus.OK:
        assert said.endswith(" days")
    else:
        assert pull.status == ReportPullStatus.RETRYING and pull.retry_at is not None and pull.last_error
        assert list(PlatformReport.objects.filter(campaign=campaign).values_list("day", "impressions", "spend")) == before
    campaign.delete()


@pytest.mark.parametrize("value", [0, 91, "7", True, 2.5])
def test_a_bad_report_lookback_fails_the_system_check_naming_the_key(settings: Any, value: Any) -> None:
    from socialshop.campaigns.checks import check_campaigns

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "REPORT_LOOKBACK_DAYS": value}
    errors = [e for e in check_campaigns() if e.id == "socialshop.E182"]
    assert len(errors) == 1 and f"SOCIALSHOP['REPORT_LOOKBACK_DAYS'] = {value!r}" in errors[0].msg


def test_google_reporting_without_its_oauth_client_fails_the_system_check(settings: Any) -> None:
    from socialshop.platforms.checks import check_platforms

    platforms = settings.SOCIALSHOP["PLATFORMS"]
    google = {**platforms["google"], "reports_customer_id": "12-34", "reports_developer_token": "t"}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {**platforms, "google": google}}
    messages = [e.msg for e in check_platforms() if e.id == "socialshop.E166"]
    assert any("['reports_customer_id'] = '12-34'" in m for m in messages)
    assert any("['oauth_refresh_token'] = None" in m for m in messages)
