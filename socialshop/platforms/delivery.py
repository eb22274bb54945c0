"""The delivery engine: claim queued records by lease, send them in API-sized batches, back off,
halt on refused credentials and bisect a refused batch, for every kind of outgoing record.

A ``Queue`` says what its rows are (a model with the ``OutboxRow`` fields), how a claimed row
becomes a record a capability sends, and how a batch is sent. Event forwarding is one queue
(tracking/forwarding.py); audience uploads are another. Status is kept per platform and
capability (platforms/status.py), so a refused audience token leaves event forwarding running.
Delivery is at-least-once: a claim is a lease, and a batch whose worker died is sent again after
the lease, which the platforms dedupe by their own keys (event_id, member hashes).
"""
from __future__ import annotations

import abc
import logging
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from socialshop.conf import app_settings
from socialshop.core.jobs import bulk_work
from socialshop.platforms.base import Capability, Platform
from socialshop.platforms.events import SendResult
from socialshop.platforms.http import PlatformAPIError
from socialshop.platforms.models import DeliveryStatus, OutboxRow
from socialshop.platforms.status import halted_reason, record_error, record_success

logger = logging.getLogger(__name__)

BACKOFF_CAP_SECONDS = 3600


@dataclass
class DrainResult:
    """Counts of one platform's drain run of one queue; ``stopped`` says why it ended early."""

    platform: str
    capability: str = "events"
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    batches: int = 0
    stopped: str = ""
    errors: list[str] = field(default_factory=list)


class Queue(abc.ABC):
    """One kind of outgoing record: its rows, how they become records, how a batch is sent."""

    # The capability kind whose status, halts and client this queue uses ("events", "audiences").
    kind: ClassVar[str]
    # The row model: it has the ``OutboxRow`` fields.
    model: ClassVar[type[OutboxRow]]

    # Columns (SQL) the claim's UPDATE returns on PostgreSQL, turned into rows by ``returned``; empty: the
    # claimed rows are read again with ``claimed`` (a queue whose rows need joins, as event forwarding's).
    returning: ClassVar[str] = ""

    def claimed(self, token: str) -> QuerySet[Any]:
        """The rows this run holds under ``token``, with whatever ``prepare`` reads loaded."""
        return self.model.objects.filter(claimed_by=token, status=DeliveryStatus.SENDING).order_by("pk")

    def returned(self, values: list[tuple[Any, ...]]) -> list[Any]:
        """The claimed rows from the values of ``returning`` (a queue that sets it implements this)."""
        raise NotImplementedError(f"{type(self).__name__} sets returning but not returned()")

    @abc.abstractmethod
    def prepare(self, capability: Capability, rows: Sequence[Any], *, now: float) -> tuple[list[tuple[Any, Any]], dict[str, list[int]]]:
        """Split claimed rows into (row, record) pairs to send and skip reason -> row pks (consent, window, ...)."""

    @abc.abstractmethod
    def key(self, record: Any) -> str:
        """The record's key, as the platform's per-record refusals (``SendResult.rejected``) name it."""

    def batches(self, capability: Capability, records: list[Any]) -> list[list[Any]]:
        """Request-sized groups of ``records`` (the capability's ``batch_limit`` by default)."""
        limit = int(getattr(capability, "batch_limit", 1000))
        return [records[i:i + limit] for i in range(0, len(records), limit)]

    @abc.abstractmethod
    def send(self, capability: Capability, records: list[Any]) -> SendResult:
        """Send one batch; raise ``PlatformAPIError`` when the platform refuses or fails."""

    def max_attempts(self) -> int:
        return int(app_settings.FORWARD_MAX_ATTEMPTS)

    def after_sent(self, pks: Sequence[int]) -> None:
        """Called with the rows just marked sent (one call per claim): keep any state that follows from them."""


def _ready(now: datetime, lease_seconds: int) -> Q:
    """Claimable: pending and due, or sending under a lease that expired (its worker died)."""
    due = Q(status=DeliveryStatus.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    abandoned = Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - timedelta(seconds=lease_seconds))
    return due | abandoned


