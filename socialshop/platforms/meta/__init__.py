"""Meta (Facebook/Instagram): the Meta Pixel, the Conversions API, and custom audiences (customer
lists, website twins, lookalikes) and catalogue product sets. One module per capability; docs in docs/platforms/meta.md."""
from __future__ import annotations

from typing import ClassVar

from socialshop.platforms.base import Capability, Platform
from socialshop.platforms.meta.audiences import MetaAudiences, MetaLookalikes, MetaWebsiteAudiences
from socialshop.platforms.meta.events import MetaEvents
from socialshop.platforms.meta.pixel import MetaPixel
from socialshop.platforms.meta.reporting import MetaReporting
from socialshop.platforms.meta.product_sets import MetaProductSets


class MetaPlatform(Platform):
    slug: ClassVar[str] = "meta"
    name: ClassVar[str] = "Meta"
    default_api_base: ClassVar[str] = "https://graph.facebook.com"
    capabilities: ClassVar[dict[str, type[Capability]]] = {
        "events": MetaEvents, "browser_tag": MetaPixel, "audiences": MetaAudiences,
        "website_audiences": MetaWebsiteAudiences, "lookalikes": MetaLookalikes, "product_sets": MetaProductSets,
        "reporting": MetaReporting,
    }
