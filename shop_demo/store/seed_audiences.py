"""Seed step: the standard retargeting audiences (product viewers, cart abandoners, post engagers,
purchasers, a lookalike seed and an uploaded customer list), each built once from the simulated traffic,
so the audiences admin and API have members, builds and a size chart on a fresh demo.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from shop_demo.store.models import Category
from socialshop.audiences.builder import build_audience
from socialshop.audiences.forms import validate_params
from socialshop.audiences.lists import import_list
from socialshop.audiences.models import Audience, RuleKind
from socialshop.exceptions import JobLocked

Progress = Callable[[str], None] | None

# A few made-up customers (example.com addresses, 555-01xx numbers); only their hashes are stored.
CUSTOMER_LIST_CSV = (
    "email,phone,first_name,last_name,country\n"
    "ada.lovelace@example.com,+1 415 555 0101,Ada,Lovelace,US\n"
    "grace.hopper@example.com,+1 415 555 0102,Grace,Hopper,US\n"
    "alan.turing@example.org,,Alan,Turing,GB\n"
    "katherine.j@example.net,+1 415 555 0104,Katherine,Johnson,US\n"
    "margaret.h@example.com,+1 415 555 0105,Margaret,Hamilton,US\n"
    "edsger@example.org,,Edsger,Dijkstra,NL\n"
)


def demo_audiences() -> list[dict[str, Any]]:
    """The standard audiences, in the order they are created (the cart abandoners exclude recent buyers)."""
    tops = list(Category.objects.filter(parent__isnull=True).order_by("name").values_list("name", flat=True))
    return [
        {"slug": "viewers-14d", "name": "Product viewers (14 days)", "kind": RuleKind.VIEWERS, "lookback_days": 14,
         "params": {"categories": tops}},
        {"slug": "cart-abandoners-7d", "name": "Cart abandoners (1 hour to 7 days)", "kind": RuleKind.CART_ABANDONERS,
         "lookback_days": 7, "exclude_purchasers_days": 7, "params": {"min_delay_minutes": 60, "max_delay_minutes": 7 * 24 * 60}},
        {"slug": "post-engagers-30d", "name": "Shoppable post engagers (30 days)", "kind": RuleKind.POST_ENGAGERS,
         "lookback_days": 30, "params": {}},
        {"slug": "purchasers-180d", "name": "Purchasers (180 days)", "kind": RuleKind.PURCHASERS, "lookback_days": 180,
         "params": {"recency_days": 180}},
        {"slug": "best-customers-seed", "name": "Best customers (lookalike seed)", "kind": RuleKind.LOOKALIKE_SEED,
         "lookback_days": 180, "params": {"top_percent": 20, "lookalike_country": "US", "lookalike_size": 0.01}},
        {"slug": "newsletter-list", "name": "Newsletter customers (uploaded list)", "kind": RuleKind.CUSTOMER_LIST,
         "lookback_days": 30, "params": {}},
    ]


def seed_audiences_step(progress: Progress) -> None:
    """Create the standard audiences (kept if they exist), import the customer list, and build each once."""
    if progress:
        progress("Seeding retargeting audiences and building them from the simulated traffic")
    for spec in demo_audiences():
        values = {**spec, "params": validate_params(spec["kind"], spec["params"], lookback_days=spec["lookback_days"])}
        audience, created = Audience.objects.get_or_create(slug=spec["slug"], defaults=values)
        if created and audience.kind == RuleKind.CUSTOMER_LIST:
            result = import_list(audience, io.BytesIO(CUSTOMER_LIST_CSV.encode()), mapping={
                "email": "email", "phone": "phone", "first_name": "first_name", "last_name": "last_name", "country": "country"})
            if progress:
                progress(f"  {audience.slug}: {result.summary()}")
        try:
            build = build_audience(audience)
        except JobLocked:
            continue
        if progress:
            progress(f"  {audience.slug}: {build.status}, {build.size} members" + (f" ({build.error})" if build.error else ""))
