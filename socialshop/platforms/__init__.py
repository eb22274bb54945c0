"""Ad platforms (Meta, Google, Pinterest, TikTok), each composed of capabilities (platforms/base.py).

``REGISTRY`` lists them explicitly (slug -> class); adding a platform is one line here plus its
module, tests and docs/platforms/<slug>.md (docs/adding-a-platform.md).
"""
from __future__ import annotations

from typing import Any

from socialshop.conf import app_settings
from socialshop.exceptions import ConfigurationError
from socialshop.platforms.base import Platform
from socialshop.platforms.google import GooglePlatform
from socialshop.platforms.meta import MetaPlatform
from socialshop.platforms.pinterest import PinterestPlatform
from socialshop.platforms.tiktok import TikTokPlatform

REGISTRY: dict[str, type[Platform]] = {
    "meta": MetaPlatform,
    "google": GooglePlatform,
    "pinterest": PinterestPlatform,
    "tiktok": TikTokPlatform,
}


def configured_slugs() -> list[str]:
    """Slugs of the platforms present in ``SOCIALSHOP['PLATFORMS']`` (registry order), unless ``"enabled": False``."""
    platforms = app_settings.PLATFORMS or {}
    return [slug for slug in REGISTRY if isinstance(platforms.get(slug), dict) and platforms[slug].get("enabled", True)]


def get_platform(slug: str) -> Platform:
    """A platform instance built from its settings; ``ConfigurationError`` for an unknown or unconfigured slug."""
    if slug not in REGISTRY:
        raise ConfigurationError(f"unknown platform {slug!r}; known: {', '.join(REGISTRY)}")
    config = (app_settings.PLATFORMS or {}).get(slug)
    if not isinstance(config, dict):
        raise ConfigurationError(f"SOCIALSHOP['PLATFORMS'][{slug!r}] is not set")
    return REGISTRY[slug](config)


def configured_platforms(kind: str | None = None) -> dict[str, Platform]:
    """Every configured platform, slug -> instance; with ``kind``, only those whose ``kind`` capability is on."""
    chosen = {slug: get_platform(slug) for slug in configured_slugs()}
    return {slug: p for slug, p in chosen.items() if kind is None or p.is_active(kind)}


def browser_config() -> dict[str, dict[str, Any]]:
    """slug -> {ids, script_url, events} for every configured platform whose browser tag has its id set.

    ``script_url`` is the real host unless ``SOCIALSHOP['PLATFORMS'][slug]['script_url']`` says otherwise.
    """
    out: dict[str, dict[str, Any]] = {}
    for slug, platform in configured_platforms("browser_tag").items():
        config = platform.browser_tag.browser_config()
        if config:
            out[slug] = config
    return out
