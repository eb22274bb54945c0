"""socialshop settings: every key of ``settings.SOCIALSHOP`` with its default.

This is the only module that reads ``django.conf.settings``; everything else uses
``from socialshop.conf import app_settings``. Validation lives in ``socialshop/checks.py``.
"""
from __future__ import annotations

import copy
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

DEFAULTS: dict[str, Any] = {
    # --- core -------------------------------------------------------------------------
    # Dotted path to the Catalog class that reads the host store's products.
    "CATALOG": "socialshop.catalog.ModelCatalog",
    # Keyword options for the catalog class (ModelCatalog: model, fields, variants, ...).
    "CATALOG_OPTIONS": {},
    # ISO 4217 code used when a product record or event carries no currency; new feeds price in it.
    "CURRENCY": "USD",
    # ISO 3166-1 alpha-2 country new feeds sell to ("GB"). "": the region of LANGUAGE_CODE
    # ("en-gb" -> "GB"), else "US". New feeds' language is LANGUAGE_CODE's language ("en-gb" -> "en").
    "COUNTRY": "",
    # Dotted path to f(amount: Decimal, currency: str, *, locale: str) -> str that writes money as the store
    # does; the default uses Babel with the active language ("$32.50", "£91.01"). See core/money.py.
    "MONEY_FORMATTER": "socialshop.core.money.babel_format",
    # Absolute root of the storefront ("https://shop.example.com"): feeds and ads need absolute links.
    "SITE_URL": "",
    # How socialshop runs background work: "auto" (Celery when the project has a Celery app,
    # otherwise in process), "celery" (always enqueue) or "inline" (always in process).
    "RUN_TASKS": "auto",
    # Seconds a single-flight job lock is held before another run may take it over.
    "JOB_LOCK_SECONDS": 3600,
    # --- privacy ----------------------------------------------------------------------
    # True: no visitor cookie and no identifying data until the visitor consents.
    "CONSENT_REQUIRED": True,
    # Days an event is kept; 180 is the longest website-audience window the platforms keep.
    "EVENT_RETENTION_DAYS": 180,
    # What is stored of a visitor's IP address: "truncate" (/24, /48), "hash" or "none".
    "IP_HANDLING": "truncate",
    # --- tracking ---------------------------------------------------------------------
    # Collect requests allowed per client IP per minute before 429.
    "COLLECT_RATE_LIMIT_PER_MINUTE": 120,
    # Extra origins (scheme://host[:port]) allowed to post to the collector besides our own.
    "ALLOWED_ORIGINS": [],
    # PostgreSQL: commit collected browser events without waiting for the WAL flush (a database
    # crash may lose the last ~0.6 s of them; server-side events always wait). False: always wait.
    "COLLECT_ASYNC_COMMIT": True,
    # Milliseconds collected events may wait in process memory to be written in bulk (0: write
    # during the request). A hard kill loses at most this window; a normal shutdown drains it.
    "COLLECT_BUFFER_MS": 0,
    # --- platforms --------------------------------------------------------------------
    # Per-platform ids and credentials: {"meta": {...}, "google": {...}, "pinterest": {...}, "tiktok": {...}}.
    "PLATFORMS": {},
    # Outbox deliveries one drain step claims at a time (then sent in batches within each API's limit).
    "FORWARD_CLAIM_SIZE": 1000,
    # Seconds after which a claimed but unfinished batch (its worker died) may be claimed again.
    "FORWARD_LEASE_SECONDS": 300,
    # Send attempts before a delivery that keeps failing with retryable errors is marked failed.
    "FORWARD_MAX_ATTEMPTS": 8,
    # First retry delay in seconds; doubles per attempt (with jitter) up to one hour.
    "FORWARD_BACKOFF_SECONDS": 30,
    # Seconds one forwarding run may take before it stops and leaves the rest to the next run (beat: every 60 s).
    "FORWARD_TIME_BUDGET_SECONDS": 50,
    # --- feeds ------------------------------------------------------------------------
    # Django storage alias (settings.STORAGES) that feed files are written to.
    "FEED_STORAGE": "default",
    # Refuse to publish a build with fewer items than this share of the last published build.
    "FEED_PUBLISH_MIN_RATIO": 0.5,
    # --- posts ------------------------------------------------------------------------
    # URL (path or absolute) of the host's add-to-cart endpoint used by gallery hotspots.
    "CART_ADD_URL": "",
    # Days after a post tag click in which an order is attributed to that post.
    "POST_ATTRIBUTION_DAYS": 7,
    # Hold visitor comments for moderation before they show.
    "COMMENT_MODERATION": True,
    # Largest customer photo upload accepted, in bytes.
    "UPLOAD_MAX_BYTES": 10 * 1024 * 1024,
    # Django storage alias (settings.STORAGES) where uploaded pictures wait, unserved, until processed.
    # "" = a folder "socialshop-private" next to MEDIA_ROOT. Never a storage served from MEDIA_URL.
    "PRIVATE_UPLOAD_STORAGE": "",
    # Customer photo uploads allowed per client IP per hour.
    "POST_UPLOADS_PER_HOUR": 5,
    # Comments allowed per client IP per hour.
    "COMMENTS_PER_HOUR": 10,
    # --- campaigns --------------------------------------------------------------------
    # Dotted path to the store's DiscountAdapter (socialshop.campaigns.incentives) that issues and
    # checks discount codes in its checkout. "": campaigns run without incentives.
    "DISCOUNT_ADAPTER": "",
    # Ads: the most campaigns whose ad audiences one person is in at once, per platform (0: no limit).
    "ADS_CAMPAIGNS_PER_PERSON": 3,
    # Days of platform reports pulled again each hour (platforms restate recent days): 1-90.
    "REPORT_LOOKBACK_DAYS": 7,
    # --- creatives (campaigns/creatives/) -----------------------------------------------
    # Folders searched (recursively) for the fonts ads are drawn in; Noto and DejaVu are preferred.
    "CREATIVE_FONT_DIRS": ["/usr/share/fonts"],
    # The store's logo on every ad: a name in default storage or an absolute file path ("": no logo).
    "BRAND_LOGO": "",
    # Ad colours as "#rrggbb": panel background, call-to-action button, discount badge.
    "CREATIVE_COLORS": {"background": "#ffffff", "accent": "#111827", "badge": "#d7263d"},
    # "JPEG" or "PNG": the file format creatives are stored in.
    "CREATIVE_FORMAT": "JPEG",
    # Products a campaign's creatives are rendered for (its members' most viewed, most first).
    "CREATIVE_PRODUCTS": 12,
    # Dotted path to the store's ContactAdapter (socialshop.campaigns.contacts): a person's address, consent
    # and cart, read at send time and never stored. "": campaigns send no email (docs/campaigns.md, "Email").
    "CONTACT_ADAPTER": "",
    # From address of the abandoned-cart emails; "": Django's DEFAULT_FROM_EMAIL.
    "EMAIL_FROM": "",
    # True: each cart email carries a 1x1 image that records its first open (EmailSend.opened_at). Off by
    # default: it tells the store when someone reads, and image blocking and prefetching make it unreliable.
    "EMAIL_OPEN_PIXEL": False,
}


