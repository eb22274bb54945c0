"""Server-side facts from the host store: one call per fact (a cart changed, an order was paid).

Events go through the same storage path as the collector (``tracking/store.py``) and share the
browser's event_id. A Purchase is recorded once per order, and the server's report replaces a browser
copy (``tracking/orders.py``). A cart change takes the browser's event_id from the cart request
when posts.js sent one, else it is queued for the visitor's next page, where tag.js sends it.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from socialshop.conf import app_settings
from socialshop.privacy.consent import (
    SESSION_COOKIE, ConsentState, consent_from_request, visitor_id_from_request,
)
from socialshop.privacy.ip import stored_ip
from socialshop.privacy.models import ConsentRecord
from socialshop.tracking.models import EventName, EventSource
from socialshop.tracking.orders import PURCHASE_ID_PREFIX, confirm_purchase, purchase_event_id
from socialshop.tracking.store import store_events
from socialshop.tracking.validation import CURRENCIES, EVENT_ID_RE

__all__ = [
    "ServerReport", "browser_event_fields", "current_visitor_id", "pop_pending_events", "purchase_event_id",
    "report_cart_change", "report_event", "report_order_paid",
]

PENDING_SESSION_KEY = "socialshop_events"
MAX_PENDING = 10
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_.:-]")
# The cart request's fields (form field, or header) by which posts.js hands its AddToCart's event_id,
# post and tag to the host's cart view, so report_cart_change records the same event (one row, one
# delivery per platform; the pixel and the server copy dedupe on the id). docs/tracking.md.
EVENT_ID_FIELD, EVENT_ID_HEADER = "socialshop_event_id", "X-Socialshop-Event-Id"
POST_ID_FIELD, TAG_ID_FIELD = "socialshop_post_id", "socialshop_tag_id"


@dataclass(frozen=True, slots=True)
class ServerReport:
    """What a server call did: the event_id used and whether this call's values are now stored
    (False: a duplicate of an earlier server call, or of the browser's copy of a non-Purchase);
    ``replaced``: a Purchase that overwrote the browser's unconfirmed copy of its order."""

    event_id: str
    stored: bool
    replaced: bool = False


def current_visitor_id(request: HttpRequest) -> str:
    """The visitor id of ``request`` when consent allows one, else "" (store it on an order to
    report a later payment, e.g. from a webhook, for the same visitor)."""
    return visitor_id_from_request(request) if consent_from_request(request).may_identify else ""


def _consent_of(*, request: HttpRequest | None, user: Any, visitor_id: str) -> tuple[ConsentState, str]:
    """The consent that governs a server event and the visitor id it may carry."""
    if request is not None:
        state = consent_from_request(request)
        return state, (visitor_id_from_request(request) if state.may_identify else "")
    required = bool(app_settings.CONSENT_REQUIRED)
    records = ConsentRecord.objects.all()
    record = None
    if visitor_id:
        record = records.filter(visitor_id=visitor_id).first()
    elif user is not None and getattr(user, "pk", None):
        record = records.filter(user_id=user.pk).order_by("-updated_at").first()
    if record is None:
        # Nothing recorded: without required consent the defaults allow, otherwise nothing may.
        return ConsentState(required=required), (visitor_id if not required else "")
    state = ConsentState(analytics=record.analytics, ads=record.ads, gpc=record.gpc, opted_out=record.opted_out, required=required)
    return state, (record.visitor_id if state.may_identify else "")


def _contents(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    from socialshop.catalog import get_catalog

    contents = []
    catalog = None
    for item in items:
        catalog_id = item.get("id")
        if not catalog_id and item.get("object") is not None:
            catalog = catalog or get_catalog()
            catalog_id = (catalog.ids_for(item["object"])[:1] or [""])[0]
        if not catalog_id:
            continue
        entry: dict[str, Any] = {"id": str(catalog_id)[:64], "quantity": int(item.get("quantity") or 1)}
        if item.get("item_price") is not None:
            entry["item_price"] = float(Decimal(str(item["item_price"])))
        contents.append(entry)
    return contents


def report_event(
    name: str,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    visitor_id: str | None = None,
    event_id: str | None = None,
    contents: Sequence[Mapping[str, Any]] = (),
    value: Decimal | float | None = None,
    currency: str | None = None,
    order_id: str = "",
    user_data: Mapping[str, str | None] | None = None,
    url: str = "",
    post_id: str = "",
    tag_id: str = "",
    to_browser: bool = False,
) -> ServerReport:
    """Record one server-side event with the consent of its visitor.

    ``request`` (when there is one) gives visitor, session, customer, IP and user agent as the
    collector would; otherwise ``visitor_id`` or ``user`` find the stored ``ConsentRecord``.
    ``user_data`` (raw email, phone, names, address, external_id) is normalised and SHA-256
    hashed by ``privacy.hashing.hash_user_data`` and stored only when consent allows
    identifying; raw values are never stored. ``to_browser`` also queues the event for the
    visitor's next page (tag.js sends it with the same id to the pixels). Raises ``ValueError``
    for an unknown event name or currency.
    """
    from socialshop.privacy.hashing import hash_user_data

    if name not in EventName.values:
        raise ValueError(f"unknown event name {name!r}")
    currency = (currency or app_settings.CURRENCY).upper()
    if currency not in CURRENCIES:
        raise ValueError(f"currency {currency!r} is not an ISO 4217 code")
    consent, visitor = _consent_of(request=request, user=user, visitor_id=visitor_id or "")
    identify = bool(visitor) or (not consent.required and consent.may_identify)
    event_id = (_UNSAFE_ID.sub("_", event_id) if event_id else secrets.token_hex(16))[:64]
    items = _contents(contents)
    now = timezone.now()
    row: dict[str, Any] = {
        "event_id": event_id, "name": name, "occurred_at": now, "received_at": now, "source": EventSource.SERVER,
        "contents": items, "content_ids": [i["id"] for i in items], "currency": currency,
        "value": None if value is None else Decimal(str(value)).quantize(Decimal("0.01")),
        "order_id": str(order_id)[:64], "may_share": consent.may_share and identify, "gpc": consent.gpc,
        "post_id": str(post_id)[:64], "tag_id": str(tag_id)[:64],
    }
    if request is not None:
        row["url"] = (url or request.META.get("HTTP_REFERER") or request.build_absolute_uri())[:2048]
    if identify:
        request_user = getattr(request, "user", None) if request is not None else None
        customer = user or (request_user if request_user is not None and request_user.is_authenticated else None)
        row.update(visitor_id=visitor, user_id=getattr(customer, "pk", None))
        if request is not None:
            row.update(session_id=request.COOKIES.get(SESSION_COOKIE, "")[:40],
                       ip=stored_ip(request.META.get("REMOTE_ADDR", "")),
                       user_agent=request.META.get("HTTP_USER_AGENT", "")[:512])
        if user_data:
            row["user_data"] = hash_user_data(dict(user_data))
    stored = bool(store_events([row]))
    replaced = False
    if not stored and name == EventName.PURCHASE:
        # The order's Purchase slot or its event_id is taken: a browser copy (maybe forged) gives way.
        stored = replaced = confirm_purchase(row)
    if to_browser and request is not None and hasattr(request, "session"):
        pending = list(request.session.get(PENDING_SESSION_KEY, []))[-(MAX_PENDING - 1):]
        data = {"event_id": event_id, "contents": items, "content_ids": row["content_ids"], "currency": currency}
        if row["value"] is not None:
            data["value"] = float(row["value"])
        if order_id:
            data["order_id"] = row["order_id"]
        pending.append({"name": name, "data": data})
        request.session[PENDING_SESSION_KEY] = pending
    return ServerReport(event_id=event_id, stored=stored, replaced=replaced)


def browser_event_fields(request: HttpRequest) -> dict[str, str]:
    """The event_id, post and tag a browser sent with a cart request (``EVENT_ID_FIELD`` or the
    ``EVENT_ID_HEADER`` header, ``POST_ID_FIELD``, ``TAG_ID_FIELD``); invalid or missing ones are left out.

    An id shaped like an order's Purchase id (``purchase-...``) is refused: a cart request must not
    take the event_id a paid order's Purchase will use.
    """
    post = request.POST if request.method == "POST" else {}
    event_id = str(post.get(EVENT_ID_FIELD) or request.headers.get(EVENT_ID_HEADER) or "")
    fields: dict[str, str] = {}
    if EVENT_ID_RE.fullmatch(event_id) and not event_id.startswith(PURCHASE_ID_PREFIX):
        fields["event_id"] = event_id
    for key, name in (("post_id", POST_ID_FIELD), ("tag_id", TAG_ID_FIELD)):
        value = str(post.get(name) or "")
        if value and len(value) <= 64 and "\x00" not in value:
            fields[key] = value
    return fields


def report_cart_change(
    request: HttpRequest,
    *,
    catalog_id: str,
    quantity: int,
    item_price: Decimal | float,
    currency: str | None = None,
    event_id: str | None = None,
) -> ServerReport | None:
    """The visitor added ``quantity`` (> 0) units of ``catalog_id`` to the cart: an AddToCart.

    The event_id is ``event_id``, else the one the browser sent with the request (posts.js sends
    ``socialshop_event_id`` with a hotspot's add-to-cart, with ``socialshop_post_id`` and
    ``socialshop_tag_id``; see ``browser_event_fields``): the browser records and pixels that same
    event, so it is stored and forwarded once. Without one a new id is made and the event is queued
    for the next page, where the browser tag reports it with that id. A removal
    (``quantity <= 0``) records nothing and returns None.
    """
    if quantity <= 0:
        return None
    price = Decimal(str(item_price))
    fields = browser_event_fields(request)
    sent = fields.get("event_id")  # the browser has this event already: do not queue it back
    if event_id:
        fields["event_id"] = event_id
    return report_event(
        EventName.ADD_TO_CART, request=request, currency=currency,
        contents=[{"id": catalog_id, "quantity": quantity, "item_price": price}], value=price * quantity,
        to_browser=not sent or fields["event_id"] != sent, **fields,
    )


def report_order_paid(
    *,
    order_id: str,
    value: Decimal | float,
    currency: str,
    items: Sequence[Mapping[str, Any]],
    user_data: Mapping[str, str | None] | None = None,
    request: HttpRequest | None = None,
    user: Any = None,
    visitor_id: str | None = None,
    event_id: str | None = None,
) -> ServerReport:
    """An order was paid: the Purchase, recorded once per ``order_id`` however often reported.

    ``items``: [{"id": catalog_id or "object": host product, "quantity": n, "item_price": p}].
    ``event_id`` defaults to ``purchase_event_id(order_id)``, the id ``{% socialshop_event
    "Purchase" order_id=... %}`` uses too, so browser and server reports deduplicate.
    """
    return report_event(
        EventName.PURCHASE, request=request, user=user, visitor_id=visitor_id,
        event_id=event_id or purchase_event_id(order_id), contents=items, value=value, currency=currency,
        order_id=order_id, user_data=user_data,
    )


def pop_pending_events(request: HttpRequest) -> list[dict[str, Any]]:
    """Server events queued for this visitor's browser (taken once; used by ``{% socialshop_tag %}``)."""
    session = getattr(request, "session", None)
    if session is None or PENDING_SESSION_KEY not in session:
        return []
    return list(session.pop(PENDING_SESSION_KEY, []) or [])[:MAX_PENDING]

