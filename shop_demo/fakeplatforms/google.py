"""GA4 Measurement Protocol: POST /mp/collect and /debug/mp/collect (reference/platforms.md E)."""
from __future__ import annotations

import re
import time
from typing import Any

from shop_demo.fakeplatforms.common import Invalid, _hashed_list

def check_google(body: Any) -> list[dict]:
    """GA4 Measurement Protocol body rules (reference E)."""
    if not isinstance(body, dict) or not isinstance(body.get("client_id"), str) or not body["client_id"]:
        raise Invalid("client_id is required")
    events = body.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= 25:
        raise Invalid("events must hold 1 to 25 events")
    for i, ev in enumerate(events):
        if not isinstance(ev.get("name"), str) or not re.match(r"^[A-Za-z][A-Za-z0-9_]{0,39}$", ev["name"]):
            raise Invalid(f"events[{i}].name is not valid")
        params = ev.get("params") or {}
        if "value" in params and not params.get("currency"):
            raise Invalid(f"events[{i}]: currency is required with value")
        if ev["name"] == "purchase" and not params.get("transaction_id"):
            raise Invalid(f"events[{i}]: purchase needs transaction_id")
        ts = ev.get("timestamp_micros")
        if ts is not None and ts / 1e6 < time.time() - 72 * 3600:
            raise Invalid(f"events[{i}]: timestamp_micros is older than 72 hours")
    for key, values in (body.get("user_data") or {}).items():
        if key.startswith("sha256_"):
            _hashed_list(values, f"user_data.{key}")
    return [{**ev, "client_id": body["client_id"]} for ev in events]
