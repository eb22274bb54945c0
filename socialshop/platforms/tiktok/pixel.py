"""The TikTok pixel (ttq) in the browser; its event names are the Events API's."""
from __future__ import annotations

from typing import ClassVar

from socialshop.platforms.browser import BrowserTag
from socialshop.platforms.tiktok.events import EVENT_NAMES


class TikTokPixel(BrowserTag):
    """The TikTok pixel (ttq)."""

    # "page" is ttq.page(); the rest are ttq.track(name, props, {event_id}).
    browser_event_names: ClassVar[dict[str, str]] = {"PageView": "page", **EVENT_NAMES}
    default_script_url: ClassVar[str] = "https://analytics.tiktok.com/i18n/pixel/events.js"
    browser_id_setting: ClassVar[str] = "pixel_code"