def claim_batch(queue: Queue, slug: str, *, size: int, lease_seconds: int) -> tuple[str, list[Any]]:
    """Claim up to ``size`` due rows of ``queue`` for ``slug``; returns (token, rows).

    PostgreSQL: UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED), so two workers take disjoint
    rows without waiting.
    Elsewhere (SQLite): a conditional UPDATE that only matches rows still claimable, so a row taken
    by another worker in between is not taken twice.
    """
    model = queue.model
    token = secrets.token_hex(16)
    now = timezone.now()
    ready = _ready(now, lease_seconds)
    claim = {"status": DeliveryStatus.SENDING, "claimed_by": token, "claimed_at": now}
    if connection.vendor == "postgresql":
        # One UPDATE over the locked subquery: the ids never travel to Python and back (an IN list of
        # 10,000 parameters took longer than the update itself, bench/audiences.py). A queue with
        # ``returning`` gets its rows from this same statement instead of reading them again.
        with transaction.atomic(), connection.cursor() as cursor:
            due = model.objects.select_for_update(skip_locked=True).filter(ready, platform=slug).order_by("pk")
            select, params = due.values("pk")[:size].query.sql_with_params()
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"UPDATE {table} SET status = %s, claimed_by = %s, claimed_at = %s WHERE id IN ({select})"
                           + (f" RETURNING {queue.returning}" if queue.returning else ""),
                           [claim["status"], token, now, *params])
            if queue.returning:
                return token, queue.returned(cursor.fetchall())
            taken = cursor.rowcount > 0
    else:
        ids = list(model.objects.filter(ready, platform=slug).order_by("pk").values_list("pk", flat=True)[:size])
        taken = bool(ids) and model.objects.filter(ready, pk__in=ids).update(**claim) > 0
    if not taken:
        return token, []
    return token, list(queue.claimed(token))


