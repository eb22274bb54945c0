"""Seed step: ad creatives for the seeded campaign "Come back for your cart", so its page in admin shows
each variant's ads at 1080x1080, 1080x1920 and 1200x628 on first start.

Drawn for the campaign's few most viewed products (``SHOP_DEMO_CREATIVES``, default 4) to keep the first
start short; ``manage.py socialshop_render_ads come-back-for-your-cart`` draws the rest.
"""
from __future__ import annotations

import os
from collections.abc import Callable

from socialshop.campaigns.creatives.builder import most_viewed, render_ads
from socialshop.campaigns.models import Campaign
from socialshop.tracking.interest import update_interest

Progress = Callable[[str], None] | None
SLUG = "come-back-for-your-cart"  # seed_campaigns.py


def seed_creatives_step(progress: Progress) -> None:
    """Render the seeded campaign's creatives for its most viewed products (all sizes, every variant)."""
    say = progress or (lambda _line: None)
    campaign = Campaign.objects.filter(slug=SLUG).first()
    if campaign is None:
        say(f"No campaign {SLUG!r}: no ad creatives drawn")
        return
    update_interest()  # the products come from the members' interest: fold in the simulated traffic first
    count = int(os.environ.get("SHOP_DEMO_CREATIVES") or 4)
    say(f"Drawing ad creatives for {campaign.name!r} ({count} products, 3 sizes, every variant)")
    run = render_ads(campaign, product_ids=most_viewed(campaign, limit=count) or None)
    say(f"  {run.message or f'{run.rendered} drawn'}")
