"""Who a campaign reaches, and when: stable assignment of new members (a variant or the hold-out),
each member's state computed in SQL, and the persons to reach now on a channel, with the caps.

Entry points: ``refresh_campaign(campaign, *, now) -> CampaignStats`` (single-flight per campaign; also
recomputes the picks, campaigns/picks.py),
``targeted_persons(campaign, *, channel, now)`` and ``record_touch(person, campaign, channel)``.
The split itself (hash -> bucket -> variant) is ``campaigns/assignment.py``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from socialshop.audiences.models import AudienceMember, VisitorLink
from socialshop.audiences.rules import person_sql
from socialshop.campaigns.ads import empty_orphaned_audiences, update_ad_audiences
from socialshop.campaigns.assignment import Split, assign
from socialshop.campaigns.models import (
    EMAIL, Assignment, Campaign, CampaignMember, CampaignStatus, MemberState, Suppression, Touch,
)
from socialshop.campaigns.picks import refresh_picks
from socialshop.campaigns.product_sets import sync_product_sets
from socialshop.core.db import writing
from socialshop.core.jobs import single_flight
from socialshop.exceptions import JobLocked
from socialshop.privacy.models import ConsentRecord

logger = logging.getLogger(__name__)
BATCH = 5000  # new members assigned per round trip (one SELECT + one bulk INSERT)
# PostgreSQL: after this many new assignments, refresh the planner's statistics before the state query.
# Measured on 10,000 new members: 18 s with the stale estimates (nested loops), 0.3 s after ANALYZE.
ANALYZE_AFTER = 1000


def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _db(value: datetime) -> Any:
    """A datetime as the database stores it (SQLite: naive UTC text, so comparisons at equal times hold)."""
    return connection.ops.adapt_datetimefield_value(value)


def _aware(value: Any) -> datetime | None:
    """A datetime read by raw SQL (SQLite gives aggregates as text) as an aware datetime."""
    if value is None or isinstance(value, datetime):
        parsed = value
    else:
        parsed = parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt_timezone.utc)
    return parsed


@dataclass(frozen=True, slots=True)
class CampaignStats:
    """What one refresh did: new assignments and the members per state afterwards."""

    campaign: str
    status: str
    assigned: int
    states: dict[str, int]
    message: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """A person a channel should reach now, with their variant and the action that qualified them."""

    person: str
    variant_id: int
    qualified_at: datetime
    messages_sent: int


def _current_members(campaign: Campaign) -> tuple[str, list[Any]] | None:
    """SELECT (person, q) of the campaign's current members (any audience, minus exclusions), q = latest action."""
    audiences = list(campaign.audiences.values_list("pk", flat=True))
    if not audiences:
        return None
    members = _t(AudienceMember)
    select = (f"SELECT m.person AS person, MAX(COALESCE(m.qualified_at, m.joined_at)) AS q FROM {members} m "
              f"WHERE m.left_at IS NULL AND m.audience_id IN ({', '.join(['%s'] * len(audiences))})")
    params: list[Any] = list(audiences)
    exclusions = list(campaign.exclusions.values_list("pk", flat=True))
    if exclusions:
        select += (f" AND NOT EXISTS (SELECT 1 FROM {members} x WHERE x.left_at IS NULL AND x.person = m.person "
                   f"AND x.audience_id IN ({', '.join(['%s'] * len(exclusions))}))")
        params += exclusions
    return select + " GROUP BY m.person", params


def assign_new_members(campaign: Campaign, *, now: datetime) -> int:
    """Assign every current member who has no assignment yet, in batches; returns how many were assigned."""
    current = _current_members(campaign)
    split = Split.of(campaign)
    if current is None or split is None:
        return 0
    select, params = current
    assignments = _t(Assignment)
    sql = (f"SELECT c.person, c.q FROM ({select}) c WHERE c.person > %s AND NOT EXISTS "
           f"(SELECT 1 FROM {assignments} a WHERE a.campaign_id = %s AND a.person = c.person) ORDER BY c.person")
    sql += f" LIMIT {BATCH}"
    after, total = "", 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, after, campaign.pk])
            rows = cursor.fetchall()
        if not rows:
            return total
        Assignment.objects.bulk_create([
            Assignment(campaign=campaign, person=person, variant_id=variant, bucket=bucket,
                       qualified_at=_aware(qualified) or now, assigned_at=now)
            for person, qualified in rows
            for bucket, variant in [assign(split, person)]
        ], ignore_conflicts=True)
        total += len(rows)
        after = rows[-1][0]


