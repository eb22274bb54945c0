"""Seed step: one enabled feed per platform (Google XML, Meta CSV, Pinterest TSV, TikTok CSV), built
once, so ``manage.py socialshop_build_feeds --print-urls`` and the feed URLs work on a fresh demo.
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from socialshop.exceptions import JobLocked
from socialshop.feeds.builder import build_feed
from socialshop.feeds.models import Feed

Progress = Callable[[str], None] | None

LABELS = [
    {"rule": "on_sale", "value": "on_sale"},
    {"rule": "new_arrival", "days": 30, "value": "new_arrival"},
    {"rule": "best_seller", "days": 30, "top": 30, "value": "best_seller"},
    {"rule": "price_band", "bands": [[0, 30, "under_30"], [30, 80, "30_to_80"], [80, None, "over_80"]]},
    {"rule": "field", "field": "gender"},
]
DEMO_FEEDS = [
    {"slug": "google-shopping", "name": "Google Shopping", "platform": "google", "file_format": "xml",
     "shipping_price": Decimal("4.95"), "google_product_category": "166"},
    {"slug": "meta-catalog", "name": "Meta catalogue", "platform": "meta", "file_format": "csv"},
    {"slug": "pinterest-catalog", "name": "Pinterest catalogue", "platform": "pinterest", "file_format": "tsv"},
    {"slug": "tiktok-catalog", "name": "TikTok catalogue", "platform": "tiktok", "file_format": "csv"},
]


def seed_feeds_step(progress: Progress) -> None:
    """Create the four demo feeds (kept if they exist) and build each once."""
    if progress:
        progress("Seeding product feeds (Google, Meta, Pinterest, TikTok)")
    for spec in DEMO_FEEDS:
        values = {**spec, "default_brand": "Harbor & Pine", "custom_labels": LABELS, "enabled": True}
        feed, _ = Feed.objects.get_or_create(slug=spec["slug"], defaults=values)
        try:
            build = build_feed(feed)
        except JobLocked:
            continue
        if progress:
            progress(f"  {feed.slug}: {build.status}, {build.items_written} items, {build.items_skipped} skipped")
