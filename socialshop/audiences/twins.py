"""Website (pixel) twins and lookalikes of an audience on each platform, run by ``sync_audience``
(audiences/sync.py) after the customer list: the rule a platform keeps on its own pixel data
(``website_rule``), its creation and updates (``sync_twin``), and the lookalike of a seed list
(``sync_lookalike``). Outcomes are kept in ``Destination.last_result`` for admin.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict
from typing import Any

from socialshop.audiences.builder import chosen_product_ids
from socialshop.audiences.models import Audience, Destination, DestinationMember, RuleKind
from socialshop.exceptions import ConfigurationError, UnsupportedFeature
from socialshop.platforms.audiences import AudienceUploads, Lookalikes, WebsiteAudiences, WebsiteRule
from socialshop.platforms.base import Platform
from socialshop.platforms.http import PlatformAPIError
from socialshop.platforms.status import halted_reason, record_error, record_success

# Rule kinds a platform can keep on its own pixel data, with the pixel events that qualify.
TWIN_EVENTS: dict[str, tuple[str, ...]] = {
    RuleKind.VISITORS: ("PageView",), RuleKind.VIEWERS: ("ViewContent",),
    RuleKind.CART_ABANDONERS: ("AddToCart",), RuleKind.CHECKOUT_ABANDONERS: ("InitiateCheckout",),
}
ABANDONER_KINDS = (RuleKind.CART_ABANDONERS, RuleKind.CHECKOUT_ABANDONERS)


def twin_and_lookalike_results(destination: Destination) -> dict[str, Any]:
    """The twin's and lookalike's entries of ``last_result``, kept when the list's part is rewritten."""
    return {k: v for k, v in (destination.last_result or {}).items() if k in ("twin", "lookalike")}


def website_rule(audience: Audience) -> WebsiteRule | None:
    """The rule a platform can keep on its own pixel data for ``audience``; None when there is none.

    Visitors, viewers of chosen products, cart and checkout abandoners (a later purchase excludes them,
    kept as long as the cart counts). Post engagers, purchasers by value, lists and seeds rest on our
    data only, and an audience that includes or excludes other audiences cannot be said in pixel rules.
    """
    events = TWIN_EVENTS.get(audience.kind)
    if events is None or audience.include.exists() or audience.exclude.exists():
        return None
    days, content_ids = audience.lookback_days, ()
    exclude: tuple[str, ...] = ()
    exclude_days = 0
    if audience.kind == RuleKind.VIEWERS:
        content_ids = tuple(chosen_product_ids(audience))
        if not content_ids:
            return None
    if audience.kind in ABANDONER_KINDS:
        max_minutes = (audience.params or {}).get("max_delay_minutes", 7 * 24 * 60)
        if isinstance(max_minutes, (int, float)) and not isinstance(max_minutes, bool) and max_minutes > 0:
            days = min(days, math.ceil(max_minutes / 1440))
        exclude, exclude_days = ("Purchase",), max(days, 1)
    if audience.exclude_purchasers_days:
        exclude, exclude_days = ("Purchase",), max(exclude_days, audience.exclude_purchasers_days)
    return WebsiteRule(events=events, retention_days=max(days, 1), content_ids=content_ids, exclude_events=exclude,
                       exclude_retention_days=exclude_days)


def _off(platform: Platform, kind: str, what: str) -> str | None:
    """Why ``platform`` cannot make ``what`` (no such capability through its API, or not switched on), else None."""
    if not platform.supports(kind):
        return f"no {what}: {platform.name}'s API does not create them"
    if not platform.is_active(kind):
        keys = ", ".join(platform.capabilities[kind].required_settings)
        return f"no {what}: {platform.name} {what}s are off (set {keys} in SOCIALSHOP['PLATFORMS']['{platform.slug}'])"
    return None