def _json_text(column: str, key: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} ->> '{key}')"
    return f"json_extract({column}, '$.{key}')"


def refresh_states(campaign: Campaign, *, now: datetime) -> None:
    """Recompute every assigned person's ``CampaignMember`` row in one INSERT ... ON CONFLICT UPDATE."""
    current = _current_members(campaign) or (
        f"SELECT m.person AS person, MAX(m.qualified_at) AS q FROM {_t(AudienceMember)} m WHERE 1 = 0 GROUP BY m.person", [])
    select, params = current
    source, person, _user = person_sql()
    assignments, members, touches = _t(Assignment), _t(CampaignMember), _t(Touch)
    since = Assignment.objects.filter(campaign=campaign).order_by("qualified_at").values_list("qualified_at", flat=True).first()
    if since is None:
        return
    # Purchases and landings (PageViews from the campaign's utm link) of each person since their action.
    purchases = f"SELECT {person} AS person, e.occurred_at AS at FROM {source} WHERE e.name = 'Purchase' AND e.occurred_at >= %s"
    landings = (f"SELECT {person} AS person, e.occurred_at AS at FROM {source} WHERE e.name = 'PageView' "
                f"AND e.occurred_at >= %s AND {_json_text('e.utm', 'utm_campaign')} = %s")
    cap_email = EMAIL in (campaign.channels or []) and campaign.email_per_campaign > 0
    sql = (
        f"INSERT INTO {members} (campaign_id, person, holdout, state, qualified_at, landings, converted_at, updated_at) "
        f"SELECT a.campaign_id, a.person, a.variant_id IS NULL, CASE "
        f"WHEN conv.at IS NOT NULL THEN %s WHEN cur.q IS NULL THEN %s "
        f"WHEN (%s > 0 AND COALESCE(land.n, 0) >= %s) OR (%s AND COALESCE(sent.n, 0) >= %s) THEN %s "
        f"WHEN cur.q > %s THEN %s WHEN cur.q < %s THEN %s ELSE %s END, "
        f"cur.q, COALESCE(land.n, 0), conv.at, %s FROM {assignments} a "
        f"LEFT JOIN ({select}) cur ON cur.person = a.person "
        f"LEFT JOIN (SELECT a2.person AS person, MIN(p.at) AS at FROM {assignments} a2 JOIN ({purchases}) p "
        f"ON p.person = a2.person AND p.at >= a2.qualified_at WHERE a2.campaign_id = %s GROUP BY a2.person) conv "
        f"ON conv.person = a.person "
        f"LEFT JOIN (SELECT a3.person AS person, COUNT(*) AS n FROM {assignments} a3 JOIN ({landings}) g "
        f"ON g.person = a3.person AND g.at >= a3.qualified_at WHERE a3.campaign_id = %s GROUP BY a3.person) land "
        f"ON land.person = a.person "
        f"LEFT JOIN (SELECT t.person AS person, COUNT(*) AS n FROM {touches} t WHERE t.campaign_id = %s "
        f"AND t.channel = %s GROUP BY t.person) sent ON sent.person = a.person "
        f"WHERE a.campaign_id = %s "
        f"ON CONFLICT (campaign_id, person) DO UPDATE SET holdout = excluded.holdout, state = excluded.state, "
        f"qualified_at = excluded.qualified_at, landings = excluded.landings, converted_at = excluded.converted_at, "
        f"updated_at = excluded.updated_at"
    )
    cap = campaign.max_landings_without_purchase
    values = [
        MemberState.CONVERTED, MemberState.LEFT, cap, cap, cap_email, campaign.email_per_campaign, MemberState.CAPPED,
        _db(now - timedelta(minutes=campaign.min_delay_minutes)), MemberState.WAITING,
        _db(now - timedelta(hours=campaign.max_age_hours)), MemberState.EXPIRED, MemberState.TARGETED, _db(now),
        *params, _db(since), campaign.pk, _db(since), campaign.slug, campaign.pk, campaign.pk, EMAIL, campaign.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)


