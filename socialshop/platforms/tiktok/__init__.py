"""TikTok: the TikTok pixel in the browser, the Events API 2.0 server to server, and custom audiences from
customer files. One module per capability; docs in docs/platforms/tiktok.md."""
from __future__ import annotations

from typing import ClassVar

from socialshop.platforms.base import Capability, Platform
from socialshop.platforms.tiktok.audiences import TikTokAudiences
from socialshop.platforms.tiktok.events import TikTokEvents
from socialshop.platforms.tiktok.pixel import TikTokPixel
from socialshop.platforms.tiktok.reporting import TikTokReporting


class TikTokPlatform(Platform):
    slug: ClassVar[str] = "tiktok"
    name: ClassVar[str] = "TikTok"
    default_api_base: ClassVar[str] = "https://business-api.tiktok.com"
    capabilities: ClassVar[dict[str, type[Capability]]] = {
        "events": TikTokEvents, "browser_tag": TikTokPixel, "audiences": TikTokAudiences,
        "reporting": TikTokReporting,
    }
