"""Purchases of paid orders: the server's report is the truth, a browser's Purchase is only a claim.

``confirm_purchase`` makes a server report replace a browser copy of the same order (server.py calls
it); ``store_order_bound`` keeps the collector's answer from telling whether an order number exists.
Which Purchases count (attribution, forwarding) is ``CONFIRMED_SOURCES``; the rules are in docs/tracking.md.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any

from django.db.models import Q
from django.utils import timezone

from socialshop.core.db import writing
from socialshop.tracking.models import Delivery, DeliveryStatus, Event, EventName, EventSource
from socialshop.tracking.store import ROW_DEFAULTS, store_batch, store_events

PURCHASE_ID_PREFIX = "purchase-"
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_.:-]")
# Purchases whose value is the store's own word: the server call, and simulated traffic (demo data
# standing in for paid orders; never forwarded). Only these are attributed and forwarded.
CONFIRMED_SOURCES: tuple[str, ...] = (EventSource.SERVER, EventSource.SIMULATED)
# Columns that describe the visitor's browser visit. A browser copy's values are kept (where the
# server has none) only when the server's report is for that same visitor or signed-in customer.
VISIT_COLUMNS = (
    "visitor_id", "session_id", "user_id", "ip", "user_agent", "url", "referrer", "click_ids", "utm", "browser_ids",
    "properties", "post_id", "tag_id", "search_string",
)


def purchase_event_id(order_id: str) -> str:
    """The event_id both sides use for an order's Purchase unless told otherwise (platform dedup)."""
    return (PURCHASE_ID_PREFIX + _UNSAFE_ID.sub("_", str(order_id)))[:64]


def is_order_bound(event: Mapping[str, Any]) -> bool:
    """Whether storing ``event`` (a cleaned collect event) could collide with a real order's Purchase:
    a Purchase naming an order, or any event using the ``purchase-...`` id an order's Purchase uses."""
    return bool(event.get("name") == EventName.PURCHASE and event.get("order_id")) or str(
        event.get("event_id", "")
    ).startswith(PURCHASE_ID_PREFIX)


def store_order_bound(context: dict[str, Any], events: list[dict[str, Any]], *, async_commit: bool = False) -> int:
    """Store a request's order-bound events (``is_order_bound``) and return how many to report as accepted:
    all of them, stored or not.

    Whether an order number already has a Purchase must not show in the collector's answer (a
    visitor could probe order numbers), so these events are never counted as duplicates. The write
    is synchronous (never the write buffer, whose replay memory would tell too); such events are
    rare (order confirmation pages).
    """
    if events:
        store_batch(context, events, async_commit=async_commit)
    return len(events)


def _same_visitor(stored: Event, row: Mapping[str, Any]) -> bool:
    """The server's report is for the visitor (or signed-in customer) whose browser sent ``stored``."""
    visitor, user = row.get("visitor_id") or "", row.get("user_id")
    return bool((visitor and stored.visitor_id == visitor) or (user and stored.user_id == user))


def confirm_purchase(row: Mapping[str, Any]) -> bool:
    """Make the server's Purchase ``row`` (store_events attnames) the stored record of its order.

    Called after the plain insert found the order's Purchase slot or the event_id taken. A copy the
    browser sent (or the no-JS pixel) is overwritten with the server's values: name, event_id, value,
    currency, contents, content ids, hashed customer data, consent flags, times and ``source``; its
    visit columns (visitor, session, click ids, browser ids, ...) stay only when it came from the
    same visitor or customer (``_same_visitor``), otherwise the server's own (possibly empty) ones
    replace them, so a visitor who forged the order's Purchase gets no link to the buyer. Any other
    event holding the order's event_id gets a fresh ``displaced-`` id. Deliveries not yet sent are dropped so
    the outbox makes them again from the confirmed row. Returns False when a server copy was
    already there (nothing changes: the first server report wins).
    """
    order_id, event_id = row.get("order_id") or "", row["event_id"]
    slot = Q(name=EventName.PURCHASE, order_id=order_id) if order_id else Q(pk__in=[])
    with writing():
        holders = list(Event.objects.select_for_update().filter(slot | Q(event_id=event_id)).order_by("pk"))
        target = next((e for e in holders if e.name == EventName.PURCHASE and e.order_id == order_id), None)
        if target is not None and target.source in CONFIRMED_SOURCES:
            return False
        for other in holders:
            if other is not target:
                Event.objects.filter(pk=other.pk).update(event_id=f"displaced-{secrets.token_hex(12)}")
        if target is None:  # only a squatter on the event_id (now moved aside), or nothing any more
            return bool(store_events([dict(row)]))
        same = _same_visitor(target, row)
        values = {name: row.get(name, default) for name, default in ROW_DEFAULTS.items()}
        if same:
            for name in VISIT_COLUMNS:
                if values[name] in ("", None, [], {}):
                    values[name] = getattr(target, name)
            values["gpc"] = bool(values["gpc"] or target.gpc)
            values["may_share"] = bool(values["may_share"] and not values["gpc"])
        now = timezone.now()
        Event.objects.filter(pk=target.pk).update(
            **values, event_id=event_id, name=row["name"], occurred_at=row["occurred_at"],
            received_at=row.get("received_at", now), updated_at=now,
        )
        Delivery.objects.filter(event_id=target.pk).exclude(
            status__in=(DeliveryStatus.SENT, DeliveryStatus.SENDING)
        ).delete()
    return True