def state_counts(campaign: Campaign) -> dict[str, int]:
    """Members per state (hold-out included), every state present."""
    counts = dict.fromkeys(MemberState.values, 0)
    for row in CampaignMember.objects.filter(campaign=campaign).values("state").annotate(n=Count("pk")):
        counts[row["state"]] = row["n"]
    return counts


def refresh_campaign(campaign: Campaign, *, now: datetime | None = None) -> CampaignStats:
    """Assign new members (while the campaign runs) and recompute every member's state at ``now``.

    Single-flight per campaign: raises ``JobLocked`` while another refresh of it runs.
    """
    now = now or timezone.now()
    with single_flight(f"socialshop.refresh_campaign:{campaign.pk}"):
        campaign.refresh_from_db()
        status = campaign.effective_status(now)
        with writing():
            assigned = assign_new_members(campaign, now=now) if status == CampaignStatus.RUNNING else 0
            if assigned >= ANALYZE_AFTER and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    for model in (Assignment, AudienceMember, CampaignMember):
                        cursor.execute(f"ANALYZE {_t(model)}")
            refresh_states(campaign, now=now)
            refresh_picks(campaign, now=now)
            Campaign.objects.filter(pk=campaign.pk).update(last_refreshed_at=now)
        # The ads channel's platform audiences follow the new states, picked by this module's targeted_sql.
        update_ad_audiences(campaign, now=now, select=targeted_sql)
        message = "" if campaign.variants.filter(weight__gt=0).exists() else "no variant with a weight above 0: nobody is assigned"
        stats = CampaignStats(campaign=campaign.slug, status=status, assigned=assigned, states=state_counts(campaign), message=message)
        logger.info("campaign %s refreshed: %s new, %s", campaign.slug, assigned, stats.states)
        return stats


def _refused_persons() -> tuple[str, list[Any]]:
    """SQL: persons who opted out or sent GPC on any of their devices (as audiences/rules.py leaves them out)."""
    consent, links = _t(ConsentRecord), _t(VisitorLink)
    refused = "(r.opted_out OR r.gpc)"
    return (f"SELECT 'v:' || r.visitor_id FROM {consent} r WHERE {refused} "
            f"UNION SELECT 'u:' || CAST(r.user_id AS TEXT) FROM {consent} r WHERE {refused} AND r.user_id IS NOT NULL "
            f"UNION SELECT l.person FROM {links} l JOIN {consent} r ON r.visitor_id = l.visitor_id WHERE {refused}"), []


