"""The collector: body limits, origin and bot checks, per-IP rate limit, consent, rows to store.

``collect(request)`` handles one POST /socialshop/collect/ and returns a ``CollectResult``; the
HTTP view is ``tracking/views.py`` (411 for a body without Content-Length such as a chunked one,
415 for a compressed one), per-event checks ``validation.py``, the insert ``store.py``.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import orjson
from django.http import HttpRequest
from django.utils import timezone

from socialshop.conf import app_settings
from socialshop.core.ratelimit import RateLimiter
from socialshop.privacy.consent import (
    ID_RE, ConsentState, consent_from_request, new_id, note_gpc, visitor_id_from_request, with_gpc,
)
from socialshop.privacy.consent import (  # noqa: F401 - the cookie names are re-exported for views
    SESSION_COOKIE, SESSION_COOKIE_AGE, VISITOR_COOKIE, VISITOR_COOKIE_AGE,
)
from socialshop.privacy.ip import stored_ip
from socialshop.tracking.buffer import event_buffer
from socialshop.tracking.orders import is_order_bound, store_order_bound
from socialshop.tracking.store import store_batch, unshare_visitor
from socialshop.tracking.validation import MAX_BODY_BYTES, MAX_EVENTS, EventRejected, check_strings, clean_event

CLICK_ID_KEYS = ("fbclid", "gclid", "epik", "ttclid")
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
# Crawlers and scripts that say what they are. Headless Chrome is not filtered: its unload-time
# beacons carry the default "HeadlessChrome" agent even when a page overrides it (test browsers).
BOT_RE = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|facebookexternalhit|phantomjs|python-requests|python-urllib|"
    r"curl/|wget|httpclient|lighthouse|pingdom|preview|scrapy|go-http-client|okhttp|java/",
    re.IGNORECASE,
)
CONTENT_TYPES = ("application/json", "text/plain")


@dataclass(slots=True)
class CollectResult:
    """What to answer: HTTP status, JSON body and cookies to set (name -> (value, max_age))."""

    status: int
    body: dict[str, Any]
    cookies: dict[str, tuple[str, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VisitContext:
    """Who sent a batch, already reduced to what consent allows to store."""

    consent: ConsentState
    visitor_id: str = ""
    session_id: str = ""
    user_id: int | None = None
    ip: str = ""
    user_agent: str = ""


# Per client address and minute, shared by every process through the cache (core/ratelimit.py).
rate_limiter = RateLimiter("collect")


def client_ip(request: HttpRequest) -> str:
    """The client address as the WSGI server saw it (a proxy must set REMOTE_ADDR; see docs)."""
    return request.META.get("REMOTE_ADDR", "")


def is_bot(user_agent: str) -> bool:
    """True for crawlers, HTTP libraries and clients that send no user agent."""
    if len(user_agent) <= 512:
        return _is_bot_cached(user_agent)
    return bool(BOT_RE.search(user_agent))


@lru_cache(maxsize=1024)  # a visitor sends the same agent on every hit; the regex costs ~10 us
def _is_bot_cached(user_agent: str) -> bool:
    return not user_agent or bool(BOT_RE.search(user_agent))


def origin_allowed(request: HttpRequest) -> bool:
    """Same-origin posts, ``ALLOWED_ORIGINS`` and ``SITE_URL`` pass; other cross-site posts fail.

    A request with neither ``Origin`` nor ``Sec-Fetch-Site: cross-site`` (a server, a no-CORS
    client) passes: the check stops other sites' pages from writing events, not scripts.
    """
    origin = request.META.get("HTTP_ORIGIN", "")
    if not origin or origin == "null":
        return request.META.get("HTTP_SEC_FETCH_SITE", "") != "cross-site" and origin != "null"
    own = f"{request.scheme}://{request.get_host()}"
    site = app_settings.SITE_URL
    allowed = {own, *app_settings.ALLOWED_ORIGINS}
    if site:
        parts = urlsplit(site)
        allowed.add(f"{parts.scheme}://{parts.netloc}")
    return origin in allowed


def parse_body(raw: bytes) -> tuple[list[Any], bool]:
    """The ``events`` list of a collect body, and whether its strings need ``check_strings``;
    ``ValueError`` when it is not such a body.

    NaN/Infinity/1e309 parse to non-finite floats so that only their event is rejected. orjson
    refuses lone surrogates (``"\\ud800"``), so only a body the json module parsed, or one with a
    ``\\u0000`` escape, can hold a string the database cannot store: the second value says so.
    """
    body = _fast_parse(raw)
    careful = body is None or b"\\u0000" in raw
    if body is None:
        # NaN, Infinity, 1e309, runs of brackets, bad UTF-8, lone surrogates: the json module says
        # what is wrong, and parses non-finite numbers so that only their event is rejected.
        text = raw.decode("utf-8")  # UnicodeDecodeError is a ValueError
        try:
            body = json.loads(text)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise ValueError('the body must be {"events": [...]}')
    return body["events"], careful


def _fast_parse(raw: bytes) -> Any:
    """orjson's parse of an ordinary body (about 5x faster), or None to take the careful path.

    No EVENT field holds a list of lists or an object of objects directly, so a body with "[[" or
    "{{" goes to the json module, whose recursion limit turns absurd nesting into a 400 as
    documented. (Two substring tests: a regex here cost more than the whole orjson parse.)
    """
    if b"[[" in raw or b"{{" in raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def url_signals(url: str) -> tuple[dict[str, str], dict[str, str]]:
    """Click ids and utm parameters from a page URL's query string (new dicts each call)."""
    if "?" not in url or ("utm_" not in url and "clid=" not in url and "epik=" not in url):
        return {}, {}
    click, utm = _parsed_signals(url)
    return dict(click), dict(utm)


