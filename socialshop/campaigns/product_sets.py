"""A campaign's product set on each of its platforms: the set in the platform's catalogue whose rule is
"the feed label for campaigns equals the campaign's slug" (feeds/rules.py ``product_set``, filled from the
campaign's picks by campaigns/picks.py).

``sync_product_sets(campaign)`` creates the set, or updates it when its rule or name changed, through each
platform's product-set capability (platforms/product_sets.py) and keeps the id and the last result on
``Campaign.product_sets`` for admin. Run by the admin action and by each periodic refresh.
"""
from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from socialshop.campaigns.models import EMAIL, Campaign, CampaignStatus
from socialshop.exceptions import ConfigurationError, UnsupportedFeature
from socialshop.feeds.models import Feed
from socialshop.feeds.rules import product_set_label_index
from socialshop.platforms import REGISTRY, get_platform
from socialshop.platforms.http import PlatformAPIError
from socialshop.platforms.product_sets import SetRule

logger = logging.getLogger(__name__)


class SetStatus:
    """What ``Campaign.product_sets[slug]["status"]`` says."""

    OK = "ok"
    ERROR = "error"
    UNSUPPORTED = "unsupported"  # the platform has no product-set API: the feed label alone
    OFF = "off"  # the capability's settings are not set
    NO_LABEL = "no_label"  # no enabled feed for the platform carries the product_set label rule


def label_field(slug: str) -> str | None:
    """``custom_label_N`` that the platform's enabled feeds give the product_set rule (the first such feed)."""
    for rules in Feed.objects.filter(platform=slug, enabled=True).order_by("slug").values_list("custom_labels", flat=True):
        index = product_set_label_index(rules or [])
        if index is not None:
            return f"custom_label_{index}"
    return None


def set_name(campaign: Campaign) -> str:
    return f"{campaign.name} ({campaign.slug})"


def _sync_one(campaign: Campaign, slug: str, previous: dict[str, Any], *, force: bool) -> dict[str, Any]:
    now = timezone.now().isoformat(timespec="seconds")
    try:
        platform = get_platform(slug)
        capability = platform.capability("product_sets")
    except UnsupportedFeature as exc:
        return {"status": SetStatus.UNSUPPORTED, "message": f"{exc}: target the feed label in its catalogue by hand", "at": now}
    except ConfigurationError as exc:
        return {"status": SetStatus.OFF, "message": str(exc), "at": now}
    try:
        if not platform.is_active("product_sets"):
            keys = ", ".join(f"SOCIALSHOP['PLATFORMS'][{slug!r}][{k!r}]" for k in capability.required_settings)
            return {"status": SetStatus.OFF, "message": f"set {keys} to create product sets", "at": now}
        field = label_field(slug)
        if field is None:
            return {**previous, "status": SetStatus.NO_LABEL, "at": now,
                    "message": f"no enabled {platform.name} feed has a 'product set' custom label rule: add one in the feed admin"}
        rule, name = SetRule(field, campaign.slug), set_name(campaign)
        wanted = {"label_field": field, "value": campaign.slug, "name": name}
        if previous.get("id") and previous.get("status") == SetStatus.OK and not force \
                and all(previous.get(k) == v for k, v in wanted.items()):
            return previous
        if previous.get("id"):
            capability.update_product_set(previous["id"], name, rule)
            set_id = previous["id"]
        else:
            set_id = capability.create_product_set(name, rule)
        return {"id": set_id, **wanted, "status": SetStatus.OK, "message": "", "at": now}
    except PlatformAPIError as exc:
        logger.warning("campaign %s: product set on %s failed: %s", campaign.slug, slug, exc.message)
        why = "credentials refused" if exc.auth else ("temporary, tried again at the next refresh" if exc.retryable else "refused")
        return {**previous, "status": SetStatus.ERROR, "message": f"{why}: {exc.message}"[:300], "at": now}
    finally:
        platform.close()


def sync_product_sets(campaign: Campaign, *, force: bool = False) -> dict[str, dict[str, Any]]:
    """Create or update the campaign's product set on each platform channel; returns and stores the results.

    Only while the campaign runs. A set already made for the same rule and name is left alone (no call)
    unless ``force``. Failures are recorded per platform, never raised.
    """
    results = dict(campaign.product_sets or {})
    if campaign.effective_status() != CampaignStatus.RUNNING:
        return results
    for slug in (c for c in (campaign.channels or []) if c != EMAIL and c in REGISTRY):
        results[slug] = _sync_one(campaign, slug, dict(results.get(slug) or {}), force=force)
    if results != (campaign.product_sets or {}):
        Campaign.objects.filter(pk=campaign.pk).update(product_sets=results)
        campaign.product_sets = results
    return results