def targeted_sql(campaign: Campaign, *, channel: str, now: datetime) -> tuple[str, list[Any]]:
    """SELECT (person, variant_id, qualified_at, sent) of the persons ``channel`` should reach at ``now``,
    from the last refresh's states: the rules of ``targeted_persons`` as SQL, so the ads channel
    (campaigns/ads.py) can INSERT ... SELECT from it. The caller checks the channel and the status."""
    members, assignments, touches, suppressions = _t(CampaignMember), _t(Assignment), _t(Touch), _t(Suppression)
    refused, refused_params = _refused_persons()
    sql = (
        f"SELECT m.person AS person, a.variant_id AS variant_id, m.qualified_at AS qualified_at, "
        f"COALESCE(mine.n, 0) AS sent FROM {members} m "
        f"JOIN {assignments} a ON a.campaign_id = m.campaign_id AND a.person = m.person "
        f"LEFT JOIN (SELECT t.person AS person, COUNT(*) AS n FROM {touches} t WHERE t.campaign_id = %s AND t.channel = %s "
        f"GROUP BY t.person) mine ON mine.person = m.person "
        f"WHERE m.campaign_id = %s AND a.variant_id IS NOT NULL AND m.state IN (%s, %s) "
        f"AND m.qualified_at <= %s AND m.qualified_at >= %s "
        f"AND m.person NOT IN (SELECT s.person FROM {suppressions} s WHERE s.channel = %s) "
        f"AND m.person NOT IN ({refused})"
    )
    # WAITING rows may have become due since the refresh; the window below decides at ``now``.
    params: list[Any] = [campaign.pk, channel, campaign.pk, MemberState.TARGETED, MemberState.WAITING,
                         _db(now - timedelta(minutes=campaign.min_delay_minutes)),
                         _db(now - timedelta(hours=campaign.max_age_hours)),
                         channel, *refused_params]
    if channel == EMAIL:
        sql += (f" AND COALESCE(mine.n, 0) < %s AND (SELECT COUNT(*) FROM {touches} d WHERE d.person = m.person "
                f"AND d.channel = %s AND d.at > %s AND d.at <= %s) < %s")
        params += [campaign.email_per_campaign, EMAIL, _db(now - timedelta(days=1)), _db(now), campaign.email_per_day]
    return sql, params


def targeted_persons(campaign: Campaign, *, channel: str, now: datetime | None = None) -> list[Target]:
    """The persons ``channel`` should reach for ``campaign`` at ``now``, from the last refresh's states.

    Never the hold-out. Only while the campaign runs; only persons whose action lies in the window
    ``qualified_at + min_delay <= now <= qualified_at + max_age``; not converted, not capped (landings,
    this campaign's email cap, the email-per-day cap counted over every campaign), not opted out
    and not suppressed on the channel. Raises ``ValueError`` for a channel the campaign does not use.
    """
    now = now or timezone.now()
    campaign.refresh_from_db(fields=["status", "starts_at", "ends_at", "channels"])
    if channel not in (campaign.channels or []):
        raise ValueError(f"campaign {campaign.slug!r} does not run on channel {channel!r} (channels: {campaign.channels})")
    if campaign.effective_status(now) != CampaignStatus.RUNNING:
        return []
    sql, params = targeted_sql(campaign, channel=channel, now=now)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY m.person", params)
        return [Target(person=p, variant_id=v, qualified_at=_aware(q), messages_sent=n) for p, v, q, n in cursor.fetchall()]


def record_touch(person: str, campaign: Campaign, channel: str, *, at: datetime | None = None) -> Touch:
    """Record that ``channel`` reached ``person`` for ``campaign`` (an email sent): the caps count these."""
    return Touch.objects.create(person=person, campaign=campaign, channel=channel, at=at or timezone.now())


def refresh_live_campaigns(slug: str | None = None, *, now: datetime | None = None) -> dict[str, dict[str, Any]]:
    """Refresh every campaign that is running or scheduled (or only ``slug``); a campaign whose refresh is
    already running elsewhere is skipped. Returns {slug: {"status", "assigned", "states"} or {"skipped": why}}."""
    # Paused or ended campaigns whose ad audiences still hold people are refreshed once more: that empties them.
    campaigns = Campaign.objects.filter(Q(status__in=[CampaignStatus.RUNNING, CampaignStatus.SCHEDULED])
                                        | Q(ad_audiences__audience__size__gt=0)).distinct()
    if slug:
        campaigns = Campaign.objects.filter(slug=slug)
    results: dict[str, dict[str, Any]] = {}
    for campaign in campaigns.order_by("pk"):
        try:
            stats = refresh_campaign(campaign, now=now)
        except JobLocked:
            results[campaign.slug] = {"skipped": "a refresh is already running"}
            continue
        sync_product_sets(campaign)
        results[campaign.slug] = {"status": stats.status, "assigned": stats.assigned, "states": stats.states}
    if not slug:
        for orphan in empty_orphaned_audiences():  # ad audiences of deleted campaigns: emptied, then removed at the next sync
            results[orphan] = {"status": "emptied: its campaign was deleted"}
    return results
