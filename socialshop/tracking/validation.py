"""Per-event validation of collect bodies: every EVENT field's type, size and range, with a reason.

``clean_event`` turns one decoded EVENT into checked values or raises ``EventRejected``; the
request-level work (body, limits, consent, storage) is ``tracking/collector.py``.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal
from typing import Any

from socialshop.exceptions import SocialshopError
from socialshop.tracking.models import EventName

EVENT_NAMES = frozenset(EventName.values)
EVENT_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")  # used with fullmatch: "$" would let a trailing newline in
MAX_EVENTS = 50
MAX_BODY_BYTES = 64 * 1024
MAX_URL = 2048
MAX_ID = 64
MAX_SEARCH = 256
MAX_LIST = 100  # content_ids / contents per event: far above any real cart, far below abuse
MAX_QUANTITY = 10_000
MAX_PRICE = Decimal("10000000")  # 10 million per item
MAX_VALUE = Decimal("1000000000")  # 1 billion per event; the column holds 14 digits
MAX_PROPERTIES = 20
MAX_SAFE_INT = 2**53  # integers beyond it are not exact in JSON readers (and not storable as one)
PAST_SECONDS = 7 * 24 * 3600  # a tag queues at most a few minutes; a week covers clocks that are off
FUTURE_SECONDS = 10 * 60
BROWSER_ID_KEYS = ("fbp", "fbc", "ttp", "ga", "epik")
TEXT_FIELDS = (("currency", 3), ("url", MAX_URL), ("referrer", MAX_URL), ("order_id", MAX_ID),
               ("search_string", MAX_SEARCH), ("post_id", MAX_ID), ("tag_id", MAX_ID))

# ISO 4217 active codes (list one, 2024).
CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD
CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP
GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK
LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR
PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL
THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB
XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XUA YER ZAR ZMW ZWG ZWL
""".split())


class EventRejected(SocialshopError, ValueError):
    """One event of a batch is invalid; the message is the reason shown to the client."""


def _text(event: dict[str, Any], key: str, limit: int) -> str:
    value = event.get(key)
    if not value:
        if value is None or value == "":
            return ""
        raise EventRejected(f"{key} must be a string")
    if value.__class__ is str and len(value) <= limit and "\x00" not in value:
        return value  # the common case, checked in one go
    if not isinstance(value, str):
        raise EventRejected(f"{key} must be a string")
    if len(value) > limit:
        raise EventRejected(f"{key} is longer than {limit} characters")
    if "\x00" in value:
        raise EventRejected(f"{key} contains a NUL byte")
    return value


CENT = Decimal("0.01")


