"""The Pinterest tag (pintrk) in the browser; server events are pinterest/events.py."""
from __future__ import annotations

from typing import ClassVar

from socialshop.platforms.browser import BrowserTag


class PinterestTag(BrowserTag):
    """The Pinterest tag (pintrk)."""

    # "page" is pintrk('page'); the rest are pintrk('track', name, data).
    browser_event_names: ClassVar[dict[str, str]] = {
        "PageView": "page", "ViewContent": "PageVisit", "Search": "Search", "AddToCart": "AddToCart",
        "AddToWishlist": "AddToWishList", "InitiateCheckout": "InitiateCheckout",
        "AddPaymentInfo": "AddPaymentInfo", "Purchase": "Checkout", "Lead": "Lead", "CompleteRegistration": "SignUp",
    }
    default_script_url: ClassVar[str] = "https://s.pinimg.com/ct/core.js"
    browser_id_setting: ClassVar[str] = "tag_id"
