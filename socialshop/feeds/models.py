"""Feed configuration (``Feed``) and the record of every build (``FeedBuild``).

Building is ``feeds/builder.py``; publishing and the guard are ``feeds/publishing.py``; serving is
``feeds/views.py``. Platform facts are data in ``feeds/specs.py``.
"""
from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import models

from socialshop.conf import app_settings
from socialshop.feeds.specs import SPECS, Format


def new_token() -> str:
    """A fresh secret for a feed URL (``?token=``)."""
    return secrets.token_urlsafe(24)


def _language_code() -> tuple[str, str]:
    """(language, region) of Django's LANGUAGE_CODE: "en-gb" -> ("en", "GB"), "zh-hans" -> ("zh", "")."""
    parts = str(app_settings.django("LANGUAGE_CODE", "") or "").replace("_", "-").split("-")
    language = parts[0].lower() if parts and parts[0].isalpha() and len(parts[0]) in (2, 3) else ""
    region = next((p.upper() for p in parts[1:] if len(p) == 2 and p.isalpha()), "")
    return language, region


def default_currency() -> str:
    """A new feed's currency: ``SOCIALSHOP['CURRENCY']`` (the store's prices are in it)."""
    return str(app_settings.CURRENCY)


def default_country() -> str:
    """A new feed's country: ``SOCIALSHOP['COUNTRY']``, else LANGUAGE_CODE's region, else "US" (conf.py)."""
    return str(app_settings.COUNTRY or "") or _language_code()[1] or "US"


def default_language() -> str:
    """A new feed's language: LANGUAGE_CODE's language ("en-gb" -> "en"), else "en"."""
    return _language_code()[0] or "en"


class Platform(models.TextChoices):
    GOOGLE = "google", "Google Merchant Center"
    META = "meta", "Meta (Facebook & Instagram)"
    PINTEREST = "pinterest", "Pinterest"
    TIKTOK = "tiktok", "TikTok"


class FileFormat(models.TextChoices):
    XML = Format.XML, "RSS 2.0 XML (g: namespace)"
    CSV = Format.CSV, "CSV"
    TSV = Format.TSV, "TSV (tab-separated text)"


class ImageChoice(models.TextChoices):
    ALL = "all", "Main image plus additional images"
    MAIN = "main", "Main image only"