class AppSettings:
    """Attribute access to ``SOCIALSHOP`` merged over ``DEFAULTS``, read when used."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] | None = None

    def _merged(self) -> dict[str, Any]:
        if self._cache is None:
            user = getattr(settings, "SOCIALSHOP", {}) or {}
            merged = copy.deepcopy(DEFAULTS)
            if isinstance(user, dict):
                merged.update(user)
            self._cache = merged
        return self._cache

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._merged()[name]
        except KeyError:
            raise AttributeError(f"SOCIALSHOP has no setting {name!r}") from None

    def user_keys(self) -> set[str]:
        """Keys the project set itself (used by checks to catch typos)."""
        user = getattr(settings, "SOCIALSHOP", {}) or {}
        return set(user) if isinstance(user, dict) else set()

    def raw(self) -> Any:
        """The project's ``SOCIALSHOP`` value exactly as written."""
        return getattr(settings, "SOCIALSHOP", {})

    def django(self, name: str, default: Any = None) -> Any:
        """A plain Django setting (DEBUG, STORAGES, ...), so other modules never touch settings."""
        return getattr(settings, name, default)

    def reset(self) -> None:
        self._cache = None


app_settings = AppSettings()


@receiver(setting_changed)
def _reset_on_change(*, setting: str, **_: Any) -> None:
    if setting == "SOCIALSHOP":
        app_settings.reset()