def sync_twin(destination: Destination, platform: Platform) -> str:
    """Create, or bring in step, ``destination``'s website (pixel) twin on ``platform``; returns what happened.

    The outcome is kept in ``destination.last_result["twin"]`` (id, rule sent, state) for admin; the
    caller saves the destination. A refused credential halts the platform's website audiences only.
    """
    audience = destination.audience
    previous = (destination.last_result or {}).get("twin") or {}
    sent_rule = str(previous.get("rule") or "")
    rule = website_rule(audience)
    state = _off(platform, "website_audiences", "website twin")
    if rule is None:
        state = f"no website twin: a {audience.get_kind_display().lower()} rule is not one {platform.name}'s pixel can keep"
    if state is None and rule is not None:
        capability = platform.capability("website_audiences")
        assert isinstance(capability, WebsiteAudiences)
        wanted = json.dumps(asdict(rule), sort_keys=True)
        halted = halted_reason(capability)
        try:
            if halted:
                state = f"website twin halted, credentials refused: {halted}"
            elif not destination.twin_id:
                destination.twin_id = capability.create_website_audience(audience.name, rule)
                state, sent_rule = "website twin created", wanted
                record_success(platform.slug, capability.kind)
            elif wanted != sent_rule:
                capability.update_website_audience(destination.twin_id, rule)
                state, sent_rule = "website twin updated", wanted
                record_success(platform.slug, capability.kind)
            else:
                state = "website twin in step"
        except (UnsupportedFeature, ConfigurationError) as exc:
            state = f"no website twin: {exc}"
        except PlatformAPIError as exc:
            record_error(capability, str(exc), halt=exc.auth)
            state = f"website twin not in step: {exc}"
        finally:
            capability.close()
    destination.last_result = {**(destination.last_result or {}),
                               "twin": {"id": destination.twin_id, "rule": sent_rule, "state": state[:300]}}
    return state


def lookalike_params(audience: Audience) -> tuple[str, float]:
    """(country, size) from a seed audience's ``params``; ``ConfigurationError`` naming a bad value."""
    params = audience.params or {}
    country, size = params.get("lookalike_country", ""), params.get("lookalike_size", 0.01)
    if not isinstance(country, str) or len(country) != 2 or not country.isalpha():
        raise ConfigurationError(f"audience {audience.slug!r}: lookalike_country = {country!r} is not a two-letter country code")
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size <= 0.2:
        raise ConfigurationError(f"audience {audience.slug!r}: lookalike_size = {size!r} is not a share from 0.01 to 0.20")
    return country.upper(), float(size)


def sync_lookalike(destination: Destination, platform: Platform, uploads: AudienceUploads) -> str:
    """Create the lookalike of a ``lookalike_seed`` audience once its list holds the platform's minimum; returns what happened.

    Created once (``Destination.lookalike_id``); the platform keeps it in step with the seed itself.
    The outcome is kept in ``destination.last_result["lookalike"]``.
    """
    audience = destination.audience
    if audience.kind != RuleKind.LOOKALIKE_SEED:
        return ""
    state = _off(platform, "lookalikes", "lookalike")
    if destination.lookalike_id:
        state = "lookalike created"
    elif state is None:
        sent = DestinationMember.objects.filter(destination=destination, matched=True).count()
        capability = platform.capability("lookalikes")
        assert isinstance(capability, Lookalikes)
        try:
            country, size = lookalike_params(audience)
            if not destination.remote_id or sent < uploads.min_size:
                state = f"lookalike waits for the seed list: {sent} of {uploads.min_size} members uploaded"
            elif halted := halted_reason(capability):
                state = f"lookalike halted, credentials refused: {halted}"
            else:
                destination.lookalike_id = capability.create_lookalike(
                    f"{audience.name} lookalike", seed_audience_id=destination.remote_id, country=country, size=size)
                record_success(platform.slug, capability.kind)
                state = "lookalike created"
        except ConfigurationError as exc:
            state = f"no lookalike: {exc}"
        except PlatformAPIError as exc:
            record_error(capability, str(exc), halt=exc.auth)
            state = f"lookalike not created: {exc}"
        finally:
            capability.close()
    destination.last_result = {**(destination.last_result or {}),
                               "lookalike": {"id": destination.lookalike_id, "state": (state or "")[:300]}}
    return state or ""
