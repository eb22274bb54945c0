"""Seed step: results for the seeded campaign, so its dashboard shows real numbers on first start.

It simulates a week of the campaign: its members' assignments spread over the last seven days,
landings from the campaign's links (some with a click id) and purchases for both the reached members
and the hold-out (the reached ones converting somewhat more), stored through socialshop's storage path
(``store_events``, never forwarded); then it pulls the platforms' reports from the local stand-in.
Runs after the step that seeds the campaign ``come-back-for-your-cart``; without it, it says so and stops.
"""
from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Min
from django.utils import timezone

from socialshop.campaigns.models import Assignment, Campaign, CampaignMember
from socialshop.campaigns.reports import pull_campaign_reports
from socialshop.campaigns.targeting import refresh_campaign
from socialshop.conf import app_settings
from socialshop.tracking.models import EventSource
from socialshop.tracking.store import store_events

CAMPAIGN_SLUG = "come-back-for-your-cart"
DAYS = 7  # the campaign has been running this long in the demo
BATCH = 1000
# Chances per member over the week. Reached members land from the links and convert more than the hold-out.
LANDING, CLICK_ID = 0.45, 0.6
CONVERT_HOLDOUT, CONVERT_REACHED, CONVERT_AFTER_LANDING = 0.06, 0.08, 0.16
# Demo ad campaign ids on the platforms whose reports need one (the stand-in answers for any id).
DEMO_AD_CAMPAIGNS = {"meta": "120210000000001", "pinterest": "626736533506", "tiktok": "1790000000000001"}

Progress = Callable[[str], None] | None


@dataclass(frozen=True, slots=True)
class SeededResults:
    """What the step made: members it moved back in time, events stored, purchases, report outcome."""

    members: int
    events: int
    purchases: int
    reports: dict[str, str]


def _say(progress: Progress, message: str) -> None:
    if progress:
        progress(message)


def _row(name: str, at: datetime, person: str, *, n: int, **fields: object) -> dict[str, object]:
    """An Event row for ``store_events``; the person's visitor id or account, the page URL with its utm."""
    row: dict[str, object] = {"event_id": f"sim-res-{secrets.token_hex(8)}-{n}", "name": name, "occurred_at": at,
                              "received_at": at, "source": EventSource.SIMULATED, "may_share": True, **fields}
    kind, _, key = person.partition(":")
    if kind == "u" and key.isdigit():
        row["user_id"] = int(key)
    elif kind == "v":
        row["visitor_id"] = key
    return row


def simulate_campaign_results(campaign: Campaign, *, seed: int = 17, now: datetime | None = None) -> tuple[int, int, int]:
    """Spread the campaign's assignments over the last week and store landings and purchases for its members.

    Returns (members, events, purchases). Members that events cannot name (a hashed e-mail, a list row)
    keep their assignment and get no traffic.
    """
    now = now or timezone.now()
    rng = random.Random(seed)
    assignments = list(Assignment.objects.filter(campaign=campaign).order_by("person"))
    currency = str(app_settings.CURRENCY)
    rows: list[dict[str, object]] = []
    purchases = 0
    # Each member was assigned at a refresh shortly after the action that qualified them (their cart, over
    # the last week), so landings and purchases come after that action: the activity screen, which counts
    # from the action, and the results, which count from the assignment, tell the same story.
    acted = dict(CampaignMember.objects.filter(campaign=campaign).values_list("person", "qualified_at"))
    latest = now - timedelta(minutes=1)
    for n, assignment in enumerate(assignments):
        action = acted.get(assignment.person) or assignment.qualified_at or now
        assignment.assigned_at = min(max(action, now - timedelta(days=DAYS)) + timedelta(minutes=rng.uniform(1, 30)), latest)
        assignment.qualified_at = min(assignment.qualified_at, assignment.assigned_at)
        if not assignment.person.startswith(("v:", "u:")):
            continue
        landed_at = None
        reached = assignment.variant_id is not None
        if reached and rng.random() < LANDING and assignment.assigned_at + timedelta(hours=1) < latest:
            landed_at = min(assignment.assigned_at + timedelta(hours=rng.uniform(1, 30)), latest)
            click = {"fbclid": f"IwAR{secrets.token_hex(6)}"} if rng.random() < CLICK_ID else {}
            rows.append(_row("PageView", landed_at, assignment.person, n=n, click_ids=click,
                             url=f"/cart/?utm_source=socialshop&utm_medium=meta&utm_campaign={campaign.slug}",
                             utm={"utm_source": "socialshop", "utm_medium": "meta", "utm_campaign": campaign.slug}))
        chance = CONVERT_AFTER_LANDING if landed_at else (CONVERT_REACHED if reached else CONVERT_HOLDOUT)
        if rng.random() < chance:
            start = landed_at or assignment.assigned_at
            at = min(start + timedelta(hours=rng.uniform(0.2, 48)), latest)
            value = Decimal(rng.randrange(1800, 16000)) / 100
            rows.append(_row("Purchase", at, assignment.person, n=n, value=value, currency=currency,
                             order_id=f"sim-res-{campaign.pk}-{n}"))
            purchases += 1
    Assignment.objects.bulk_update(assignments, ["assigned_at", "qualified_at"], batch_size=BATCH)
    stored = sum(len(store_events(rows[i:i + BATCH], notify=False)) for i in range(0, len(rows), BATCH))
    return len(assignments), stored, purchases


def seed_campaign_results(*, slug: str = CAMPAIGN_SLUG, progress: Progress = None, now: datetime | None = None) -> SeededResults | None:
    """The step's work for the campaign ``slug``; None (with a message) when there is no such campaign."""
    campaign = Campaign.objects.filter(slug=slug).first()
    if campaign is None:
        _say(progress, f"  no campaign {slug!r} yet: campaign results not seeded")
        return None
    now = now or timezone.now()
    if not Assignment.objects.filter(campaign=campaign).exists():
        refresh_campaign(campaign, now=now)
    members, events, purchases = simulate_campaign_results(campaign, now=now)
    refresh_campaign(campaign, now=now)  # the members who bought are now converted, those who landed counted
    if not members:
        _say(progress, f"  campaign {slug!r} has no members: nothing to simulate")
        return SeededResults(0, 0, 0, {})
    first = Assignment.objects.filter(campaign=campaign).aggregate(first=Min("assigned_at"))["first"]
    # The campaign "was created" when its first member was assigned, so the reports cover that week.
    Campaign.objects.filter(pk=campaign.pk).update(
        created_at=min(campaign.created_at, first),
        platform_campaigns={**DEMO_AD_CAMPAIGNS, **(campaign.platform_campaigns or {})})
    reports = pull_campaign_reports(now=now, slug=slug).get(slug, {})
    _say(progress, f"  {members} members over {DAYS} days: {events} events stored, {purchases} purchases")
    _say(progress, "  platform reports: " + (", ".join(f"{p}: {said}" for p, said in reports.items())
                                             or "no platform with reporting set up"))
    return SeededResults(members, events, purchases, reports)


def seed_results_step(progress: Progress) -> None:
    """Seed step: simulated results (traffic and platform reports) for the seeded campaign."""
    _say(progress, f"Simulating results for campaign {CAMPAIGN_SLUG!r}")
    seed_campaign_results(progress=progress)
