"""Drain the outbox: claim pending deliveries, re-check consent, send in API-sized batches, record the outcome.

Delivery is at-least-once with platform-side dedup by event_id (docs/platforms.md): a
claim is a lease, so a batch whose worker died is sent again after FORWARD_LEASE_SECONDS. Deliveries
are made by tracking/outbox.py; the Celery task is ``socialshop.forward_events``.
"""
from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from socialshop.conf import app_settings
from socialshop.platforms import configured_platforms, get_platform
from socialshop.platforms.base import HttpPlatform, Platform, PlatformAPIError, ServerEvent
from socialshop.platforms.status import halted_reason, record_error, record_success
from socialshop.tracking.models import Delivery, DeliveryStatus
from socialshop.tracking.outbox import consent_block_reasons, to_server_event, unconfirmed_reason

logger = logging.getLogger(__name__)

BACKOFF_CAP_SECONDS = 3600
# Event fields the drain reads (to_server_event and the consent re-check); the rest stay unloaded.
EVENT_FIELDS = (
    "event_id", "name", "occurred_at", "url", "referrer", "visitor_id", "ip", "user_agent", "content_ids", "contents",
    "value", "currency", "order_id", "search_string", "user_data", "click_ids", "browser_ids", "source", "user_id",
    "may_share", "gpc",
)


@dataclass
class DrainResult:
    """Counts of one platform's drain run; ``stopped`` says why it ended early (credentials, outage)."""

    platform: str
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    batches: int = 0
    stopped: str = ""
    errors: list[str] = field(default_factory=list)


def _ready(now: datetime, lease_seconds: int) -> Q:
    """Claimable: pending and due, or sending under a lease that expired (its worker died)."""
    due = Q(status=DeliveryStatus.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    abandoned = Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - timedelta(seconds=lease_seconds))
    return due | abandoned


def claim_batch(slug: str, *, size: int, lease_seconds: int) -> tuple[str, list[Delivery]]:
    """Claim up to ``size`` due deliveries of ``slug`` for this worker; returns (token, rows with events).

    PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so two workers take disjoint rows without waiting.
    Elsewhere (SQLite): a conditional UPDATE that only matches rows still claimable, so a row taken
    by another worker in between is not taken twice.
    """
    token = secrets.token_hex(16)
    now = timezone.now()
    ready = _ready(now, lease_seconds)
    claim = {"status": DeliveryStatus.SENDING, "claimed_by": token, "claimed_at": now}
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(
                Delivery.objects.select_for_update(skip_locked=True).filter(ready, platform=slug)
                .order_by("pk").values_list("pk", flat=True)[:size]
            )
            if ids:
                Delivery.objects.filter(pk__in=ids).update(**claim)
    else:
        ids = list(Delivery.objects.filter(ready, platform=slug).order_by("pk").values_list("pk", flat=True)[:size])
        if ids:
            Delivery.objects.filter(ready, pk__in=ids).update(**claim)
    if not ids:
        return token, []
    rows = list(
        Delivery.objects.filter(claimed_by=token, status=DeliveryStatus.SENDING).select_related("event")
        .only("attempts", "event_id", *(f"event__{name}" for name in EVENT_FIELDS)).order_by("pk")
    )
    return token, rows


def backoff_seconds(attempts: int, *, retry_after: float | None = None) -> float:
    """Delay before the next try: the platform's Retry-After when given, else exponential with jitter."""
    if retry_after is not None:
        return min(retry_after, BACKOFF_CAP_SECONDS)
    base = float(app_settings.FORWARD_BACKOFF_SECONDS)
    ceiling = min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    return random.uniform(ceiling / 2, ceiling)  # "equal jitter": spread retries, keep a floor


