"""Pinterest: the Pinterest tag, the Conversions API, and audiences (customer lists, visitor twins,
actalikes). One module per capability; docs in docs/platforms/pinterest.md."""
from __future__ import annotations

from typing import ClassVar

from socialshop.platforms.base import Capability, Platform
from socialshop.platforms.pinterest.audiences import PinterestActalikes, PinterestAudiences, PinterestVisitorAudiences
from socialshop.platforms.pinterest.events import PinterestEvents
from socialshop.platforms.pinterest.tag import PinterestTag
from socialshop.platforms.pinterest.reporting import PinterestReporting

__all__ = ["PinterestActalikes", "PinterestAudiences", "PinterestEvents", "PinterestPlatform", "PinterestTag",
           "PinterestVisitorAudiences"]


class PinterestPlatform(Platform):
    slug: ClassVar[str] = "pinterest"
    name: ClassVar[str] = "Pinterest"
    default_api_base: ClassVar[str] = "https://api.pinterest.com"
    capabilities: ClassVar[dict[str, type[Capability]]] = {
        "events": PinterestEvents, "browser_tag": PinterestTag, "audiences": PinterestAudiences,
        "website_audiences": PinterestVisitorAudiences, "lookalikes": PinterestActalikes,
        "reporting": PinterestReporting,
    }
