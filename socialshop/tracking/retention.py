"""Retention: delete events older than ``EVENT_RETENTION_DAYS`` at a constant cost per row, whatever the
table's size, in small batches of short transactions so the collector keeps inserting meanwhile.

Each batch is one slice of one event name on the name–time index (``ss_event_name_time_cov``), and the
next batch starts strictly after it (a moving lower bound): deleted rows stay in the table until VACUUM,
and a ``WHERE occurred_at < cutoff LIMIT n`` batch would step over all of them again every time
(quadratic: its lookup grew from 5 ms to 51 ms over one 10M-row run). A batch deletes its events'
outbox deliveries first, set-based, then the events; ``Delivery.event`` has no database constraint,
so the delete pays no per-row foreign-key trigger. Every run is recorded as a ``PurgeRun`` (admin's
events list shows the last one). Entry points: ``purge_old_events``, the task ``socialshop.purge_events``
and the command ``socialshop_purge_events``. Figures: docs/scaling.md.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.dispatch import Signal
from django.utils import timezone

from socialshop.conf import app_settings
from socialshop.core.db import writing
from socialshop.core.jobs import single_flight
from socialshop.exceptions import ConfigurationError
from socialshop.tracking.models import Delivery, Event, Interest, PurgeRun

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 2000
# Seconds between batches, at least. A batch of 5,000 takes about 50 ms on a quiet machine; without a
# pause a backlog purge keeps a core busy, and on two cores it cost a saturated collector half its
# req/s (p99 96 vs 42 ms). The pause hands the CPU back between batches (bench/collect.py
# --during-purge; the runs, noisy on a shared machine, are in docs/scaling.md). An hourly run has a
# few batches: the pause costs it nothing.
DEFAULT_PAUSE = 0.05
# Beyond ``pause``, a run waits YIELD times as long as its last batch took: a purge never holds more
# than half of one core, and backs off by itself when the database is busy (its batches get slower
# exactly when the collector's requests do). 2,000-event batches keep each burst short.
YIELD = 1.0
KEEP_RUNS = 200

# Sent after a run that reached its cutoff, with ``cutoff``: areas above tracking drop what they derived
# from the purged events (audiences/receivers.py: visitor links whose visitor has no event left).
events_purged = Signal()

# progress(events deleted so far, batches so far, event name being purged)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What one retention run did; ``complete`` is False when ``max_batches`` stopped it first."""

    cutoff: datetime
    deleted: int
    deliveries_deleted: int
    interest_deleted: int
    batches: int
    complete: bool
    seconds: float


