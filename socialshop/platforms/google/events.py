"""Google's server events: the GA4 Measurement Protocol (POST /mp/collect).

Facts from reference/platforms.md sections E and G; docs in docs/platforms/google.md.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from socialshop.platforms.events import EventsCapability, SendResult, ServerEvent
from socialshop.platforms.hashing import email_hash_for
from socialshop.platforms.http import ApiCall, PlatformAPIError

# Sources whose events gtag already reported in the browser. GA4 has no event_id deduplication,
# so sending those again server side would count them twice.
BROWSER_SOURCES = frozenset({"browser"})


# GA4's recommended ecommerce event names, the same for gtag and the Measurement Protocol.
EVENT_NAMES: dict[str, str] = {
    "PageView": "page_view", "ViewContent": "view_item", "Search": "search", "AddToCart": "add_to_cart",
    "AddToWishlist": "add_to_wishlist", "InitiateCheckout": "begin_checkout", "AddPaymentInfo": "add_payment_info",
    "Purchase": "purchase", "Lead": "generate_lead", "CompleteRegistration": "sign_up",
}


class GoogleEvents(EventsCapability):
    """GA4 Measurement Protocol: POST /mp/collect (the validation server /debug/mp/collect in test mode)."""

    event_names: ClassVar[dict[str, str]] = EVENT_NAMES
    required_settings: ClassVar[tuple[str, ...]] = ("measurement_id", "api_secret")
    optional_settings: ClassVar[tuple[str, ...]] = ("test_mode", "send_browser_events")
    batch_limit: ClassVar[int] = 25  # GA4 MP: 25 events per request (unconfirmed)
    max_event_age: ClassVar[int] = 72 * 3600  # GA4 MP: timestamp_micros up to 72 h in the past
    required_identity: ClassVar[tuple[frozenset[str], ...]] = (frozenset({"client_id"}),)

    def identity(self, event: ServerEvent) -> dict[str, str]:
        return {**super().identity(event), "client_id": self.client_id(event)}

    @staticmethod
    def client_id(event: ServerEvent) -> str:
        """The GA client id from the _ga cookie, else our first-party visitor id (one GA user per visitor)."""
        return event.browser_ids.get("ga") or event.visitor_id

    def skip_reason(self, event: ServerEvent, *, now: float) -> str | None:
        if event.source in BROWSER_SOURCES and not self.config.get("send_browser_events"):
            return "reported in the browser by gtag (GA4 does not deduplicate by event_id)"
        return super().skip_reason(event, now=now)

    def batches(self, events: Sequence[ServerEvent]) -> list[list[ServerEvent]]:
        """GA4 MP takes one client_id per request: group by it, then cut at ``batch_limit``."""
        groups: dict[str, list[ServerEvent]] = {}
        for event in events:
            groups.setdefault(self.client_id(event), []).append(event)
        return [group[i:i + self.batch_limit] for group in groups.values() for i in range(0, len(group), self.batch_limit)]

    def event_payload(self, event: ServerEvent) -> dict[str, Any]:
        """One GA4 event {name, params}."""
        params: dict[str, Any] = {"event_id": event.event_id}
        if event.url:
            params["page_location"] = event.url
        if event.contents:
            params["items"] = [
                {"item_id": str(c.get("id")), "quantity": int(c.get("quantity") or 1),
                 **({"price": float(c["item_price"])} if c.get("item_price") is not None else {})}
                for c in event.contents
            ]
        elif event.content_ids:
            params["items"] = [{"item_id": cid} for cid in event.content_ids]
        if event.value is not None:
            params["value"] = float(event.value)
            params["currency"] = event.currency  # GA4: currency is required when value is set
        if event.order_id:
            params["transaction_id"] = event.order_id
        if event.search_string:
            params["search_term"] = event.search_string
        return {"name": self.event_names[event.name], "params": params, "timestamp_micros": event.time * 1_000_000}

    def request_body(self, events: Sequence[ServerEvent]) -> dict[str, Any]:
        """The MP body for events that share one client_id (see ``batches``)."""
        first = events[0]
        body: dict[str, Any] = {
            "client_id": self.client_id(first),
            # Only events of visitors who granted ads consent reach the outbox.
            "consent": {"ad_user_data": "GRANTED", "ad_personalization": "GRANTED"},
            "events": [self.event_payload(e) for e in events],
        }
        user_data: dict[str, list[str]] = {}
        email = email_hash_for(self.slug, first.user_data)  # Google: gmail dots and +suffix removed
        if email:
            user_data["sha256_email_address"] = [email]
        if first.user_data.get("ph_e164"):
            user_data["sha256_phone_number"] = [first.user_data["ph_e164"]]  # Google: E.164 with '+'
        if user_data:
            body["user_data"] = user_data
        return body

    def send_events(self, events: Sequence[ServerEvent], *, test: bool = False) -> SendResult:
        debug = test or bool(self.config.get("test_mode"))
        # The validation server (/debug/mp/collect) answers with validationMessages and records nothing.
        path = "/debug/mp/collect" if debug else "/mp/collect"
        call = ApiCall("POST", path, params={"measurement_id": str(self.setting("measurement_id")),
                                             "api_secret": str(self.setting("api_secret"))}, body=self.request_body(events))
        status, answer = self.call(call)
        if debug:
            messages = (answer or {}).get("validationMessages") if isinstance(answer, dict) else None
            if messages:
                text = "; ".join(str(m.get("description") or m) for m in messages if isinstance(m, dict)) or str(messages)
                raise PlatformAPIError(self.name, text, status=status, body=answer)
        return SendResult(self.slug, len(events), answer, status)
