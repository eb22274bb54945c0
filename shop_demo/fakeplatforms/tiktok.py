"""The TikTok Events API 2.0: POST /open_api/v1.3/event/track/ (reference/platforms.md E)."""
from __future__ import annotations

from typing import Any

from shop_demo.fakeplatforms.common import Invalid, _hashed_list, _ip, _time

TIKTOK_EVENTS = {"ViewContent", "Search", "AddToCart", "AddToWishlist", "InitiateCheckout", "AddPaymentInfo",
                 "PlaceAnOrder", "CompletePayment", "CompleteRegistration", "SubmitForm", "Contact", "Subscribe",
                 "ClickButton", "Download", "CustomizeProduct", "FindLocation", "Schedule"}


def check_tiktok(body: Any, pixel_code: str) -> list[dict]:
    """TikTok Events API 2.0 body rules (reference E)."""
    if not isinstance(body, dict) or body.get("event_source") != "web" or body.get("event_source_id") != pixel_code:
        raise Invalid("event_source must be 'web' and event_source_id the pixel code")
    data = body.get("data")
    if not isinstance(data, list) or not 1 <= len(data) <= 1000:
        raise Invalid("data must hold 1 to 1000 events")
    for i, ev in enumerate(data):
        w = f"data[{i}]"
        if ev.get("event") not in TIKTOK_EVENTS:
            raise Invalid(f"{w}: event {ev.get('event')!r} is not a standard event")
        _time(ev.get("event_time"), w, max_age=7 * 86400)
        if not ev.get("event_id"):
            raise Invalid(f"{w}: event_id is required")
        user = ev.get("user") or {}
        for key in ("email", "phone", "external_id"):
            if key in user:
                _hashed_list(user[key], f"{w}.user.{key}")
        if "ip" in user:
            _ip(user["ip"], f"{w}.user.ip")
    return data