@lru_cache(maxsize=4096)  # a batch's events usually share their page URL
def _parsed_signals(url: str) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    click: list[tuple[str, str]] = []
    utm: list[tuple[str, str]] = []
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=False):
        if "\x00" in value:
            continue  # "%00" decodes to NUL, which PostgreSQL cannot store; no real id holds one
        if key in CLICK_ID_KEYS and len(value) <= 512:
            click.append((key, value))
        elif key in UTM_KEYS and len(value) <= 256:
            utm.append((key, value))
    return tuple(click), tuple(utm)


def strip_url(url: str, *, keep_query: bool) -> str:
    """``url`` without its fragment, and without its query (or just its click ids) as asked."""
    if not url or ("?" not in url and "#" not in url):
        return url
    parts = urlsplit(url)
    query = ""
    if keep_query:
        query = "&".join(
            f"{k}={v}" for k, v in (p.split("=", 1) if "=" in p else (p, "") for p in parts.query.split("&") if p)
            if k not in CLICK_ID_KEYS
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def visit_context(request: HttpRequest, *, gpc: bool = False) -> tuple[VisitContext, dict[str, tuple[str, int]]]:
    """The consent-reduced context of a request and the cookies the response must (re)set."""
    consent = with_gpc(consent_from_request(request), gpc)
    if not consent.may_identify:
        return VisitContext(consent=consent), {}
    visitor_id = visitor_id_from_request(request)
    session_id = request.COOKIES.get(SESSION_COOKIE, "")
    cookies: dict[str, tuple[str, int]] = {}
    if not visitor_id:
        visitor_id = new_id()
        cookies[VISITOR_COOKIE] = (visitor_id, VISITOR_COOKIE_AGE)
    if not ID_RE.fullmatch(session_id):  # isalnum() let non-ASCII letters and digits in
        session_id = new_id()
    cookies[SESSION_COOKIE] = (session_id, SESSION_COOKIE_AGE)  # sliding: every hit extends the visit
    user = getattr(request, "user", None)
    context = VisitContext(
        consent=consent,
        visitor_id=visitor_id,
        session_id=session_id,
        user_id=user.pk if user is not None and user.is_authenticated else None,
        ip=stored_ip(client_ip(request)),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512].replace("\x00", ""),  # PostgreSQL refuses NUL
    )
    return context, cookies


def context_row(context: VisitContext, *, source: str, now: Any) -> dict[str, Any]:
    """The Event columns that describe the request rather than its events (``store.CONTEXT``)."""
    return {"source": source, "received_at": now, "visitor_id": context.visitor_id, "session_id": context.session_id,
            "user_id": context.user_id, "ip": context.ip, "user_agent": context.user_agent}


