"""The Meta Pixel (fbq) in the browser; its event names are the Conversions API's."""
from __future__ import annotations

from typing import ClassVar

from socialshop.platforms.browser import BrowserTag
from socialshop.platforms.meta.events import EVENT_NAMES


class MetaPixel(BrowserTag):
    browser_event_names: ClassVar[dict[str, str]] = EVENT_NAMES
    default_script_url: ClassVar[str] = "https://connect.facebook.net/en_US/fbevents.js"
    browser_id_setting: ClassVar[str] = "pixel_id"