def _t(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _at(value: object) -> object:
    """A time as this database's raw cursor takes it (SQLite keeps naive UTC text); other values as they are."""
    return connection.ops.adapt_datetimefield_value(value) if isinstance(value, datetime) else value


def event_names() -> list[str]:
    """The distinct event names stored. On PostgreSQL a loose index scan of the name–time index (one
    probe per name, whatever the table's size); elsewhere a plain DISTINCT."""
    table = _t(Event)
    if connection.vendor == "postgresql":
        sql = (f"WITH RECURSIVE n AS ((SELECT name FROM {table} ORDER BY name LIMIT 1) UNION ALL "
               f"SELECT (SELECT e.name FROM {table} e WHERE e.name > n.name ORDER BY e.name LIMIT 1) "
               f"FROM n WHERE n.name IS NOT NULL) SELECT name FROM n WHERE name IS NOT NULL")
    else:
        sql = f"SELECT DISTINCT name FROM {table} ORDER BY name"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def _batch_end(cursor: object, name: str, lower: object, cutoff: datetime, batch_size: int) -> object:
    """The ``batch_size``-th due time of ``name`` after ``lower`` (the batch's inclusive end), or None when
    fewer remain (the batch then runs to the cutoff)."""
    after = "AND occurred_at > %s " if lower is not None else ""
    params: list[object] = [name, *([_at(lower)] if lower is not None else []), _at(cutoff), batch_size - 1]
    cursor.execute(  # type: ignore[attr-defined]
        f"SELECT occurred_at FROM {_t(Event)} WHERE name = %s {after}AND occurred_at < %s "
        f"ORDER BY occurred_at LIMIT 1 OFFSET %s", params)
    row = cursor.fetchone()  # type: ignore[attr-defined]
    return row[0] if row else None


def _delete_slice(name: str, lower: object, upper: object, cutoff: datetime) -> tuple[int, int]:
    """Delete the deliveries, then the events, of ``name`` in (lower, upper] and before ``cutoff``; one
    short transaction. Returns (events, deliveries) deleted."""
    where = "name = %s AND occurred_at < %s"
    params: list[object] = [name, _at(cutoff)]
    if lower is not None:
        where += " AND occurred_at > %s"
        params.append(_at(lower))
    if upper is not None:
        where += " AND occurred_at <= %s"
        params.append(_at(upper))
    with writing(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one pass over the slice: the deliveries go by the deleted ids
            cursor.execute(
                f"WITH gone AS (DELETE FROM {_t(Event)} WHERE {where} RETURNING id), "
                f"d AS (DELETE FROM {_t(Delivery)} WHERE event_id IN (SELECT id FROM gone) RETURNING 1) "
                f"SELECT (SELECT COUNT(*) FROM gone), (SELECT COUNT(*) FROM d)", params)
            events, deliveries = cursor.fetchone()
            return int(events), int(deliveries)
        cursor.execute(f"DELETE FROM {_t(Delivery)} WHERE event_id IN (SELECT id FROM {_t(Event)} WHERE {where})", params)
        deliveries = max(cursor.rowcount, 0)
        cursor.execute(f"DELETE FROM {_t(Event)} WHERE {where}", params)
        return max(cursor.rowcount, 0), deliveries


def purge_interest(cutoff: datetime) -> int:
    """Delete interest rows whose every time is before ``cutoff`` (they came only from purged events).

    ``Interest.updated_at`` is the latest of a row's times, so this is a range of its index: the cost
    follows the rows deleted, not the table's size.
    """
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_t(Interest)} WHERE updated_at < %s", [_at(cutoff)])
        return max(cursor.rowcount, 0)


def purge_old_events(
    *, days: int | None = None, before: datetime | None = None, batch_size: int = DEFAULT_BATCH,
    max_batches: int | None = None, pause: float = DEFAULT_PAUSE, progress: Progress | None = None,
) -> PurgeResult:
    """Delete events that occurred more than ``days`` (default ``EVENT_RETENTION_DAYS``) days ago, with
    their deliveries and the interest rows only they made; returns a ``PurgeResult``. ``before`` (an
    aware time) replaces the age for a one-off or a bench.

    ``max_batches`` bounds one run (the next run continues where the data says); ``pause`` seconds
    between batches, or as long as the last batch took if that is longer (``YIELD``), leave room for
    the collector on a busy database; ``pause=0`` runs the batches back to back. Single-flight: raises
    ``JobLocked`` while another run purges. Raises ``ConfigurationError`` for a bad ``days``/``batch_size``.
    """
    days = int(app_settings.EVENT_RETENTION_DAYS) if days is None else days
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ConfigurationError(f"retention days = {days!r}: use a whole number of days, at least 1")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigurationError(f"retention batch_size = {batch_size!r}: use a whole number, at least 1")
    say = progress or (lambda deleted, batches, name: None)
    with single_flight("socialshop.purge_events"):
        started = time.monotonic()
        now = timezone.now()
        cutoff = before if before is not None else now - timedelta(days=days)
        run = PurgeRun.objects.create(started_at=now, cutoff=cutoff)
        deleted = deliveries = batches = interest = 0
        complete = False
        try:
            complete = True
            for name in event_names():
                lower: object = None
                while True:
                    if max_batches is not None and batches >= max_batches:
                        complete = False
                        break
                    batch_started = time.monotonic()
                    with connection.cursor() as cursor:
                        upper = _batch_end(cursor, name, lower, cutoff, batch_size)
                    events, dels = _delete_slice(name, lower, upper, cutoff)
                    took = time.monotonic() - batch_started
                    batches += 1
                    deleted, deliveries = deleted + events, deliveries + dels
                    say(deleted, batches, name)
                    if upper is None:
                        break  # the rest of this name, up to the cutoff, was the last slice
                    lower = upper
                    if pause:
                        time.sleep(max(pause, took * YIELD))
                if not complete:
                    break
            if complete:
                interest = purge_interest(cutoff)
                events_purged.send(sender=PurgeRun, cutoff=cutoff)
        except Exception as exc:
            run.error = f"{type(exc).__name__}: {exc}"[:2000]
            complete = False
            raise
        finally:
            run.finished_at, run.deleted, run.deliveries_deleted = timezone.now(), deleted, deliveries
            run.batches, run.complete = batches, complete
            run.save()
            stale = list(PurgeRun.objects.values_list("pk", flat=True)[KEEP_RUNS:])
            if stale:
                PurgeRun.objects.filter(pk__in=stale).delete()
    if deleted:
        logger.info("deleted %d events (%d deliveries) older than %s in %d batches", deleted, deliveries,
                    cutoff.isoformat(), batches)
    return PurgeResult(cutoff=cutoff, deleted=deleted, deliveries_deleted=deliveries, interest_deleted=interest,
                       batches=batches, complete=complete, seconds=time.monotonic() - started)


def last_run() -> PurgeRun | None:
    """The most recent retention run, for admin."""
    return PurgeRun.objects.order_by("-started_at").first()