def reduce_event(event: dict[str, Any], context: VisitContext, *, share: bool) -> dict[str, Any]:
    """Reduce one cleaned (compact) event, in place, to what the visitor's consent allows, and add
    its sharing flags, click ids and utm parameters; returns it. ``share``: ``context.consent.may_share``."""
    own_gpc = "gpc" in event
    may_share = share and not own_gpc
    url = event.get("url", "")
    click, utm = url_signals(url)
    if utm:
        event["utm"] = utm
    if may_share:
        event["may_share"] = True
    if context.consent.gpc and not own_gpc:
        event["gpc"] = True
    if not context.visitor_id:
        # Anonymous (no consent): page paths and utm only, nothing that could single anyone out.
        _strip_urls(event, keep_query=False)
        event.pop("browser_ids", None)
        event.pop("properties", None)
    elif may_share:
        if click:
            event["click_ids"] = click
    else:
        _strip_urls(event, keep_query=True)
        event.pop("browser_ids", None)
    return event


def _strip_urls(event: dict[str, Any], *, keep_query: bool) -> None:
    for key in ("url", "referrer"):
        if key in event:
            event[key] = strip_url(event[key], keep_query=keep_query)


def build_row(
    event: dict[str, Any], context: VisitContext, *, source: str, now: Any, share: bool | None = None
) -> dict[str, Any]:
    """The Event row (for ``store_events``) of one cleaned event, keeping only what consent allows."""
    may_share = context.consent.may_share if share is None else share
    return {**context_row(context, source=source, now=now), **reduce_event(dict(event), context, share=may_share)}


def collect(request: HttpRequest, raw: bytes, *, source: str = "browser") -> CollectResult:
    """Validate and store one collect body read from ``request`` (at most 64 KiB already)."""
    if not rate_limiter.hit(client_ip(request), limit=int(app_settings.COLLECT_RATE_LIMIT_PER_MINUTE)):
        return CollectResult(429, {"error": "too many requests from this address; retry in a minute"})
    if not origin_allowed(request):
        return CollectResult(403, {"error": "cross-site posts to the collector are not allowed"})
    try:
        events, careful = parse_body(raw)
    except ValueError as exc:
        return CollectResult(400, {"error": f"unparseable body: {str(exc)[:200]}"})
    if len(events) > MAX_EVENTS:
        return CollectResult(413, {"error": f"{len(events)} events in one body; at most {MAX_EVENTS}"})
    if is_bot(request.META.get("HTTP_USER_AGENT", "")):
        return CollectResult(200, {"accepted": 0, "duplicates": 0, "ignored": len(events), "rejected": [],
                                   "note": "bot or crawler traffic is not recorded"})
    now = time.time()
    cleaned: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        try:
            if careful:
                check_strings(event)
            cleaned.append(clean_event(event, now=now))
        except EventRejected as exc:
            rejected.append({"index": index, "error": str(exc)})
    context, cookies = visit_context(request, gpc=any("gpc" in e for e in cleaned))
    if context.consent.gpc and context.visitor_id and note_gpc(context.visitor_id):
        unshare_visitor(context.visitor_id)
    share = context.consent.may_share
    events = [reduce_event(event, context, share=share) for event in cleaned]
    request_row = context_row(context, source=source, now=timezone.now())
    async_commit = bool(app_settings.COLLECT_ASYNC_COMMIT)
    # Events that could meet a real order's Purchase are stored apart and always count as accepted,
    # so the answer never tells whether an order number exists (tracking/orders.py).
    bound = [event for event in events if is_order_bound(event)]
    if bound:
        events = [event for event in events if not is_order_bound(event)]
    buffer_ms = int(app_settings.COLLECT_BUFFER_MS)
    counts = None
    if buffer_ms and events:
        counts = event_buffer.add(request_row, events, interval_ms=buffer_ms, async_commit=async_commit)
    if counts is None:
        stored = len(store_batch(request_row, events, async_commit=async_commit))
        counts = (stored, len(events) - stored)
    if bound:
        counts = (counts[0] + store_order_bound(request_row, bound, async_commit=async_commit), counts[1])
    return CollectResult(200, {"accepted": counts[0], "duplicates": counts[1], "rejected": rejected}, cookies)
