"""Per-visitor product interest (``Interest``): each visitor's latest view, cart and purchase of each
product, kept from new events by one set-based upsert per pass, and the picks read from it.

Passes read events by id after a cursor (``EventCursor`` 'interest'); the task is
``socialshop.update_interest`` (beat: core/jobs.py). Retention drops rows made only of purged events
(tracking/retention.py). The audiences' own rules are audiences/rules.py.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from socialshop.core.db import writing
from socialshop.core.jobs import single_flight
from socialshop.exceptions import ConfigurationError
from socialshop.tracking.models import Event, EventCursor, Interest

logger = logging.getLogger(__name__)

CURSOR = "interest"
# Events received less than this long ago are read, and read again by the next pass: an insert that
# took an id earlier but commits later is still read.
SETTLE = timedelta(seconds=60)
# One upsert statement reads at most this many event ids (a rebuild runs several), so a pass over a
# large backlog is a series of bounded transactions.
PASS_IDS = 1_000_000
SQLITE_CHUNK = 500  # visitor ids per statement on SQLite (bound parameters)
MAX_PICKS = 100
_COLUMNS = ("last_viewed_at", "last_carted_at", "purchased_at")
_NAMES = {"last_viewed_at": "ViewContent", "last_carted_at": "AddToCart", "purchased_at": "Purchase"}


@dataclass(frozen=True, slots=True)
class InterestPass:
    """One update: interest rows written and the event id the cursor moved to."""

    rows: int
    last_event_id: int


def _t(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _later(a: str, b: str) -> str:
    """SQL for the later of two nullable times (portable: SQLite's MAX(a, b) is NULL when one is)."""
    return f"CASE WHEN {b} IS NULL OR ({a} IS NOT NULL AND {a} > {b}) THEN {a} ELSE {b} END"


def _upsert_sql() -> str:
    """INSERT ... SELECT ... ON CONFLICT DO UPDATE of the interest rows of events with ids in (%s, %s];
    ``updated_at`` is the latest of the row's times."""
    events, interest = _t(Event), _t(Interest)
    if connection.vendor == "postgresql":
        source = f"{events} e CROSS JOIN LATERAL jsonb_array_elements_text(e.content_ids::jsonb) AS j(value)"
        valid = " AND jsonb_typeof(e.content_ids::jsonb) = 'array'"
    else:
        source = f"{events} e, json_each(e.content_ids) j"
        valid = " AND json_valid(e.content_ids) AND json_type(e.content_ids) = 'array'"
    picks = ", ".join(f"MAX(CASE WHEN e.name = '{name}' THEN e.occurred_at END)" for name in _NAMES.values())
    names = ", ".join(f"'{name}'" for name in _NAMES.values())
    keep = ", ".join(f"{c} = {_later(f'excluded.{c}', f'{interest}.{c}')}" for c in _COLUMNS)
    return (
        f"INSERT INTO {interest} (visitor_id, product_id, {', '.join(_COLUMNS)}, updated_at) "
        f"SELECT e.visitor_id, SUBSTR(j.value, 1, 100), {picks}, MAX(e.occurred_at) FROM {source} "
        f"WHERE e.id > %s AND e.id <= %s AND e.name IN ({names}) AND e.visitor_id <> ''{valid} "
        f"AND j.value IS NOT NULL AND j.value <> '' GROUP BY e.visitor_id, SUBSTR(j.value, 1, 100) "
        f"ON CONFLICT (visitor_id, product_id) DO UPDATE SET {keep}, "
        f"updated_at = {_later('excluded.updated_at', f'{interest}.updated_at')}"
    )


def event_id_window(after: int, *, now: datetime) -> tuple[int, int]:
    """(settled, newest) event ids above ``after``: ``newest`` is the largest id stored, ``settled`` the
    largest received at least ``SETTLE`` ago (both ``after`` when there are none).

    A reader folds in everything up to ``newest`` (idempotently) but moves its cursor only to
    ``settled``: an insert that took a smaller id and commits a little later is still read next time.
    """
    # One round trip for both (each still a backward walk of the id index): every audience build and
    # interest pass asks, and a build's fixed statements outweigh a small rule at 1M events (bench/audiences.py).
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT (SELECT MAX(id) FROM {_t(Event)} WHERE id > %s), "
                       f"(SELECT MAX(id) FROM {_t(Event)} WHERE id > %s AND received_at < %s)",
                       [after, after, connection.ops.adapt_datetimefield_value(now - SETTLE)])
        newest, settled = cursor.fetchone()
    if newest is None:
        return after, after
    return (int(settled) if settled is not None else after), int(newest)


