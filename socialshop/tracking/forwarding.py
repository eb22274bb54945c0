"""Event forwarding: the outbox's ``Delivery`` rows as a queue of the delivery engine.

The engine (platforms/delivery.py) claims, batches, backs off, halts and bisects; this module says
what a claimed delivery is (its event as a ``ServerEvent``), re-checks consent right before sending,
and sends through each platform's server-events capability. Deliveries are made by
tracking/outbox.py; the Celery task is ``socialshop.forward_events``.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

from django.db.models import Exists, OuterRef, QuerySet

from socialshop.conf import app_settings
from socialshop.platforms import configured_platforms, get_platform
from socialshop.platforms.base import Capability
from socialshop.platforms.delivery import DrainResult, Queue, drain, retry_failed
from socialshop.platforms.events import EventsCapability, SendResult, ServerEvent
from socialshop.tracking.models import Delivery, Event
from socialshop.tracking.outbox import consent_block_reasons, to_server_event, unconfirmed_reason

__all__ = ["EVENT_QUEUE", "DrainResult", "EventQueue", "forward_events", "retry_deliveries"]

# Event fields the drain reads (to_server_event and the consent re-check); the rest stay unloaded.
EVENT_FIELDS = (
    "event_id", "name", "occurred_at", "url", "referrer", "visitor_id", "ip", "user_agent", "content_ids", "contents",
    "value", "currency", "order_id", "search_string", "user_data", "click_ids", "browser_ids", "source", "user_id",
    "may_share", "gpc",
)


class EventQueue(Queue):
    """Deliveries of events to the platforms' conversions APIs, keyed by event_id."""

    kind: ClassVar[str] = "events"
    model: ClassVar[type[Delivery]] = Delivery

    def claimed(self, token: str) -> QuerySet[Any]:
        # Delivery.event has no database constraint (tracking/retention.py): a delivery whose event is gone
        # (retention raced its creation) is deleted here, never sent.
        Delivery.objects.filter(claimed_by=token).exclude(Exists(Event.objects.filter(pk=OuterRef("event_id")))).delete()
        return super().claimed(token).select_related("event").only(
            "attempts", "event_id", *(f"event__{name}" for name in EVENT_FIELDS))

    def prepare(self, capability: Capability, rows: Sequence[Any], *, now: float) -> tuple[list[tuple[Any, Any]], dict[str, list[int]]]:
        assert isinstance(capability, EventsCapability)
        # An opt-out or withdrawn consent while a delivery waited still stops it.
        blocked = consent_block_reasons([r.event for r in rows])
        skip: dict[str, list[int]] = {}
        sendable: list[tuple[Any, Any]] = []
        for row in rows:
            event = to_server_event(row.event)
            reason = blocked.get(row.event_id) or unconfirmed_reason(row.event) or capability.skip_reason(event, now=now)
            if reason:
                skip.setdefault(reason, []).append(row.pk)
            else:
                sendable.append((row, event))
        return sendable, skip

    def key(self, record: ServerEvent) -> str:
        return record.event_id

    def batches(self, capability: Capability, records: list[Any]) -> list[list[Any]]:
        assert isinstance(capability, EventsCapability)
        return capability.batches(records)

    def send(self, capability: Capability, records: list[Any]) -> SendResult:
        assert isinstance(capability, EventsCapability)
        return capability.send_events(records)


EVENT_QUEUE = EventQueue()


def forward_events(*, platform: str | None = None, max_seconds: float | None = None,
                   claim_size: int | None = None) -> dict[str, DrainResult]:
    """Drain every configured platform (or only ``platform``) within the time budget; slug -> result."""
    budget = float(max_seconds if max_seconds is not None else app_settings.FORWARD_TIME_BUDGET_SECONDS)
    deadline = time.monotonic() + budget
    chosen = {platform: get_platform(platform)} if platform else configured_platforms("events")
    return {slug: drain(p, EVENT_QUEUE, deadline=deadline, claim_size=claim_size) for slug, p in chosen.items()}


def retry_deliveries(ids: Sequence[int]) -> int:
    """Put failed deliveries back in the queue now (admin's retry action); returns how many."""
    return retry_failed(Delivery, ids)
