"""The one storage path for events: a bulk ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per batch.

The collector, server-side calls and simulated traffic all end here, so dedup on ``event_id`` and
one-Purchase-per-order hold for every source. Validation is ``tracking/collector.py``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.dispatch import Signal

from socialshop.tracking.models import Event

# Sent after a batch is stored: ``event_ids`` (list of str) are the events that were new and may be
# shared with ad platforms (the forwarding outbox listens; nothing else is needed per event).
events_stored = Signal()

# Defaults of every column a row may leave out.
ROW_DEFAULTS: dict[str, Any] = {
    "source": "browser", "visitor_id": "", "session_id": "", "user_id": None, "may_share": False, "gpc": False,
    "url": "", "referrer": "", "content_ids": [], "contents": [], "value": None, "currency": "", "order_id": "",
    "search_string": "", "post_id": "", "tag_id": "", "click_ids": {}, "utm": {}, "browser_ids": {},
    "user_data": {}, "user_agent": "", "ip": "", "properties": {},
}
_CONVERTED = (models.JSONField, models.DateTimeField, models.DecimalField)
_plan: tuple[list[str], list[Any], str] | None = None


def _columns() -> tuple[list[str], list[Any], str]:
    """Column attnames, a converter per column (or None) and the quoted column list; built once."""
    global _plan
    if _plan is None:
        fields = [f for f in Event._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        converters = [f if isinstance(f, _CONVERTED) else None for f in fields]
        _plan = ([f.attname for f in fields], converters, ", ".join(quote(f.column) for f in fields))
    return _plan


def store_events(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Insert ``rows`` (dicts of Event attnames; ``event_id``, ``name``, ``occurred_at``,
    ``received_at`` required) in one statement; returns the event_ids actually stored.

    A row whose ``event_id`` exists already, or a second Purchase for an ``order_id``, is skipped
    by the database (a duplicate, not an error). Never runs per-event ORM code.
    """
    if not rows:
        return []
    names, converters, column_sql = _columns()
    params: list[Any] = []
    for row in rows:
        now = row["received_at"]
        for name, field in zip(names, converters):
            if name in ("created_at", "updated_at"):
                value = now
            else:
                value = row[name] if name in row else ROW_DEFAULTS[name]
            params.append(field.get_db_prep_save(value, connection) if field is not None and value is not None else value)
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    table = connection.ops.quote_name(Event._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({column_sql}) VALUES {', '.join([one] * len(rows))} "
        f"ON CONFLICT DO NOTHING RETURNING {connection.ops.quote_name('event_id')}, {connection.ops.quote_name('may_share')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        stored = cursor.fetchall()
    shared = [event_id for event_id, may_share in stored if may_share]
    if shared:
        events_stored.send(sender=Event, event_ids=shared)
    return [event_id for event_id, _ in stored]


def unshare_visitor(visitor_id: str) -> int:
    """Mark a visitor's stored events not shareable (after opt-out, withdrawal or GPC); returns rows."""
    if not visitor_id:
        return 0
    return Event.objects.filter(visitor_id=visitor_id, may_share=True).update(may_share=False)
