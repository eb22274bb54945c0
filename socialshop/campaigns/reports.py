"""Pulling the platforms' reports for campaigns: daily impressions, clicks and spend per campaign and
platform, stored as ``PlatformReport`` rows (upserted, so a pull may run twice) with the outcome of each
pull in ``ReportPull``. A failure keeps the stored days, says why, and waits (Retry-After) before the
next try; refused credentials halt the capability like any other (platforms/status.py).

Entry point: ``pull_campaign_reports(*, now, slug)`` (single-flight), run hourly by the task
``socialshop.pull_campaign_reports``. The capability is platforms/reporting.py; results.py reads the rows.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from socialshop.campaigns.models import Campaign, CampaignStatus, PlatformReport, ReportPull, ReportPullStatus
from socialshop.conf import app_settings
from socialshop.core.jobs import single_flight
from socialshop.exceptions import ConfigurationError
from socialshop.platforms import REGISTRY, configured_platforms
from socialshop.platforms.http import PlatformAPIError
from socialshop.platforms.reporting import CampaignRef, ReportDay, Reporting
from socialshop.platforms.status import halted_reason, record_error, record_success

logger = logging.getLogger(__name__)
# A retryable failure without Retry-After is tried again at the next hourly run at the earliest.
DEFAULT_RETRY = timedelta(minutes=15)


def lookback_days() -> int:
    """``REPORT_LOOKBACK_DAYS`` checked: a whole number from 1 to 90."""
    value = app_settings.REPORT_LOOKBACK_DAYS
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 90:
        raise ConfigurationError(f"SOCIALSHOP['REPORT_LOOKBACK_DAYS'] = {value!r} is not a whole number of days from 1 to 90")
    return value


def campaign_platforms(campaign: Campaign) -> list[str]:
    """The platforms a campaign runs on or names an ad campaign for, in registry order."""
    named = set(campaign.channels or []) | set((campaign.platform_campaigns or {}) if isinstance(campaign.platform_campaigns, dict) else {})
    return [slug for slug in REGISTRY if slug in named]


def reporting_window(campaign: Campaign, *, now: datetime) -> tuple[date, date] | None:
    """(since, until) to ask for: the last ``REPORT_LOOKBACK_DAYS`` days, within the campaign's run; None before it starts."""
    today = now.date()
    start = (campaign.starts_at or campaign.created_at).date()
    end = min(today, campaign.ends_at.date()) if campaign.ends_at else today
    since = max(start, today - timedelta(days=lookback_days() - 1))
    return None if since > end else (since, end)


def _ref(campaign: Campaign, slug: str) -> CampaignRef:
    refs = campaign.platform_campaigns if isinstance(campaign.platform_campaigns, dict) else {}
    return CampaignRef(name=campaign.slug, id=str(refs.get(slug) or "").strip())


def fetch_days(capability: Reporting, ref: CampaignRef, *, since: date, until: date) -> list[ReportDay]:
    """The capability's rows for the window, asked in pieces of at most ``max_days``."""
    days: list[ReportDay] = []
    start = since
    while start <= until:
        end = min(until, start + timedelta(days=capability.max_days - 1))
        # Only the days asked for: a row outside them is the platform's mistake, not ours to store.
        days.extend(d for d in capability.daily_report(ref, since=start, until=end) if start <= d.day <= end)
        start = end + timedelta(days=1)
    return days


def store_days(campaign: Campaign, slug: str, days: list[ReportDay]) -> int:
    """Upsert the days (one query); a day reported again replaces its figures."""
    currency = str(app_settings.CURRENCY)
    rows = [PlatformReport(campaign=campaign, platform=slug, day=d.day, impressions=d.impressions, clicks=d.clicks,
                           spend=d.spend, currency=d.currency or currency) for d in days]
    PlatformReport.objects.bulk_create(rows, update_conflicts=True, unique_fields=["campaign", "platform", "day"],
                                       update_fields=["impressions", "clicks", "spend", "currency", "updated_at"])
    return len(rows)


def _pull_one(campaign: Campaign, slug: str, capability: Reporting, pull: ReportPull, *, now: datetime) -> str:
    window = reporting_window(campaign, now=now)
    if window is None:
        return "not started"
    halted = halted_reason(capability)
    if halted:
        return f"halted until the credentials change: {halted}"
    try:
        rows = store_days(campaign, slug, fetch_days(capability, _ref(campaign, slug), since=window[0], until=window[1]))
    except ConfigurationError as exc:
        pull.status, pull.last_error, pull.retry_at = ReportPullStatus.FAILED, str(exc), None
    except (ValueError, TypeError, AttributeError, LookupError) as exc:
        # An answer of the wrong shape (a proxy's page, a changed API): nothing stored, tried again later.
        exc = PlatformAPIError(capability.name, f"unreadable report answer: {exc}"[:300], retryable=True)
        record_error(capability, f"report of {campaign.slug}: {exc}")
        pull.status, pull.last_error, pull.retry_at = ReportPullStatus.RETRYING, str(exc), now + DEFAULT_RETRY
    except PlatformAPIError as exc:
        record_error(capability, f"report of {campaign.slug}: {exc}", halt=exc.auth)
        wait = timedelta(seconds=exc.retry_after) if exc.retry_after is not None else DEFAULT_RETRY
        pull.status = ReportPullStatus.RETRYING if exc.retryable else ReportPullStatus.FAILED
        pull.last_error, pull.retry_at = str(exc), (now + wait if exc.retryable else None)
    else:
        record_success(slug, capability.kind)
        pull.status, pull.rows, pull.last_success_at, pull.last_error, pull.retry_at = ReportPullStatus.OK, rows, now, "", None
    pull.save()
    if pull.status == ReportPullStatus.OK:
        return f"{pull.rows} days"
    return pull.last_error + (f" (next try after {pull.retry_at:%H:%M:%S} UTC)" if pull.retry_at else "")


def pull_campaign_reports(*, now: datetime | None = None, slug: str | None = None) -> dict[str, dict[str, str]]:
    """Pull and store the reports of every live or recently ended campaign (or only ``slug``) from each of its
    platforms with reporting on. Returns {campaign: {platform: what happened}}. Single-flight."""
    now = now or timezone.now()
    with single_flight("socialshop.pull_campaign_reports"):
        platforms = {s: p for s, p in configured_platforms("reporting").items()}
        recent = now - timedelta(days=lookback_days())
        campaigns = Campaign.objects.exclude(status=CampaignStatus.DRAFT).filter(Q(ends_at__isnull=True) | Q(ends_at__gte=recent))
        if slug:
            campaigns = Campaign.objects.filter(slug=slug)
        pulls = {(p.campaign_id, p.platform): p for p in ReportPull.objects.filter(campaign__in=campaigns)}
        outcome: dict[str, dict[str, str]] = {}
        try:
            for campaign in campaigns.order_by("pk"):
                for platform_slug in campaign_platforms(campaign):
                    if platform_slug not in platforms:
                        continue
                    pull = pulls.get((campaign.pk, platform_slug)) or ReportPull(campaign=campaign, platform=platform_slug)
                    if pull.retry_at and pull.retry_at > now:
                        said = f"waiting until {pull.retry_at:%H:%M:%S} UTC (the platform asked): {pull.last_error}"
                    else:
                        capability: Any = platforms[platform_slug].capability("reporting")
                        said = _pull_one(campaign, platform_slug, capability, pull, now=now)
                    outcome.setdefault(campaign.slug, {})[platform_slug] = said
        finally:
            for platform in platforms.values():
                platform.close()
        logger.info("campaign reports pulled: %s", outcome)
        return outcome
