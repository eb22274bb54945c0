"""Seed step: simulated storefront traffic so a newcomer's admin charts are not empty, including
engagement with the seeded shoppable posts (so the posts admin shows views, clicks and revenue).

Sized by SHOP_DEMO_VISITORS (default 12000 visitors over 14 days: about 70,000 events in 10-30 seconds).
"""
from __future__ import annotations

import os
from collections.abc import Callable

from socialshop.posts.engagement import posts_for_simulation
from socialshop.tracking.simulate import simulate_traffic


def simulate_traffic_step(progress: Callable[[str], None] | None) -> None:
    """Simulate visitors over the last two weeks through socialshop's storage path."""
    visitors = int(os.environ.get("SHOP_DEMO_VISITORS") or 12000)
    if progress:
        progress(f"Simulating storefront traffic ({visitors} visitors over 14 days)")
    # Guests give an email at checkout (hashed on the way in), so the audiences' members are matchable and
    # the uploads to the demo's stand-in platforms have people to send, as in a real store.
    result = simulate_traffic(visitors=visitors, days=14, seed=7, posts=posts_for_simulation(), guest_emails=True)
    if progress:
        progress(f"  {result.events} events stored, {result.purchases} purchases")
