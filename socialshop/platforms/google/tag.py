"""The Google tag (gtag.js: GA4 + Google Ads, Consent Mode v2) in the browser; its event names are GA4's."""
from __future__ import annotations

from typing import Any, ClassVar

from socialshop.platforms.browser import BrowserTag
from socialshop.platforms.google.events import EVENT_NAMES


class GoogleTag(BrowserTag):
    """gtag.js: GA4 events, and Google Ads conversions fired beside them."""

    # gtag's config call sends page_view itself, so the browser table leaves PageView out.
    browser_event_names: ClassVar[dict[str, str]] = {k: v for k, v in EVENT_NAMES.items() if k != "PageView"}
    default_script_url: ClassVar[str] = "https://www.googletagmanager.com/gtag/js"
    browser_id_setting: ClassVar[str] = "measurement_id"
    optional_settings: ClassVar[tuple[str, ...]] = ("ads_id", "ads_conversions")

    def extra_config(self) -> dict[str, Any]:
        return {
            "ads_id": str(self.config.get("ads_id") or ""),
            # our event name -> "AW-123/label": a Google Ads conversion fired beside the GA4 event.
            "ads_conversions": dict(self.config.get("ads_conversions") or {}),
        }