def _apply(after: int, upper: int) -> int:
    """Upsert the interest of events in (after, upper] in one statement per ``PASS_IDS`` ids; rows written."""
    sql, rows, low = _upsert_sql(), 0, after
    with connection.cursor() as cursor:
        while low < upper:
            high = min(upper, low + PASS_IDS)
            cursor.execute(sql, [low, high])
            rows += max(cursor.rowcount, 0)
            low = high
    return rows


def update_interest() -> InterestPass:
    """Fold the events stored since the last pass into ``Interest``; returns what it wrote.

    Idempotent (times only move forward), so the last minute's events are read again next pass
    (``event_id_window``). Single-flight: raises ``JobLocked`` while another pass runs.
    """
    with single_flight("socialshop.update_interest"):
        with writing():
            cursor_row, _ = EventCursor.objects.select_for_update().get_or_create(name=CURSOR)
            after = cursor_row.last_event_id
            settled, newest = event_id_window(after, now=timezone.now())
            rows = _apply(after, newest) if newest > after else 0
            if settled != after:
                cursor_row.last_event_id = settled
                cursor_row.save(update_fields=["last_event_id", "updated_at"])
    if rows:
        logger.info("interest: %d rows from events up to id %d", rows, newest)
    return InterestPass(rows=rows, last_event_id=settled)


def rebuild_interest() -> InterestPass:
    """Recompute ``Interest`` from every stored event (after a privacy erasure or a restore), in one
    transaction: readers see the old table until the new one is complete."""
    with single_flight("socialshop.update_interest"):
        with writing():
            cursor_row, _ = EventCursor.objects.select_for_update().get_or_create(name=CURSOR)
            Interest.objects.all().delete()
            settled, newest = event_id_window(0, now=timezone.now())
            rows = _apply(0, newest)
            cursor_row.last_event_id = settled
            cursor_row.save(update_fields=["last_event_id", "updated_at"])
    logger.info("interest rebuilt: %d rows from events up to id %d", rows, newest)
    return InterestPass(rows=rows, last_event_id=settled)


def picks_sql(placeholder: str) -> str:
    """Per visitor in ``placeholder`` (a visitor-id set), their viewed or carted, never purchased products,
    most recent first, numbered ``rn`` (caller keeps ``rn <= limit``)."""
    latest = _later("i.last_carted_at", "i.last_viewed_at")
    return (f"SELECT r.visitor_id, r.product_id FROM (SELECT i.visitor_id, i.product_id, ROW_NUMBER() OVER "
            f"(PARTITION BY i.visitor_id ORDER BY {latest} DESC, i.product_id) AS rn FROM {_t(Interest)} i "
            f"WHERE i.visitor_id {placeholder} AND i.purchased_at IS NULL "
            f"AND (i.last_viewed_at IS NOT NULL OR i.last_carted_at IS NOT NULL)) r "
            f"WHERE r.rn <= %s ORDER BY r.visitor_id, r.rn")


def picks_for(visitor_ids: Sequence[str], limit: int = 10) -> dict[str, list[str]]:
    """visitor id -> up to ``limit`` product ids they viewed or carted and never bought, most recent first.

    Set-based: one query for all visitors (chunks of ``SQLITE_CHUNK`` on SQLite). Visitors with nothing
    to pick are absent. Raises ``ConfigurationError`` for a ``limit`` outside 1..100.
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PICKS:
        raise ConfigurationError(f"picks limit = {limit!r}: use a whole number from 1 to {MAX_PICKS}")
    ids = sorted({str(v) for v in visitor_ids if v})
    picks: dict[str, list[str]] = {}
    if not ids:
        return picks
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(picks_sql("= ANY(%s)"), [ids, limit])
            rows = cursor.fetchall()
        else:
            rows = []
            for start in range(0, len(ids), SQLITE_CHUNK):
                chunk = ids[start:start + SQLITE_CHUNK]
                cursor.execute(picks_sql(f"IN ({', '.join(['%s'] * len(chunk))})"), [*chunk, limit])
                rows += cursor.fetchall()
    for visitor_id, product_id in rows:
        picks.setdefault(visitor_id, []).append(product_id)
    return picks
