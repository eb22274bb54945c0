"""Text and value formatting for feed items: XML-safe clean text, cutting at a word, prices, sale dates.

``feeds/items.py`` uses these while mapping records; ``feeds/writers.py`` only escapes.
"""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone as dt_timezone
from decimal import Decimal

from socialshop.feeds.specs import ZERO_DECIMAL_CURRENCIES, PlatformSpec

# XML 1.0 Char production: tab, LF, CR, U+0020–U+D7FF, U+E000–U+FFFD, U+10000–U+10FFFF.
INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
ALL_SPACE = re.compile(r"\s+")
_MANY_NEWLINES = re.compile(r"\n\s*\n[\s\n]*")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """Plain text safe for XML 1.0: HTML tags (and script/style bodies) dropped, entities decoded,
    invalid characters removed, whitespace collapsed (newlines kept when ``multiline``)."""
    if not value:
        return ""
    # Fast path: isprintable() excludes every control, separator (bar " "), surrogate and
    # non-character, so such text holds nothing to remove or collapse.
    if (value.isprintable() and "<" not in value and "&" not in value and "  " not in value
            and value[0] != " " and value[-1] != " "):
        return value
    if "<" in value:
        value = _TAG.sub(" ", value)
    if "&" in value:
        value = html.unescape(value)
    value = INVALID_XML_CHARS.sub("", value)
    if multiline:
        value = _SPACES.sub(" ", value.replace("\r\n", "\n").replace("\r", "\n"))
        value = _MANY_NEWLINES.sub("\n\n", value)
        return "\n".join(line.strip() for line in value.split("\n")).strip()
    return ALL_SPACE.sub(" ", value).strip()


def cut_at_word(text: str, limit: int) -> str:
    """``text`` shortened to at most ``limit`` characters, at a word boundary when there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    if not text[limit].isspace():
        space = max(head.rfind(" "), head.rfind("\n"))
        if space > limit // 2:
            head = head[:space]
    return head.rstrip(" \n,;:-")


def format_price(amount: Decimal, currency: str, *, spec: PlatformSpec) -> str:
    """``15.00 USD`` (minor units as the currency has them), in the spec's layout."""
    quantum = Decimal("1") if currency in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    return spec.price_format.format(amount=amount.quantize(quantum), currency=currency)


def format_moment(moment: datetime, spec: PlatformSpec) -> str:
    """A sale boundary as ``YYYY-MM-DDThh:mm±hhmm`` (Google) or ``±hh:mm`` (others); naive = UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt_timezone.utc)
    offset = moment.strftime("%z") or "+0000"
    if spec.sale_date_offset == "+hh:mm":
        offset = f"{offset[:3]}:{offset[3:5]}"
    return moment.strftime("%Y-%m-%dT%H:%M") + offset
