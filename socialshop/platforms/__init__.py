"""Ad platforms (Meta, Google, Pinterest, TikTok): one module each behind ``HttpPlatform``.

``REGISTRY`` lists them explicitly (slug -> class); adding a platform is one line here plus its
module, tests and docs/platforms/<slug>.md.
"""
from __future__ import annotations

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


def configured_platforms() -> dict[str, Platform]:
    """Every configured platform, slug -> instance."""
    return {slug: get_platform(slug) for slug in configured_slugs()}
