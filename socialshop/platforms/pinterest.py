"""Pinterest: the Pinterest tag in the browser and the Conversions API (v5 ad account events) server to server.

Facts from reference/platforms.md section E; docs in docs/platforms/pinterest.md.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from socialshop.platforms.base import Capability, Platform
from socialshop.platforms.browser import BrowserTag
from socialshop.platforms.events import EventsCapability, SendResult, ServerEvent, hashed_user_arrays, valid_ip
from socialshop.platforms.http import ApiCall, PlatformAPIError
from socialshop.platforms.hashing import EMAIL_RULES

# Storage keys -> Pinterest user_data keys; hashed fields are arrays (Pinterest: ph digits, no '+').
USER_DATA_KEYS: dict[str, str] = {
    EMAIL_RULES["pinterest"][0]: "em", "ph": "ph", "fn": "fn", "ln": "ln", "ct": "ct", "st": "st", "zp": "zp",
    "country": "country", "external_id": "external_id", "ge": "ge", "db": "db",
}


def money_text(value: Any) -> str:
    """A Decimal amount as Pinterest's string form."""
    # Pinterest: custom_data.value and item_price are strings ("72.39").
    return f"{float(value):.2f}"


class PinterestEvents(EventsCapability):
    """Conversions API: POST /v5/ad_accounts/<ad_account_id>/events."""

    event_names: ClassVar[dict[str, str]] = {
        "PageView": "page_visit", "ViewContent": "page_visit", "Search": "search", "AddToCart": "add_to_cart",
        "AddToWishlist": "add_to_wishlist", "InitiateCheckout": "initiate_checkout",
        "AddPaymentInfo": "add_payment_info", "Purchase": "checkout", "Lead": "lead", "CompleteRegistration": "signup",
    }
    required_settings: ClassVar[tuple[str, ...]] = ("ad_account_id", "access_token")
    optional_settings: ClassVar[tuple[str, ...]] = ("test_mode",)
    batch_limit: ClassVar[int] = 1000  # Pinterest: data holds 1..1000 events
    # Pinterest's maximum event age is unconfirmed (reference E); we keep Meta's 7 days.
    max_event_age: ClassVar[int] = 7 * 24 * 3600
    # Pinterest: user_data needs em, hashed_maids, or client_ip_address + client_user_agent.
    required_identity: ClassVar[tuple[frozenset[str], ...]] = (
        frozenset({"em"}), frozenset({"client_ip_address", "client_user_agent"}),
    )

    def identity(self, event: ServerEvent) -> dict[str, str]:
        return {**super().identity(event), "client_ip_address": valid_ip(event.ip)}

    def event_payload(self, event: ServerEvent) -> dict[str, Any]:
        """One Pinterest conversion event."""
        user = hashed_user_arrays(event, USER_DATA_KEYS)
        epik = event.click_ids.get("epik") or event.browser_ids.get("epik")
        if epik:
            user["click_id"] = epik  # Pinterest: epik click id, unhashed
        custom: dict[str, Any] = {}
        if event.value is not None:
            custom["value"] = money_text(event.value)
            custom["currency"] = event.currency
        if event.content_ids:
            custom["content_ids"] = list(event.content_ids)
        if event.contents:
            custom["contents"] = [
                {"id": str(c.get("id")), "quantity": int(c.get("quantity") or 1),
                 **({"item_price": money_text(c["item_price"])} if c.get("item_price") is not None else {})}
                for c in event.contents
            ]
            custom["num_items"] = sum(int(c.get("quantity") or 1) for c in event.contents)
        if event.order_id:
            custom["order_id"] = event.order_id
        if event.search_string:
            custom["search_string"] = event.search_string
        payload: dict[str, Any] = {
            "event_name": self.event_names[event.name], "action_source": "web", "event_time": event.time,
            "event_id": event.event_id, "event_source_url": event.url, "user_data": user,
        }
        if custom:
            payload["custom_data"] = custom
        return payload

    def send_events(self, events: Sequence[ServerEvent], *, test: bool = False) -> SendResult:
        params = {"test": "true"} if (test or self.config.get("test_mode")) else {}
        call = ApiCall(
            "POST", f"/v5/ad_accounts/{self.setting('ad_account_id')}/events", params=params,
            headers={"Authorization": f"Bearer {self.setting('access_token')}"},
            body={"data": [self.event_payload(e) for e in events]},
        )
        status, answer = self.call(call)
        if not isinstance(answer, dict) or "num_events_received" not in answer:
            raise PlatformAPIError(self.name, f"unexpected answer {answer!r}", status=status, retryable=True)
        rejected = {}
        for event, row in zip(events, answer.get("events") or [], strict=False):
            if isinstance(row, dict) and row.get("status") == "failed":
                rejected[event.event_id] = str(row.get("error_message") or "failed")
        return SendResult(self.slug, int(answer.get("num_events_processed", answer["num_events_received"])), answer, status, rejected)



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


class PinterestPlatform(Platform):
    slug: ClassVar[str] = "pinterest"
    name: ClassVar[str] = "Pinterest"
    default_api_base: ClassVar[str] = "https://api.pinterest.com"
    capabilities: ClassVar[dict[str, type[Capability]]] = {"events": PinterestEvents, "browser_tag": PinterestTag}