class Feed(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=80, unique=True, help_text="Used in the feed URL: /socialshop/feeds/<slug>.<format>.")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    file_format = models.CharField(max_length=3, choices=FileFormat.choices, default=FileFormat.XML,
                                   help_text="Each platform accepts only some formats (Google: XML or TSV).")
    enabled = models.BooleanField(default=True, help_text="Disabled feeds are neither built on schedule nor served (404).")
    token = models.CharField(max_length=64, default=new_token, help_text="Secret the platform sends as ?token=; change it to revoke a URL.")
    target_country = models.CharField(max_length=2, default=default_country,
                                      help_text="ISO 3166-1 alpha-2 country the feed sells to (default: SOCIALSHOP['COUNTRY'] or LANGUAGE_CODE's region).")
    language = models.CharField(max_length=8, default=default_language, help_text="ISO 639-1 content language (default: LANGUAGE_CODE's).")
    currency = models.CharField(max_length=3, default=default_currency,
                                help_text="ISO 4217; items priced in another currency are left out (default: SOCIALSHOP['CURRENCY']).")
    # --- filters ------------------------------------------------------------------------
    categories = models.JSONField(default=list, blank=True,
                                  help_text="Category paths to include, e.g. [\"Women > Dresses\"] (prefix match); empty for all.")
    in_stock_only = models.BooleanField(default=False, help_text="Leave out items that are not in stock.")
    min_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    max_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    excluded_ids = models.JSONField(default=list, blank=True, help_text="Catalog ids (or item group ids) to leave out.")
    # --- content ------------------------------------------------------------------------
    custom_labels = models.JSONField(
        default=list, blank=True,
        help_text="Up to 5 rules for custom_label_0..4, e.g. [{\"rule\": \"on_sale\", \"value\": \"sale\"}, "
                  "{\"rule\": \"price_band\", \"bands\": [[0, 25, \"budget\"], [25, null, \"premium\"]]}]. See docs/feeds.md.",
    )
    utm_source = models.CharField(max_length=100, blank=True, help_text="Empty: the platform's name (google, facebook, ...).")
    utm_medium = models.CharField(max_length=100, blank=True, default="product_feed")
    utm_campaign = models.CharField(max_length=100, blank=True)
    images = models.CharField(max_length=10, choices=ImageChoice.choices, default=ImageChoice.ALL)
    max_additional_images = models.PositiveSmallIntegerField(default=10, help_text="Capped at the platform's limit.")
    default_brand = models.CharField(max_length=70, blank=True, help_text="Brand for items without one (your shop's name for own-label goods).")
    shipping_price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True,
                                         help_text="Flat shipping price to the target country; empty to use account settings.")
    google_product_category = models.CharField(max_length=200, blank=True, help_text="Default Google taxonomy id/path when an item has none.")
    build_interval_minutes = models.PositiveIntegerField(default=60, help_text="How often beat rebuilds it (minimum 15).")
    published_build = models.ForeignKey("FeedBuild", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                        help_text="The build whose file the URL serves.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "feed"
        ordering = ["name"]
        # build_feed: "build now" in the API (POST /api/feeds/{id}/build/) and the admin.
        permissions = [("build_feed", "Can build feed")]

    def __str__(self) -> str:
        return f"{self.name} ({self.platform}, {self.file_format})"

    def clean(self) -> None:
        spec = SPECS.get(self.platform)
        if spec and self.file_format not in spec.formats:
            raise ValidationError({"file_format": f"{spec.name} accepts {', '.join(spec.formats)}, not {self.file_format}."})
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValidationError({"max_price": "Must not be below min_price."})
        from socialshop.feeds.rules import check_label_rules

        problems = check_label_rules(self.custom_labels)
        if problems:
            raise ValidationError({"custom_labels": problems})

    @property
    def path(self) -> str:
        """The URL path (without host and token) the feed is served at."""
        from django.urls import reverse

        return reverse("socialshop:feed-file", kwargs={"slug": self.slug, "ext": self.file_format})

    def url(self, *, site_url: str = "") -> str:
        """The full URL with its token, to paste into the platform (``SITE_URL`` when not given)."""
        from urllib.parse import quote

        from socialshop.conf import app_settings

        base = (site_url or str(app_settings.SITE_URL or "")).rstrip("/")
        return f"{base}{self.path}?token={quote(self.token)}"


def configured_platforms() -> list[str]:
    """Slugs in ``SOCIALSHOP['PLATFORMS']`` (not switched off) that have a feed specification."""
    platforms = app_settings.PLATFORMS or {}
    return [slug for slug, entry in platforms.items()
            if slug in SPECS and not (isinstance(entry, dict) and entry.get("enabled", True) is False)]


def create_missing_feeds() -> list[Feed]:
    """One feed for each configured platform that has none yet, with the store's defaults.

    Output: the feeds created (slug = the platform's slug, or ``<slug>-2``... when taken; the
    platform's first accepted format; currency, country and language from ``default_*`` above).
    """
    created: list[Feed] = []
    have = set(Feed.objects.values_list("platform", flat=True))
    for slug in configured_platforms():
        if slug in have:
            continue
        spec = SPECS[slug]
        feed_slug, n = slug, 1
        while Feed.objects.filter(slug=feed_slug).exists():
            n += 1
            feed_slug = f"{slug}-{n}"
        created.append(Feed.objects.create(name=f"{spec.name} feed", slug=feed_slug, platform=slug, file_format=spec.formats[0]))
    return created


class BuildStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PUBLISHED = "published", "Published"
    UNCHANGED = "unchanged", "Unchanged (same content as the live file)"
    REFUSED = "refused", "Refused by the publish guard"
    FAILED = "failed", "Failed"
    DRY_RUN = "dry_run", "Dry run"


class FeedBuild(models.Model):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="builds")
    status = models.CharField(max_length=10, choices=BuildStatus.choices, default=BuildStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    items_seen = models.PositiveIntegerField(default=0, help_text="Catalog records read.")
    items_written = models.PositiveIntegerField(default=0)
    items_skipped = models.PositiveIntegerField(default=0, help_text="Left out by a filter or an error.")
    items_warned = models.PositiveIntegerField(default=0, help_text="Written, with at least one warning.")
    reasons = models.JSONField(default=dict, blank=True,
                               help_text="{code: {severity, message, count, examples: [ids]}} for skips and warnings.")
    file_name = models.CharField(max_length=300, blank=True, help_text="Storage name of the file this build wrote.")
    size_bytes = models.BigIntegerField(default=0)
    content_hash = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the file; the ETag.")
    message = models.TextField(blank=True, help_text="Why it failed or was refused.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "feed build"
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["feed", "-started_at"], name="ss_feedbuild_history")]

    def __str__(self) -> str:
        return f"{self.feed.slug} build {self.pk}: {self.status}"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def top_reasons(self, limit: int = 10) -> list[dict]:
        """The most frequent skip/warning reasons, each with its code and example ids."""
        rows = [{"code": code, **info} for code, info in (self.reasons or {}).items()]
        rows.sort(key=lambda r: (r.get("severity") != "error", -int(r.get("count", 0)), r["code"]))
        return rows[:limit]


class ProductSetItem(models.Model):
    """A product in a named product set (a campaign's picks: ``name`` is the campaign slug).

    Written by the area that owns the set (campaigns/picks.py) and read by the feeds' ``product_set`` label
    rule and the catalogue match doctor, so feeds never read campaigns' tables.
    """

    name = models.CharField(max_length=60, help_text="The set, e.g. the campaign's slug: the label value in the feeds.")
    product_id = models.CharField(max_length=100, help_text="Catalog id, as in the feeds.")
    weight = models.PositiveIntegerField(default=0, help_text="Persons it was picked for: a product in two sets is labelled with the heavier.")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "product_id"], name="ss_productsetitem_once")]
        indexes = [models.Index(fields=["product_id"], name="ss_productsetitem_product")]

    def __str__(self) -> str:
        return f"{self.name}: {self.product_id}"
