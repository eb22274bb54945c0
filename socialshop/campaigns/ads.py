"""The ads channel of a campaign: for each variant and each platform channel, one platform audience
holding exactly the persons campaigns/targeting.py's ``targeted_sql`` picks, kept as an ``Audience`` of kind ``campaign``
(``AdAudience`` links them). This module writes its members set-based as one build; audiences/builder.py
keeps the diff and history and audiences/sync.py uploads it (adds and removes) like any other audience.

Also what socialshop cannot enforce itself: the frequency cap to set on each platform's ad set, shown
in admin (``channel_summary``) with the audience to target there. Decisions: docs/campaigns.md, "Ads channel".
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import Audience, AudienceCandidate, AudienceMember, Destination, RuleKind
from socialshop.campaigns.models import AdAudience, Campaign, CampaignStatus, Variant
from socialshop.conf import app_settings
from socialshop.exceptions import JobLocked
from socialshop.platforms import REGISTRY

logger = logging.getLogger(__name__)
# targeting.targeted_sql: (campaign, channel=, now=) -> (SELECT person, variant_id, qualified_at, sent; params).
# Passed in by refresh_campaign, as targeting.py builds on this module.
TargetedSQL = Callable[..., tuple[str, list[Any]]]

# Where each platform takes a frequency cap; socialshop creates no ad sets, so admin shows the value to set.
# {n}: impressions, {days}: interval, {per30}: the same rate per rolling 30 days.
CAP_FIELDS: dict[str, str] = {
    # Meta Marketing API, ad set frequency_control_specs: event IMPRESSIONS, interval_days and max_frequency
    # each 1-90; Meta applies it on ad sets optimised for reach (other goals: Meta decides).
    "meta": 'ad set frequency_control_specs = [{{"event": "IMPRESSIONS", "interval_days": {days}, '
            '"max_frequency": {n}}}] (taken on reach-optimised ad sets; otherwise Meta decides)',
    # Pinterest API v5 ad groups: lifetime_frequency_cap, impressions per rolling 30 days, CPM ad groups with an end_time.
    "pinterest": "ad group lifetime_frequency_cap = {per30} (impressions per rolling 30 days; CPM ad groups with an end time)",
    # Google Ads API campaign frequency_caps: key (level, event_type IMPRESSION, time_unit DAY/WEEK/MONTH, time_length) and cap.
    "google": "campaign frequency_caps = [{{key: {{level: CAMPAIGN, event_type: IMPRESSION, time_unit: DAY, "
              "time_length: {days}}}, cap: {n}}}] (Display and Video campaigns)",
    # TikTok Business API ad groups: frequency (impressions) per frequency_schedule (days), reach-and-frequency buying.
    "tiktok": "ad group frequency = {n}, frequency_schedule = {days} (reach and frequency ad groups)",
}


def cap_instruction(campaign: Campaign, platform: str) -> str:
    """The frequency cap to set on ``platform``'s ad set for ``campaign``, in that platform's field names."""
    n, days = campaign.ad_impressions_cap, campaign.ad_cap_days
    if not isinstance(n, int) or not isinstance(days, int) or days < 1:
        return "no cap to show until the cap's values are valid"  # the admin form shows an invalid instance back
    if n <= 0:
        return "no cap chosen: the platform decides how often each person sees the ads"
    template = CAP_FIELDS.get(platform)
    if template is None:
        return f"{n} impressions per person per {days} days (set it where {platform} takes a frequency cap)"
    return template.format(n=n, days=days, per30=math.ceil(n * 30 / days))


def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def platform_channels(campaign: Campaign) -> list[str]:
    """The campaign's channels that are platforms (registry order), "email" left out."""
    return [slug for slug in REGISTRY if slug in (campaign.channels or [])]


