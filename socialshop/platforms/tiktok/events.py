"""TikTok's server events: the Events API 2.0 (POST /open_api/v1.3/event/track/).

Facts from reference/platforms.md section E; docs in docs/platforms/tiktok.md.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from socialshop.platforms.events import EventsCapability, SendResult, ServerEvent, valid_ip
from socialshop.platforms.hashing import email_hash_for
from socialshop.platforms.http import ApiCall
from socialshop.platforms.tiktok.business import BusinessApi

# PageView has no confirmed Events API name (reference E): the browser's ttq.page() covers it.
EVENT_NAMES: dict[str, str] = {
    "ViewContent": "ViewContent", "Search": "Search", "AddToCart": "AddToCart", "AddToWishlist": "AddToWishlist",
    "InitiateCheckout": "InitiateCheckout", "AddPaymentInfo": "AddPaymentInfo", "Purchase": "CompletePayment",
    "Lead": "SubmitForm", "CompleteRegistration": "CompleteRegistration",
}


class TikTokEvents(BusinessApi, EventsCapability):
    """Events API 2.0: POST /open_api/v1.3/event/track/."""

    event_names: ClassVar[dict[str, str]] = EVENT_NAMES
    required_settings: ClassVar[tuple[str, ...]] = ("pixel_code", "access_token")
    optional_settings: ClassVar[tuple[str, ...]] = ("test_event_code",)
    batch_limit: ClassVar[int] = 1000  # TikTok: up to 1,000 events per request (unconfirmed)
    max_event_age: ClassVar[int] = 7 * 24 * 3600  # unconfirmed; kept equal to Meta's window

    def event_payload(self, event: ServerEvent) -> dict[str, Any]:
        """One Events API 2.0 data row."""
        ud = event.user_data
        user: dict[str, Any] = {}
        email = email_hash_for(self.slug, ud)
        if email:
            user["email"] = email
        if ud.get("ph_e164"):
            user["phone"] = ud["ph_e164"]  # TikTok: E.164 with '+', then SHA-256
        if ud.get("external_id"):
            user["external_id"] = ud["external_id"]
        if event.click_ids.get("ttclid"):
            user["ttclid"] = event.click_ids["ttclid"]
        if event.browser_ids.get("ttp"):
            user["ttp"] = event.browser_ids["ttp"]
        ip = valid_ip(event.ip)
        if ip:
            user["ip"] = ip
        if event.user_agent:
            user["user_agent"] = event.user_agent
        props: dict[str, Any] = {}
        if event.contents:
            props["contents"] = [
                {"content_id": str(c.get("id")), "content_type": "product", "quantity": int(c.get("quantity") or 1),
                 **({"price": float(c["item_price"])} if c.get("item_price") is not None else {})}
                for c in event.contents
            ]
            props["content_type"] = "product"
        elif event.content_ids:
            props["contents"] = [{"content_id": cid, "content_type": "product"} for cid in event.content_ids]
            props["content_type"] = "product"
        if event.value is not None:
            props["value"] = float(event.value)
            props["currency"] = event.currency
        if event.search_string:
            props["query"] = event.search_string
        if event.order_id:
            props["order_id"] = event.order_id
        return {
            "event": self.event_names[event.name], "event_time": event.time, "event_id": event.event_id,
            "user": user, "page": {"url": event.url, "referrer": event.referrer}, "properties": props,
        }

    def send_events(self, events: Sequence[ServerEvent], *, test: bool = False) -> SendResult:
        body: dict[str, Any] = {"event_source": "web", "event_source_id": str(self.setting("pixel_code")),
                                "data": [self.event_payload(e) for e in events]}
        code = self.config.get("test_event_code")
        if test and not code:
            self.setting("test_event_code")  # raises ConfigurationError naming the key
        if code:
            body["test_event_code"] = code
        call = ApiCall("POST", "/open_api/v1.3/event/track/", headers={"Access-Token": str(self.setting("access_token"))}, body=body)
        status, answer = self.call(call)
        error = self.answer_error(status, answer)
        if error is not None:
            raise error
        return SendResult(self.slug, len(events), answer, status)