class _Drain:
    """One platform's drain run; every write is guarded by this run's claim token."""

    def __init__(self, platform: Platform, result: DrainResult) -> None:
        self.platform = platform
        self.result = result
        self.token = ""
        self.pause = 0.0  # seconds the rest of a claim waits after a retryable error
        # Accepted rows are marked sent in one UPDATE per claim (not one per request): a worker that
        # dies before that re-sends them after the lease, which the platforms dedupe by event_id.
        self.accepted: list[int] = []

    def _finish(self, ids: Sequence[int], **fields: object) -> int:
        return Delivery.objects.filter(pk__in=list(ids), claimed_by=self.token, status=DeliveryStatus.SENDING).update(
            claimed_by="", updated_at=timezone.now(), **fields
        )

    def flush(self) -> None:
        """Mark the rows the platform accepted as sent."""
        if self.accepted:
            self.result.sent += self._finish(self.accepted, status=DeliveryStatus.SENT, sent_at=timezone.now(), reason="",
                                             error_status=None, attempts=F("attempts") + 1)
            self.accepted = []
            record_success(self.platform.slug)

    def release(self, rows: Sequence[Delivery], *, delay: float = 0.0) -> None:
        """Give claimed but unsent rows back (no attempt counted)."""
        later = timezone.now() + timedelta(seconds=delay) if delay else None
        self._finish([r.pk for r in rows], status=DeliveryStatus.PENDING, next_attempt_at=later, claimed_at=None)

    def run_batch(self, rows: list[Delivery]) -> bool:
        """Send one claimed batch; False when the platform must not be called again in this run."""
        now = time.time()
        blocked = consent_block_reasons([r.event for r in rows])
        skip: dict[str, list[int]] = {}
        sendable: list[tuple[Delivery, ServerEvent]] = []
        for row in rows:
            event = to_server_event(row.event)
            reason = blocked.get(row.event_id) or unconfirmed_reason(row.event) or self.platform.skip_reason(event, now=now)
            if reason:
                skip.setdefault(reason, []).append(row.pk)
            else:
                sendable.append((row, event))
        for reason, ids in skip.items():
            self.result.skipped += self._finish(ids, status=DeliveryStatus.SKIPPED, reason=reason[:500])
        by_event_id = {event.event_id: row for row, event in sendable}
        events = [event for _, event in sendable]
        for group in self.platform.batches(events):
            if not self.send(group, by_event_id):
                return False  # the caller releases the rest of the claim
        return True

    def send(self, events: list[ServerEvent], by_event_id: dict[str, Delivery]) -> bool:
        """Send ``events``; on a 4xx for a multi-event batch, bisect to isolate the bad events."""
        rows = [by_event_id[e.event_id] for e in events]
        self.result.batches += 1
        try:
            answer = self.platform.send_events(events)
        except PlatformAPIError as exc:
            return self.on_error(exc, events, rows, by_event_id)
        rejected = dict(answer.rejected)
        self.accepted.extend(r.pk for r in rows if r.event.event_id not in rejected)
        for row in rows:
            if row.event.event_id in rejected:
                self.result.failed += self._finish([row.pk], status=DeliveryStatus.FAILED, attempts=F("attempts") + 1,
                                                   reason=rejected[row.event.event_id][:500], error_status=answer.status)
        return True

    def on_error(self, exc: PlatformAPIError, events: list[ServerEvent], rows: list[Delivery],
                 by_event_id: dict[str, Delivery]) -> bool:
        """Record a refused batch: halt on credentials, back off on retryable errors, bisect on 4xx."""
        message = exc.message[:500]
        self.result.errors.append(str(exc))
        if exc.auth:
            # Revoked or wrong credentials: nothing can succeed until they change. Keep rows pending.
            record_error(self.platform, str(exc), halt=True)
            self.release(rows)
            self.result.stopped = f"credentials refused: {message}"
            return False
        record_error(self.platform, str(exc))
        if exc.retryable:
            max_attempts = int(app_settings.FORWARD_MAX_ATTEMPTS)
            for row in rows:
                attempts = row.attempts + 1
                if attempts >= max_attempts:
                    self.result.failed += self._finish([row.pk], status=DeliveryStatus.FAILED, attempts=attempts,
                                                       reason=message, error_status=exc.status)
                else:
                    later = timezone.now() + timedelta(seconds=backoff_seconds(attempts, retry_after=exc.retry_after))
                    self.result.retried += self._finish([row.pk], status=DeliveryStatus.PENDING, attempts=attempts,
                                                        next_attempt_at=later, reason=message, error_status=exc.status)
            # The platform is throttling or down: stop calling it in this run; the rest waits too.
            self.pause = backoff_seconds(1, retry_after=exc.retry_after)
            self.result.stopped = f"retry later: {message}"
            return False
        if len(events) > 1:
            # One invalid event rejects a whole Meta batch: split to send the good ones.
            half = len(events) // 2
            return self.send(events[:half], by_event_id) and self.send(events[half:], by_event_id)
        self.result.failed += self._finish([r.pk for r in rows], status=DeliveryStatus.FAILED, attempts=F("attempts") + 1,
                                           reason=message, error_status=exc.status)
        return True


def drain_platform(platform: Platform, *, deadline: float, claim_size: int | None = None) -> DrainResult:
    """Send ``platform``'s due deliveries until none are left, the platform refuses, or ``deadline`` (monotonic)."""
    result = DrainResult(platform.slug)
    halted = halted_reason(platform)
    if halted:
        result.stopped = f"halted, credentials refused: {halted}"
        return result
    size = claim_size or int(app_settings.FORWARD_CLAIM_SIZE)
    lease = int(app_settings.FORWARD_LEASE_SECONDS)
    drain = _Drain(platform, result)
    try:
        while time.monotonic() < deadline:
            drain.token, rows = claim_batch(platform.slug, size=size, lease_seconds=lease)
            if not rows:
                break
            try:
                keep_going = drain.run_batch(rows)
            finally:
                drain.flush()
                # Rows of this claim not finished (a stop mid-batch) go back to pending at once.
                leftover = list(Delivery.objects.filter(claimed_by=drain.token, status=DeliveryStatus.SENDING))
                if leftover:
                    drain.release(leftover, delay=drain.pause)
            if not keep_going:
                break
    finally:
        if isinstance(platform, HttpPlatform):
            platform.close()
    logger.info("forwarded to %s: %d sent, %d failed, %d skipped, %d to retry%s", platform.slug, result.sent,
                result.failed, result.skipped, result.retried, f" ({result.stopped})" if result.stopped else "")
    return result


def forward_events(*, platform: str | None = None, max_seconds: float | None = None,
                   claim_size: int | None = None) -> dict[str, DrainResult]:
    """Drain every configured platform (or only ``platform``) within the time budget; slug -> result."""
    budget = float(max_seconds if max_seconds is not None else app_settings.FORWARD_TIME_BUDGET_SECONDS)
    deadline = time.monotonic() + budget
    chosen = {platform: get_platform(platform)} if platform else configured_platforms()
    return {slug: drain_platform(p, deadline=deadline, claim_size=claim_size) for slug, p in chosen.items()}


def retry_deliveries(ids: Sequence[int]) -> int:
    """Put failed deliveries back in the queue now (admin's retry action); returns how many."""
    return Delivery.objects.filter(pk__in=list(ids), status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None, claimed_by="", claimed_at=None,
        updated_at=timezone.now(),
    )