def ad_audience(campaign: Campaign, variant: Variant, platform: str) -> AdAudience:
    """The platform audience of ``variant`` on ``platform``, made on first use (an ``Audience`` of kind campaign)."""
    link = AdAudience.objects.select_related("audience").filter(campaign=campaign, variant=variant, platform=platform).first()
    if link is not None:
        return link
    name = REGISTRY[platform].name if platform in REGISTRY else platform
    audience = Audience.objects.create(
        name=f"{campaign.name} / {variant.name} ({name})"[:120], slug=f"campaign-{campaign.pk}-{variant.pk}-{platform}"[:60],
        kind=RuleKind.CAMPAIGN, params={"platform": platform}, lookback_days=0)
    return AdAudience.objects.create(campaign=campaign, variant=variant, platform=platform, audience=audience)


def _fill(campaign: Campaign, link: AdAudience, *, live: bool, select: TargetedSQL, at: datetime) -> Any:
    """The build's candidate writer: the variant's persons targeted on the platform ``at`` the refresh's time
    (not the build's clock, so a refresh for a given time is exact), one INSERT ... SELECT."""

    def fill(build_id: int, now: datetime) -> None:
        if not live:
            return  # no candidates: the build closes every membership, the next sync removes them
        targeted, params = select(campaign, channel=link.platform, now=at)
        members, links = _t(AudienceMember), _t(AdAudience)
        sources = list(campaign.audiences.values_list("pk", flat=True))
        in_sources = f"m.audience_id IN ({', '.join(['%s'] * len(sources))})" if sources else "1 = 0"
        # The uploads read identifiers from visitor and account ids: take them from the campaign's own audiences.
        sql = (f"INSERT INTO {_t(AudienceCandidate)} (build_id, person, visitor_id, user_id, qualified_at, reason) "
               f"SELECT %s, t.person, COALESCE(src.visitor_id, ''), src.user_id, t.qualified_at, %s FROM ({targeted}) t "
               f"LEFT JOIN (SELECT m.person AS person, MAX(m.visitor_id) AS visitor_id, MAX(m.user_id) AS user_id "
               f"FROM {members} m WHERE m.left_at IS NULL AND {in_sources} GROUP BY m.person) src ON src.person = t.person "
               f"WHERE t.variant_id = %s")
        values: list[Any] = [build_id, f"targeted by campaign {campaign.slug}", *params, *sources, link.variant_id]
        limit = app_settings.ADS_CAMPAIGNS_PER_PERSON
        if limit:
            # At most ``limit`` campaigns' ad audiences per person and platform: who is in keeps their place,
            # a newcomer gets in only while fewer other campaigns hold them.
            sql += (f" AND (t.person IN (SELECT m.person FROM {members} m WHERE m.audience_id = %s AND m.left_at IS NULL) "
                    f"OR t.person NOT IN (SELECT m.person FROM {members} m JOIN {links} x ON x.audience_id = m.audience_id "
                    f"WHERE m.left_at IS NULL AND x.platform = %s AND x.campaign_id <> %s "
                    f"GROUP BY m.person HAVING COUNT(DISTINCT x.campaign_id) >= %s))")
            values += [link.audience_id, link.platform, campaign.pk, int(limit)]
        with connection.cursor() as cursor:
            cursor.execute(sql, values)

    return fill


@dataclass(frozen=True, slots=True)
class AdAudienceUpdate:
    """What one refresh did to one platform audience."""

    platform: str
    variant: str
    audience: str
    size: int
    added: int
    removed: int
    status: str


