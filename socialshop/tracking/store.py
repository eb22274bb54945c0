"""The one storage path for events: a bulk ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per batch.

The collector, server-side calls and simulated traffic all end here, so dedup on ``event_id`` and
one-Purchase-per-order hold for every source. Validation is ``tracking/collector.py``.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
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
_plans: dict[str, tuple[list[str], list[Any], str]] = {}


def _plan() -> tuple[list[str], list[Any], str]:
    """Column attnames, a converter per column (or None) and the SQL head/statement; built once.

    PostgreSQL gets one constant statement with a single JSON parameter (``jsonb_to_recordset``):
    nothing to quote per value and a statement psycopg can cache. Other databases get a multi-row
    ``VALUES`` list (the SQL is finished per batch size in ``_generic_sql``).
    """
    vendor = connection.vendor
    if vendor not in _plans:
        fields = [f for f in Event._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        table = quote(Event._meta.db_table)
        returning = f"RETURNING {quote('event_id')}, {quote('may_share')}"
        if vendor == "postgresql":
            record = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
            # set_config(..., is_local) in the statement itself: async commit without a BEGIN/SET/COMMIT
            # round trip each. The flag is a parameter so one statement serves both modes.
            sql = (f"INSERT INTO {table} ({columns}) SELECT {columns} FROM "
                   f"(SELECT set_config('synchronous_commit', %s, true)) AS cfg, jsonb_to_recordset(%s::jsonb) AS r({record}) "
                   f"ON CONFLICT DO NOTHING {returning}")
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES {{values}} ON CONFLICT DO NOTHING {returning}"
        converters = [f if isinstance(f, _CONVERTED) else None for f in fields]
        _plans[vendor] = ([f.attname for f in fields], converters, sql)
    return _plans[vendor]


def _json_default(value: Any) -> str:
    if isinstance(value, (datetime, Decimal)):
        return value.isoformat() if isinstance(value, datetime) else str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _full_row(row: dict[str, Any], names: list[str]) -> dict[str, Any]:
    now = row["received_at"]
    return {name: (now if name in ("created_at", "updated_at") else row[name] if name in row else ROW_DEFAULTS[name])
            for name in names}


def _execute(sql: str, params: list[Any]) -> list[tuple[str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def store_events(rows: Sequence[dict[str, Any]], *, notify: bool = True, async_commit: bool = False) -> list[str]:
    """Insert ``rows`` (dicts of Event attnames; ``event_id``, ``name``, ``occurred_at``,
    ``received_at`` required) in one statement; returns the event_ids actually stored.

    A row whose ``event_id`` exists already, or a second Purchase for an ``order_id``, is skipped
    by the database (a duplicate, not an error). Never runs per-event ORM code. ``notify=False``
    (simulated traffic) sends no ``events_stored`` signal, so nothing is forwarded.
    ``async_commit`` (the collector, when ``COLLECT_ASYNC_COMMIT``) skips waiting for
    PostgreSQL's WAL flush.
    """
    if not rows:
        return []
    names, converters, sql = _plan()
    if connection.vendor == "postgresql":
        # Async commit: a database crash may lose the last moments (wal_writer_delay, ~0.2-0.6 s)
        # of collected events; an app crash loses nothing (docs/tracking.md). Inside a caller's
        # transaction the setting ends with that transaction.
        params: list[Any] = [
            "off" if async_commit else "on",
            json.dumps([_full_row(row, names) for row in rows], default=_json_default),
        ]
    else:
        params = []
        for row in rows:
            full = _full_row(row, names)
            for name, field in zip(names, converters):
                value = full[name]
                params.append(field.get_db_prep_save(value, connection) if field is not None and value is not None else value)
        one = "(" + ", ".join(["%s"] * len(names)) + ")"
        sql = sql.replace("{values}", ", ".join([one] * len(rows)))
    stored = _execute(sql, params)
    shared = [event_id for event_id, may_share in stored if may_share]
    if shared and notify:
        events_stored.send(sender=Event, event_ids=shared)
    return [event_id for event_id, _ in stored]


def unshare_visitor(visitor_id: str) -> int:
    """Mark a visitor's stored events not shareable (after opt-out, withdrawal or GPC); returns rows."""
    if not visitor_id:
        return 0
    return Event.objects.filter(visitor_id=visitor_id, may_share=True).update(may_share=False)