def _number(value: Any, key: str, low: Decimal, high: Decimal) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EventRejected(f"{key} must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise EventRejected(f"{key} must be a finite number")
    number = Decimal(str(value))
    if not low <= number <= high:
        raise EventRejected(f"{key} must be between {low} and {high}")
    return number.quantize(CENT)


def _id_string(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID or "\x00" in value:
        raise EventRejected(f"{key} must hold non-empty strings of at most {MAX_ID} characters")
    return value


def _content_ids(event: dict[str, Any]) -> list[str]:
    value = event.get("content_ids")
    if value is None:
        return []
    if not isinstance(value, list):
        raise EventRejected("content_ids must be a list of strings")
    if len(value) > MAX_LIST:
        raise EventRejected(f"content_ids has {len(value)} items; at most {MAX_LIST}")
    if not value:
        return value
    try:  # one C-level pass for the common case: all short strings without NUL
        if "\x00" not in "".join(value) and 0 < min(map(len, value)) and max(map(len, value)) <= MAX_ID:
            return value
    except TypeError:
        pass
    return [_id_string(v, "content_ids") for v in value]


def _contents(event: dict[str, Any]) -> list[dict[str, Any]]:
    value = event.get("contents")
    if value is None:
        return []
    if not isinstance(value, list):
        raise EventRejected("contents must be a list of {id, quantity, item_price}")
    if len(value) > MAX_LIST:
        raise EventRejected(f"contents has {len(value)} items; at most {MAX_LIST}")
    cleaned = []
    for item in value:
        if not isinstance(item, dict):
            raise EventRejected("contents items must be objects {id, quantity, item_price}")
        quantity = item.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise EventRejected(f"contents quantity must be a whole number from 1 to {MAX_QUANTITY}")
        entry: dict[str, Any] = {"id": _id_string(item.get("id"), "contents id"), "quantity": quantity}
        if item.get("item_price") is not None:
            entry["item_price"] = float(_number(item["item_price"], "contents item_price", Decimal(0), MAX_PRICE))
        cleaned.append(entry)
    return cleaned


def _properties(event: dict[str, Any]) -> dict[str, Any]:
    value = event.get("properties")
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_PROPERTIES:
        raise EventRejected(f"properties must be an object of at most {MAX_PROPERTIES} keys")
    for key, item in value.items():
        if len(key) > MAX_ID or "\x00" in key:
            raise EventRejected("properties keys must be short strings")
        if isinstance(item, str):
            if len(item) > MAX_SEARCH or "\x00" in item:
                raise EventRejected(f"properties.{key} is longer than {MAX_SEARCH} characters or has a NUL byte")
        elif isinstance(item, float) and not math.isfinite(item):
            raise EventRejected(f"properties.{key} must be a finite number")
        elif isinstance(item, int) and not isinstance(item, bool) and not -MAX_SAFE_INT <= item <= MAX_SAFE_INT:
            raise EventRejected(f"properties.{key} is outside the range of exact JSON numbers")
        elif item is not None and not isinstance(item, (bool, int, float)):
            raise EventRejected(f"properties.{key} must be a string, number, boolean or null")
    return value


def _browser_ids(event: dict[str, Any]) -> dict[str, str]:
    value = event.get("browser_ids")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EventRejected("browser_ids must be an object")
    cleaned = {}
    for key in BROWSER_ID_KEYS:
        item = value.get(key)
        if isinstance(item, str) and 0 < len(item) <= 256 and "\x00" not in item:
            cleaned[key] = item
    return cleaned


def _string_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored (a NUL, a lone surrogate), or None. ASCII text is checked in one go."""
    if text.isascii():
        return "contains a NUL byte" if "\x00" in text else None
    if "\x00" in text:
        return "contains a NUL byte"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains a lone UTF-16 surrogate (U+{ord(text[exc.start]):04X}); send valid Unicode"
    return None


def _label(key: str) -> str:
    """A key as it may appear in an error message (which is JSON: no surrogate, no NUL)."""
    return key[:40] if _string_problem(key) is None else ascii(key[:40])[1:-1]


def check_strings(event: Any) -> None:
    """Reject an event holding, anywhere (keys too, at any depth), a string no database can store.

    A lone UTF-16 surrogate (``"\\ud800"``) is decoded by the json module but cannot be encoded
    as UTF-8 (SQLite, PostgreSQL, orjson and the admin page all fail on it); PostgreSQL text and
    jsonb refuse NUL. ``EventRejected`` names the field, e.g. ``contents[0].id contains a NUL byte``.
    Iterative, so a deeply nested field costs no recursion.
    """
    stack: list[tuple[Any, str]] = [(event, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            problem = _string_problem(value)
            if problem:
                raise EventRejected(f"{path[:120] or 'the event'} {problem}")
        elif isinstance(value, dict):
            children = []
            for key, item in value.items():
                where = f"{path}.{_label(key)}" if path else _label(key)
                problem = _string_problem(key)
                if problem:
                    raise EventRejected(f"a key of {path[:120] or 'the event'} ({where[-120:]}) {problem}")
                children.append((item, where))
            stack.extend(reversed(children))  # popped in document order: the first problem is named
        elif isinstance(value, list):
            stack.extend((value[index], f"{path}[{index}]") for index in range(len(value) - 1, -1, -1))


# Fields checked by their own function (event -> cleaned value); kept only when not empty.
STRUCTURED_FIELDS = (("content_ids", _content_ids), ("contents", _contents), ("properties", _properties),
                     ("browser_ids", _browser_ids))


def clean_event(event: Any, *, now: float) -> dict[str, Any]:
    """Checked values of one EVENT (unix ``now`` anchors the time window); ``EventRejected`` names
    the first problem. Unknown keys are ignored.

    The result is compact: ``event_id``, ``name`` and ``occurred_at`` always, other keys only when
    they hold something (``gpc`` only when True); the store fills in the columns' defaults.
    """
    if not isinstance(event, dict):
        raise EventRejected("an event must be a JSON object")
    get = event.get
    event_id = get("event_id")
    if event_id.__class__ is not str or not EVENT_ID_RE.fullmatch(event_id):
        raise EventRejected("event_id must be 1-64 characters of A-Z a-z 0-9 _ . : -")
    name = get("name")
    if name.__class__ is not str or name not in EVENT_NAMES:
        raise EventRejected(f"name must be one of the standard or social event names, not {str(name)[:40]!r}")
    when = get("time")
    if isinstance(when, bool) or not isinstance(when, (int, float)) or not math.isfinite(when):
        raise EventRejected("time must be unix seconds")
    if when < now - PAST_SECONDS or when > now + FUTURE_SECONDS:
        raise EventRejected("time is more than 7 days old or more than 10 minutes ahead")
    cleaned: dict[str, Any] = {
        "event_id": event_id, "name": name, "occurred_at": datetime.fromtimestamp(when, tz=dt_timezone.utc),
    }
    for key, limit in TEXT_FIELDS:
        text = get(key)
        if text:
            if text.__class__ is str and len(text) <= limit and "\x00" not in text:
                cleaned[key] = text  # the common case inline; _text explains anything else
            else:
                cleaned[key] = _text(event, key, limit)
        elif text is not None and text != "":
            _text(event, key, limit)  # a falsy non-string (0, false, [], {}): raises with the reason
    for key, check in STRUCTURED_FIELDS:
        if key in event:
            checked = check(event)
            if checked:
                cleaned[key] = checked
    value = get("value")
    if value is not None:
        cleaned["value"] = _number(value, "value", Decimal(0), MAX_VALUE)
    if get("gpc") is True:
        cleaned["gpc"] = True
    currency = cleaned.get("currency")
    if currency and currency not in CURRENCIES:
        raise EventRejected(f"currency {currency!r} is not an ISO 4217 code")
    if value is not None and not currency:
        raise EventRejected("currency is required when value is set")
    return cleaned