def update_ad_audiences(campaign: Campaign, *, now: datetime, select: TargetedSQL) -> list[AdAudienceUpdate]:
    """Bring every platform audience of ``campaign`` to the persons ``select`` (targeting.targeted_sql) picks
    at ``now``; refresh_campaign calls it after recomputing the states.

    While the campaign runs, each variant with a weight or assigned people gets one audience per
    platform channel. A platform dropped from the channels, or a campaign paused, ended or in draft,
    empties its audiences (their members leave; the next sync removes them from the platform).
    """
    live = campaign.effective_status(now) == CampaignStatus.RUNNING
    channels = platform_channels(campaign)
    links = {(a.variant_id, a.platform): a for a in AdAudience.objects.filter(campaign=campaign).select_related("audience", "variant")}
    if not channels and not links:
        return []  # an email-only campaign: nothing to keep
    if live:
        for variant in campaign.variants.all():
            if variant.weight <= 0 and not variant.assignments.exists():
                continue
            for platform in channels:
                if (variant.pk, platform) not in links:
                    links[(variant.pk, platform)] = ad_audience(campaign, variant, platform)
    results = []
    for (_, platform), link in sorted(links.items()):
        active = live and platform in channels
        if not active and link.audience.size == 0 and link.audience.last_built_at is not None:
            continue  # already empty
        try:
            build = build_audience(link.audience, fill=_fill(campaign, link, live=active, select=select, at=now))
        except JobLocked:
            results.append(AdAudienceUpdate(platform, link.variant.name, link.audience.slug, link.audience.size, 0, 0,
                                            "skipped: a build of it is running"))
            continue
        results.append(AdAudienceUpdate(platform, link.variant.name, link.audience.slug, build.size, build.added,
                                        build.removed, build.status if not build.error else f"{build.status}: {build.error}"))
    if results:
        logger.info("campaign %s: ad audiences %s", campaign.slug, [(r.audience, r.size) for r in results])
    return results


def empty_orphaned_audiences() -> list[str]:
    """Empty the ad audiences whose campaign or variant was deleted (the ``Audience`` outlives its link), so the
    next sync removes their people from the platform; returns their slugs. One query when there are none."""
    emptied = []
    for audience in Audience.objects.filter(kind=RuleKind.CAMPAIGN, campaign_link__isnull=True, size__gt=0).order_by("pk"):
        try:
            build_audience(audience, fill=lambda build_id, now: None)
        except JobLocked:
            continue
        emptied.append(audience.slug)
    return emptied


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """One platform audience of a campaign as admin shows it."""

    platform: str
    variant: str
    audience: str
    remote_id: str
    size: int
    state: str
    last_sync_at: datetime | None
    min_size: int
    frequency_cap: str


def channel_summary(campaign: Campaign) -> list[ChannelRow]:
    """Each platform channel's audiences (per variant): id on the platform, size, last sync, minimum size and
    the cap to set there. Two queries, whatever the number of variants and platforms."""
    links = list(AdAudience.objects.filter(campaign=campaign).select_related("audience", "variant").order_by("platform", "variant_id"))
    destinations = {(d.audience_id, d.platform): d for d in Destination.objects.filter(audience_id__in=[a.audience_id for a in links])}
    rows = []
    channels = platform_channels(campaign)
    seen = {a.platform for a in links}
    for link in links:
        dest = destinations.get((link.audience_id, link.platform))
        rows.append(_row(campaign, link.platform, variant=link.variant.name, audience=link.audience, destination=dest))
    for platform in channels:
        if platform not in seen:
            rows.append(_row(campaign, platform, variant="—", audience=None, destination=None))
    return rows


def _row(campaign: Campaign, platform: str, *, variant: str, audience: Audience | None, destination: Destination | None) -> ChannelRow:
    capability = REGISTRY[platform].capabilities.get("audiences") if platform in REGISTRY else None
    min_size = int(getattr(capability, "min_size", 0) or 0)
    if audience is None:
        state = "no audience yet: made at the next refresh while the campaign runs"
    elif destination is None:
        state = "not synced yet"
    else:
        state = destination.state or "not synced yet"
    return ChannelRow(platform=platform, variant=variant, audience=audience.name if audience else "—",
                      remote_id=destination.remote_id if destination else "", size=audience.size if audience else 0,
                      state=state, last_sync_at=destination.last_sync_at if destination else None, min_size=min_size,
                      frequency_cap=cap_instruction(campaign, platform))
