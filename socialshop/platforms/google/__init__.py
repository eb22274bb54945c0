"""Google: the Google tag (gtag.js: GA4 + Google Ads, Consent Mode v2) in the browser, the GA4 Measurement
Protocol server side, and Customer Match audiences through the Data Manager API on its own host.
One module per capability; docs in docs/platforms/google.md."""
from __future__ import annotations

from typing import ClassVar

from socialshop.platforms.base import Capability, Platform
from socialshop.platforms.google.audiences import GoogleAudiences
from socialshop.platforms.google.events import GoogleEvents
from socialshop.platforms.google.tag import GoogleTag
from socialshop.platforms.google.reporting import GoogleReporting


class GooglePlatform(Platform):
    slug: ClassVar[str] = "google"
    name: ClassVar[str] = "Google"
    default_api_base: ClassVar[str] = "https://www.google-analytics.com"
    capabilities: ClassVar[dict[str, type[Capability]]] = {
        "events": GoogleEvents, "browser_tag": GoogleTag, "audiences": GoogleAudiences,
        "reporting": GoogleReporting,
    }
