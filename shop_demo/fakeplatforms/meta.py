"""The Conversions API as Meta documents it: POST /<version>/<pixel_id>/events (reference/platforms.md D)."""
from __future__ import annotations

import re
from typing import Any

from shop_demo.fakeplatforms.common import Invalid, _hashed_list, _ip, _time

META_ACTION_SOURCES = {"website", "email", "app", "phone_call", "chat", "physical_store", "system_generated",
                       "business_messaging", "other"}
META_HASHED = ("em", "ph", "fn", "ln", "ct", "st", "zp", "country", "external_id", "ge", "db")


def check_meta(body: Any) -> list[dict]:
    """Meta Conversions API body rules (reference D): one invalid event rejects the whole batch."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or not 1 <= len(data) <= 1000:
        raise Invalid("data must hold 1 to 1000 events")
    for i, ev in enumerate(data):
        w = f"data[{i}]"
        if not isinstance(ev.get("event_name"), str) or not ev["event_name"]:
            raise Invalid(f"{w}: event_name is required")
        _time(ev.get("event_time"), w, max_age=7 * 86400)
        if ev.get("action_source") not in META_ACTION_SOURCES:
            raise Invalid(f"{w}: action_source {ev.get('action_source')!r} is not valid")
        ud = ev.get("user_data")
        if not isinstance(ud, dict):
            raise Invalid(f"{w}: user_data is required")
        if ev["action_source"] == "website":
            if not ev.get("event_source_url"):
                raise Invalid(f"{w}: event_source_url is required for website events")
            if not ud.get("client_user_agent"):
                raise Invalid(f"{w}: user_data.client_user_agent is required for website events")
        for key in META_HASHED:
            if key in ud:
                _hashed_list(ud[key], f"{w}.user_data.{key}")
        if "client_ip_address" in ud:
            _ip(ud["client_ip_address"], f"{w}.user_data.client_ip_address")
        if "fbc" in ud and not re.match(r"^fb\.\d\.\d{13}\.\S+$", ud["fbc"]):
            raise Invalid(f"{w}: fbc {ud['fbc']!r} is not fb.<index>.<ms>.<fbclid>")
        cd = ev.get("custom_data") or {}
        if "value" in cd and (not isinstance(cd["value"], (int, float)) or not re.match(r"^[A-Z]{3}$", str(cd.get("currency")))):
            raise Invalid(f"{w}: custom_data.value needs a number and a currency")
        if ev["event_name"] == "Purchase" and ("value" not in cd or "currency" not in cd):
            raise Invalid(f"{w}: Purchase needs custom_data.value and currency")
    return data
