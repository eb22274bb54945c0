"""The Pinterest Conversions API: POST /v5/ad_accounts/<id>/events (reference/platforms.md E)."""
from __future__ import annotations

from typing import Any

from shop_demo.fakeplatforms.common import Invalid, _hashed_list, _time
from shop_demo.fakeplatforms.meta import META_HASHED

PINTEREST_EVENTS = {"add_payment_info", "add_to_cart", "add_to_wishlist", "app_install", "checkout", "custom",
                    "initiate_checkout", "lead", "page_visit", "search", "signup", "subscribe", "view_category",
                    "view_content", "watch_video"}


def check_pinterest(body: Any) -> list[dict]:
    """Pinterest Conversions API body rules (reference E)."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not 1 <= len(data) <= 1000:
        raise Invalid("data must hold 1 to 1000 events")
    for i, ev in enumerate(data):
        w = f"data[{i}]"
        if ev.get("event_name") not in PINTEREST_EVENTS:
            raise Invalid(f"{w}: event_name {ev.get('event_name')!r} is not valid")
        if ev.get("action_source") not in ("web", "app_android", "app_ios", "offline"):
            raise Invalid(f"{w}: action_source is not valid")
        _time(ev.get("event_time"), w, max_age=7 * 86400)
        if not ev.get("event_id"):
            raise Invalid(f"{w}: event_id is required")
        ud = ev.get("user_data") or {}
        if not (ud.get("em") or ud.get("hashed_maids") or (ud.get("client_ip_address") and ud.get("client_user_agent"))):
            raise Invalid(f"{w}: user_data needs em, hashed_maids or client_ip_address + client_user_agent")
        for key in META_HASHED:
            if key in ud:
                if not isinstance(ud[key], list):
                    raise Invalid(f"{w}.user_data.{key} must be an array")
                _hashed_list(ud[key], f"{w}.user_data.{key}")
        cd = ev.get("custom_data") or {}
        if "value" in cd and not isinstance(cd["value"], str):
            raise Invalid(f"{w}: custom_data.value must be a string")
    return data
