"""Meta's Conversions API (server events): POST /<version>/<pixel_id>/events.

Facts from reference/platforms.md section D; docs in docs/platforms/meta.md.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from socialshop.platforms.events import EventsCapability, SendResult, ServerEvent, hashed_user_arrays
from socialshop.platforms.http import ApiCall, PlatformAPIError
from socialshop.platforms.meta.graph import GraphApi
from socialshop.platforms.hashing import EMAIL_RULES

# Storage keys of hashing.hash_user_data -> Meta user_data keys (Meta: phone digits without '+').
USER_DATA_KEYS: dict[str, str] = {
    EMAIL_RULES["meta"][0]: "em", "ph": "ph", "fn": "fn", "ln": "ln", "ct": "ct", "st": "st", "zp": "zp",
    "country": "country", "external_id": "external_id", "ge": "ge", "db": "db",
}


def money(value: Any) -> float | None:
    """A Decimal amount as the JSON number Meta expects."""
    return None if value is None else float(value)


# Meta's standard events carry our names unchanged, in the browser and on the server alike.
EVENT_NAMES: dict[str, str] = {
    "PageView": "PageView", "ViewContent": "ViewContent", "Search": "Search", "AddToCart": "AddToCart",
    "AddToWishlist": "AddToWishlist", "InitiateCheckout": "InitiateCheckout",
    "AddPaymentInfo": "AddPaymentInfo", "Purchase": "Purchase", "Lead": "Lead",
    "CompleteRegistration": "CompleteRegistration",
}


class MetaEvents(GraphApi, EventsCapability):
    """Conversions API: POST /<version>/<pixel_id>/events."""

    event_names: ClassVar[dict[str, str]] = EVENT_NAMES
    required_settings: ClassVar[tuple[str, ...]] = ("pixel_id", "access_token")
    optional_settings: ClassVar[tuple[str, ...]] = ("api_version", "test_event_code")
    batch_limit: ClassVar[int] = 1000  # Meta: <= 1,000 events in data
    max_event_age: ClassVar[int] = 7 * 24 * 3600  # Meta: event_time at most 7 days old
    # Meta: website events need client_user_agent (reference/platforms.md D).
    required_identity: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"client_user_agent"}),)

    def event_payload(self, event: ServerEvent) -> dict[str, Any]:
        """One Conversions API event (server-event parameters, hashed user_data as arrays)."""
        user = hashed_user_arrays(event, USER_DATA_KEYS)
        if event.browser_ids.get("fbp"):
            user["fbp"] = event.browser_ids["fbp"]
        fbc = event.browser_ids.get("fbc")
        if not fbc and event.click_ids.get("fbclid"):
            # Meta: fb.<subdomainIndex 1 server-side>.<creation ms>.<fbclid unchanged> (reference D, fbc).
            fbc = f"fb.1.{event.time * 1000}.{event.click_ids['fbclid']}"
        if fbc:
            user["fbc"] = fbc
        custom: dict[str, Any] = {}
        if event.value is not None:
            custom["value"] = money(event.value)
            custom["currency"] = event.currency
        if event.content_ids:
            custom["content_ids"] = list(event.content_ids)
            custom["content_type"] = "product"
        if event.contents:
            custom["contents"] = [
                {"id": str(c.get("id")), "quantity": int(c.get("quantity") or 1),
                 **({"item_price": money(c["item_price"])} if c.get("item_price") is not None else {})}
                for c in event.contents
            ]
            custom["num_items"] = sum(int(c.get("quantity") or 1) for c in event.contents)
            custom["content_type"] = "product"
        if event.order_id:
            custom["order_id"] = event.order_id
        if event.search_string:
            custom["search_string"] = event.search_string
        payload: dict[str, Any] = {
            "event_name": self.event_names[event.name], "event_time": event.time, "event_id": event.event_id,
            "action_source": "website", "event_source_url": event.url, "user_data": user,
        }
        if custom:
            payload["custom_data"] = custom
        return payload

    def send_events(self, events: Sequence[ServerEvent], *, test: bool = False) -> SendResult:
        body: dict[str, Any] = {"data": [self.event_payload(e) for e in events]}
        code = self.config.get("test_event_code")
        if test and not code:
            self.setting("test_event_code")  # raises ConfigurationError naming the key
        if code:
            body["test_event_code"] = code
        call = ApiCall("POST", self.graph_path(f"{self.setting('pixel_id')}/events"),
                       params={"access_token": self.setting("access_token")}, body=body)
        status, answer = self.call(call)
        received = answer.get("events_received") if isinstance(answer, dict) else None
        if received is None:
            raise PlatformAPIError(self.name, f"unexpected answer {answer!r}", status=status, retryable=True)
        return SendResult(self.slug, int(received), answer, status)
