"""The outbox: one ``Delivery`` per shareable event and configured platform, pending or skipped with a reason.

Rows are made off the request path by ``create_deliveries`` (task ``socialshop.create_deliveries``),
idempotent through the (event, platform) unique constraint. Sending them is tracking/forwarding.py.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from socialshop.platforms import configured_platforms
from socialshop.platforms.base import Platform
from socialshop.platforms.events import ServerEvent
from socialshop.privacy.models import ConsentChoice, ConsentRecord
from socialshop.tracking.models import Delivery, DeliveryStatus, Event, EventName, EventSource

logger = logging.getLogger(__name__)

SKIP_GPC = "GPC: the browser sent Global Privacy Control"
SKIP_OPTED_OUT = "opted out: the visitor opted out of tracking"
SKIP_NO_CONSENT = "no consent: ads consent is not granted"
SKIP_UNCONFIRMED = "unconfirmed purchase: only the store's server report of a paid order is forwarded"
# A Purchase only the browser (or the no-JS pixel) reported is a claim anyone can make: it gets no
# delivery. The pixels already had it in the browser; the server's report of the paid order (same
# event_id, tracking/orders.py) is the one forwarded, with the store's value (docs/tracking.md).
UNCONFIRMED_PURCHASE = Q(name=EventName.PURCHASE) & ~Q(source=EventSource.SERVER)
# Events received longer ago than this are not scanned any more (every platform's window is shorter).
SCAN_DAYS = 8


@dataclass(frozen=True, slots=True)
class OutboxResult:
    """What one ``create_deliveries`` run made: pending and skipped rows per platform."""

    pending: dict[str, int]
    skipped: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.pending.values()) + sum(self.skipped.values())


def to_server_event(event: Event) -> ServerEvent:
    """The record a platform sees for ``event`` (platforms never see our models)."""
    return ServerEvent(
        event_id=event.event_id, name=event.name, time=int(event.occurred_at.timestamp()), url=event.url,
        referrer=event.referrer, visitor_id=event.visitor_id, ip=event.ip, user_agent=event.user_agent,
        content_ids=tuple(str(c) for c in (event.content_ids or [])),
        contents=tuple(c for c in (event.contents or []) if isinstance(c, dict)),
        value=event.value, currency=event.currency, order_id=event.order_id, search_string=event.search_string,
        user_data=dict(event.user_data or {}), click_ids=dict(event.click_ids or {}),
        browser_ids=dict(event.browser_ids or {}), source=event.source,
    )


def unconfirmed_reason(event: Event) -> str:
    """``SKIP_UNCONFIRMED`` for a Purchase the store's server has not reported, else ""."""
    return SKIP_UNCONFIRMED if event.name == EventName.PURCHASE and event.source != EventSource.SERVER else ""


def consent_block_reasons(events: Iterable[Event]) -> dict[int, str]:
    """Event pk -> why its visitor's (or customer's) consent now forbids sharing; absent when sharing is fine.

    Checked when deliveries are made and again right before sending, so an opt-out while a
    delivery is pending still stops it.
    """
    events = list(events)
    visitors = {e.visitor_id for e in events if e.visitor_id}
    users = {e.user_id for e in events if e.user_id}
    by_visitor: dict[str, ConsentRecord] = {}
    by_user: dict[int, list[ConsentRecord]] = {}
    if visitors or users:
        for record in ConsentRecord.objects.filter(Q(visitor_id__in=visitors) | Q(user_id__in=users)):
            by_visitor[record.visitor_id] = record
            if record.user_id:
                by_user.setdefault(record.user_id, []).append(record)
    reasons: dict[int, str] = {}
    for event in events:
        records = [r for r in (by_visitor.get(event.visitor_id), *by_user.get(event.user_id or 0, [])) if r]
        if event.gpc or any(r.gpc for r in records):
            reasons[event.pk] = SKIP_GPC
        elif any(r.opted_out for r in records):
            reasons[event.pk] = SKIP_OPTED_OUT
        elif not event.may_share or any(r.ads != ConsentChoice.GRANTED for r in records):
            reasons[event.pk] = SKIP_NO_CONSENT
    return reasons


def create_deliveries(
    *, chunk: int = 2000, max_rows: int | None = None, now: datetime | None = None,
    platforms: Mapping[str, Platform] | None = None,
) -> OutboxResult:
    """Make the missing deliveries for recently received shareable events, ``chunk`` events at a time.

    Each row is pending, or skipped with the reason (consent, GPC, not mapped, outside the
    platform's time window, no identifier). Stops after ``max_rows`` rows per platform when set.
    Safe to run twice at once: the unique constraint drops the second copy.
    """
    now = now or timezone.now()
    pending: dict[str, int] = {}
    skipped: dict[str, int] = {}
    chosen = platforms if platforms is not None else configured_platforms("events")
    for slug, platform in chosen.items():
        events_capability = platform.events
        pending[slug] = skipped[slug] = 0
        last_pk = 0
        while max_rows is None or pending[slug] + skipped[slug] < max_rows:
            events = list(
                Event.objects.filter(may_share=True, received_at__gte=now - timedelta(days=SCAN_DAYS), pk__gt=last_pk)
                .exclude(source=EventSource.SIMULATED)  # demo/bench traffic never reaches a platform
                .exclude(UNCONFIRMED_PURCHASE)  # no row: a later server report makes its delivery
                .filter(~Exists(Delivery.objects.filter(event=OuterRef("pk"), platform=slug)))
                .order_by("pk")[:chunk]
            )
            if not events:
                break
            last_pk = events[-1].pk
            blocked = consent_block_reasons(events)
            rows = []
            for event in events:
                reason = blocked.get(event.pk) or events_capability.skip_reason(to_server_event(event), now=now.timestamp())
                status = DeliveryStatus.SKIPPED if reason else DeliveryStatus.PENDING
                rows.append(Delivery(event=event, platform=slug, status=status, reason=(reason or "")[:500]))
            Delivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
            made = sum(1 for r in rows if r.status == DeliveryStatus.PENDING)
            pending[slug] += made
            skipped[slug] += len(rows) - made
            if len(events) < chunk:
                break
        logger.info("outbox %s: %d pending, %d skipped", slug, pending[slug], skipped[slug])
    return OutboxResult(pending, skipped)
