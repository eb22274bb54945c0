"""Seed step: the running campaign "Come back for your cart" (cart abandoners, 1 hour to 7 days, email,
10 % off codes from the second email, a 10 % hold-out, two subject lines, reminders at 1 h and 24 h).

Before it, some signed-in customers browse and leave carts (simulated, through socialshop's storage
path), so the campaign has members the store can write to; the first beat run (refresh, then send)
writes their emails as files under var/mail/ (EMAIL_BACKEND in shop_demo/settings.py).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth import get_user_model

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import Audience
from socialshop.campaigns.models import Campaign, CampaignStatus, IncentiveKind, Variant
from socialshop.campaigns.targeting import refresh_campaign
from socialshop.exceptions import JobLocked
from socialshop.tracking.simulate import simulate_traffic

Progress = Callable[[str], None] | None
SLUG = "come-back-for-your-cart"
AUDIENCE = "cart-abandoners-7d"  # seed_audiences.py
SUBJECTS = (("Reminder", "You left something in your cart"),
            ("Question", "Still thinking it over? Your cart is saved"))


def seed_campaigns_step(progress: Progress) -> None:
    """Signed-in shoppers' carts, the cart abandoners rebuilt with them, and the campaign with its first refresh."""
    users = list(get_user_model().objects.filter(is_staff=False, orders__isnull=False).distinct()
                 .order_by("pk").values_list("pk", flat=True))
    visitors = int(os.environ.get("SHOP_DEMO_SIGNED_IN_VISITORS") or 2 * len(users))
    if progress:
        progress(f"Seeding the campaign {SLUG!r} ({visitors} signed-in visits by {len(users)} customers)")
    if users and visitors:
        result = simulate_traffic(visitors=visitors, days=7, seed=16, users=users)
        if progress:
            progress(f"  {result.events} events from signed-in customers")
    audience = Audience.objects.filter(slug=AUDIENCE).first()
    if audience is None:
        if progress:
            progress(f"  no audience {AUDIENCE!r}: campaign not seeded")
        return
    try:
        build_audience(audience)
    except JobLocked:
        pass
    campaign, created = Campaign.objects.get_or_create(slug=SLUG, defaults={
        "name": "Come back for your cart", "status": CampaignStatus.RUNNING, "channels": ["email"],
        "min_delay_minutes": 60, "max_age_hours": 7 * 24, "email_reminder_minutes": [60, 24 * 60],
        "email_per_day": 1, "email_per_campaign": 2, "holdout_percent": 10,
        "incentive_kind": IncentiveKind.PERCENT, "incentive_amount": Decimal("10"), "incentive_valid_days": 7,
    })
    if created:
        campaign.audiences.add(audience)
        for name, subject in SUBJECTS:
            Variant.objects.create(campaign=campaign, name=name, weight=1, subject=subject, incentive_from_message=2,
                                   headline="Your cart is waiting for you")
    try:
        stats = refresh_campaign(campaign)
    except JobLocked:
        return
    if progress:
        progress(f"  {campaign.name}: {stats.assigned} members assigned, {stats.states.get('targeted', 0)} due for email")
