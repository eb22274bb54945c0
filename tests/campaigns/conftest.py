"""Campaign test helpers: audiences with hand-made memberships, campaigns with variants, events."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from socialshop.audiences.models import Audience, AudienceMember, RuleKind
from socialshop.campaigns.models import Campaign, CampaignStatus, IncentiveKind, Variant
from socialshop.tracking.models import Event

_seq = itertools.count(1)
NOW = timezone.now().replace(microsecond=0)
H, MIN = timedelta(hours=1), timedelta(minutes=1)


def make_audience(slug: str = "") -> Audience:
    slug = slug or f"aud-{next(_seq)}"
    return Audience.objects.create(name=slug, slug=slug, kind=RuleKind.CART_ABANDONERS)


def join(audience: Audience, person: str, *, qualified_at: datetime, joined_at: datetime | None = None,
         visitor_id: str = "") -> AudienceMember:
    """An open membership of ``person``, qualified by an action at ``qualified_at``."""
    return AudienceMember.objects.create(audience=audience, person=person, visitor_id=visitor_id,
                                         qualified_at=qualified_at, joined_at=joined_at or qualified_at)


def make_campaign(audience: Audience | None = None, *, variants: tuple[tuple[str, int], ...] = (("A", 1),),
                  **fields: Any) -> Campaign:
    values: dict[str, Any] = {
        "name": "Cart reminder", "slug": f"camp-{next(_seq)}", "status": CampaignStatus.RUNNING,
        "channels": ["email", "meta"], "min_delay_minutes": 60, "max_age_hours": 72, "holdout_percent": 10,
    }
    values.update(fields)
    campaign = Campaign.objects.create(**values)
    campaign.audiences.add(audience or make_audience())
    for name, weight in variants:
        Variant.objects.create(campaign=campaign, name=name, weight=weight, subject=f"{name}: you left something")
    return campaign


def with_incentive(campaign: Campaign, *, kind: str = IncentiveKind.PERCENT, amount: str = "10", **fields: Any) -> Campaign:
    campaign.incentive_kind, campaign.incentive_amount = kind, Decimal(amount)
    for name, value in fields.items():
        setattr(campaign, name, value)
    campaign.save()
    return campaign


def event(name: str, visitor: str, *, at: datetime, **fields: Any) -> Event:
    values: dict[str, Any] = {"event_id": f"ce{next(_seq)}", "name": name, "visitor_id": visitor, "occurred_at": at,
                              "received_at": at, "source": "browser", "may_share": True}
    values.update(fields)
    return Event.objects.create(**values)


def person_with_variant(campaign: Campaign, *, holdout: bool, start: int = 0) -> str:
    """A person key whose assignment in ``campaign`` is (or is not) the hold-out."""
    from socialshop.campaigns.assignment import Split, assign

    split = Split.of(campaign)
    assert split is not None
    for i in itertools.count(start):
        person = f"v:probe-visitor-{i:06d}"  # a valid visitor id (16-40 characters)
        if (assign(split, person)[1] is None) == holdout:
            return person
    raise AssertionError("unreachable")