def backoff_seconds(attempts: int, *, retry_after: float | None = None) -> float:
    """Delay before the next try: the platform's Retry-After when given, else exponential with jitter."""
    if retry_after is not None:
        return min(retry_after, BACKOFF_CAP_SECONDS)
    base = float(app_settings.FORWARD_BACKOFF_SECONDS)
    ceiling = min(base * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    return random.uniform(ceiling / 2, ceiling)  # "equal jitter": spread retries, keep a floor


class _Drain:
    """One platform's drain run of one queue; every write is guarded by this run's claim token."""

    def __init__(self, queue: Queue, capability: Capability, result: DrainResult) -> None:
        self.queue = queue
        self.capability = capability
        self.result = result
        self.token = ""
        self.pause = 0.0  # seconds the rest of a claim waits after a retryable error
        # Accepted rows are marked sent in one UPDATE per claim (not one per request): a worker that
        # dies before that re-sends them after the lease, which the platforms dedupe.
        self.accepted: list[int] = []

    def _finish(self, ids: Sequence[int], **fields: object) -> int:
        return self.queue.model.objects.filter(pk__in=list(ids), claimed_by=self.token, status=DeliveryStatus.SENDING).update(
            claimed_by="", updated_at=timezone.now(), **fields
        )

    def flush(self) -> None:
        """Mark the rows the platform accepted as sent."""
        if self.accepted:
            self.result.sent += self._finish(self.accepted, status=DeliveryStatus.SENT, sent_at=timezone.now(), reason="",
                                             error_status=None, attempts=F("attempts") + 1)
            self.queue.after_sent(self.accepted)
            self.accepted = []
            record_success(self.capability.slug, self.queue.kind)

    def release(self, rows: Sequence[Any], *, delay: float = 0.0) -> None:
        """Give claimed but unsent rows back (no attempt counted)."""
        later = timezone.now() + timedelta(seconds=delay) if delay else None
        self._finish([r.pk for r in rows], status=DeliveryStatus.PENDING, next_attempt_at=later, claimed_at=None)

    def run_batch(self, rows: list[Any]) -> bool:
        """Send one claimed batch; False when the platform must not be called again in this run."""
        sendable, skip = self.queue.prepare(self.capability, rows, now=time.time())
        for reason, ids in skip.items():
            self.result.skipped += self._finish(ids, status=DeliveryStatus.SKIPPED, reason=reason[:500])
        by_key = {self.queue.key(record): row for row, record in sendable}
        for group in self.queue.batches(self.capability, [record for _, record in sendable]):
            if not self.send(group, by_key):
                return False  # the caller releases the rest of the claim
        return True

    def send(self, records: list[Any], by_key: dict[str, Any]) -> bool:
        """Send ``records``; on a 4xx for a multi-record batch, bisect to isolate the bad ones."""
        keys = [self.queue.key(r) for r in records]
        rows = [by_key[k] for k in keys]
        self.result.batches += 1
        try:
            answer = self.queue.send(self.capability, records)
        except PlatformAPIError as exc:
            return self.on_error(exc, records, rows, by_key)
        rejected = dict(answer.rejected)
        for key, row in zip(keys, rows, strict=True):
            if key in rejected:
                self.result.failed += self._finish([row.pk], status=DeliveryStatus.FAILED, attempts=F("attempts") + 1,
                                                   reason=rejected[key][:500], error_status=answer.status)
            else:
                self.accepted.append(row.pk)
        return True

    def on_error(self, exc: PlatformAPIError, records: list[Any], rows: list[Any], by_key: dict[str, Any]) -> bool:
        """Record a refused batch: halt on credentials, back off on retryable errors, bisect on 4xx."""
        message = exc.message[:500]
        kind = self.queue.kind
        self.result.errors.append(str(exc))
        if exc.auth:
            # Revoked or wrong credentials: nothing can succeed until they change. Keep rows pending.
            record_error(self.capability, str(exc), halt=True)
            self.release(rows)
            self.result.stopped = f"credentials refused: {message}"
            return False
        record_error(self.capability, str(exc))
        if exc.retryable:
            max_attempts = self.queue.max_attempts()
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
        if len(records) > 1:
            # One invalid record rejects a whole batch on some APIs (Meta): split to send the good ones.
            half = len(records) // 2
            return self.send(records[:half], by_key) and self.send(records[half:], by_key)
        logger.info("%s %s refused one record: %s", self.capability.slug, kind, message)
        self.result.failed += self._finish([r.pk for r in rows], status=DeliveryStatus.FAILED, attempts=F("attempts") + 1,
                                           reason=message, error_status=exc.status)
        return True


def drain(platform: Platform, queue: Queue, *, deadline: float, claim_size: int | None = None) -> DrainResult:
    """Send ``platform``'s due rows of ``queue`` until none are left, the platform refuses, or ``deadline`` (monotonic)."""
    result = DrainResult(platform.slug, queue.kind)
    capability = platform.capability(queue.kind)
    halted = halted_reason(capability)
    if halted:
        result.stopped = f"halted, credentials refused: {halted}"
        return result
    size = claim_size or int(app_settings.FORWARD_CLAIM_SIZE)
    lease = int(app_settings.FORWARD_LEASE_SECONDS)
    run = _Drain(queue, capability, result)
    # A claim decodes, prepares and batches thousands of short-lived records: with the collector's default
    # threshold its passes (each also walking the claim in hand) took longer than preparing the records.
    with bulk_work():
        try:
            while time.monotonic() < deadline:
                run.token, rows = claim_batch(queue, platform.slug, size=size, lease_seconds=lease)
                if not rows:
                    break
                try:
                    keep_going = run.run_batch(rows)
                finally:
                    run.flush()
                    # Rows of this claim not finished (a stop mid-batch) go back to pending at once.
                    leftover = list(queue.model.objects.filter(claimed_by=run.token, status=DeliveryStatus.SENDING).only("pk"))
                    if leftover:
                        run.release(leftover, delay=run.pause)
                if not keep_going:
                    break
        finally:
            capability.close()
    logger.info("%s to %s: %d sent, %d failed, %d skipped, %d to retry%s", queue.kind, platform.slug, result.sent,
                result.failed, result.skipped, result.retried, f" ({result.stopped})" if result.stopped else "")
    return result


def retry_failed(model: type[OutboxRow], ids: Sequence[int]) -> int:
    """Put failed rows back in their queue now (admin's retry action); returns how many."""
    return model.objects.filter(pk__in=list(ids), status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=None, claimed_by="", claimed_at=None,
        updated_at=timezone.now(),
    )
