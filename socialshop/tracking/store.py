"""The one storage path for events: a bulk ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per batch.

The collector, server-side calls and simulated traffic all end here, so dedup on ``event_id`` and
one-Purchase-per-order hold for every source. Validation is ``tracking/collector.py``.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import orjson
from django.db import IntegrityError, connection, models
from django.dispatch import Signal

from socialshop.tracking.models import Event

# Sent after a batch is stored: ``event_ids`` (list of str) are the events that were new and may be
# shared with ad platforms. A hook for extensions: the forwarding outbox finds shareable events by
# scanning on its schedule (tracking/outbox.py), so the request path does nothing more per event.
events_stored = Signal()

# Defaults of every column a row may leave out.
ROW_DEFAULTS: dict[str, Any] = {
    "source": "browser", "visitor_id": "", "session_id": "", "user_id": None, "may_share": False, "gpc": False,
    "url": "", "referrer": "", "content_ids": [], "contents": [], "value": None, "currency": "", "order_id": "",
    "search_string": "", "post_id": "", "tag_id": "", "click_ids": {}, "utm": {}, "browser_ids": {},
    "user_data": {}, "user_agent": "", "ip": "", "properties": {},
}
_CONVERTED = (models.JSONField, models.DateTimeField, models.DecimalField)
_NUMBERS = (int, float, Decimal)  # bool is not among them: False is a default
_STAMPED = ("created_at", "updated_at")  # set to the row's received_at
_plans: dict[str, tuple[list[str], list[Any], str]] = {}
ON_CONFLICT = " ON CONFLICT DO NOTHING "
# Columns that describe the request rather than the event: sent once per request to PostgreSQL.
CONTEXT = ("source", "received_at", "visitor_id", "session_id", "user_id", "ip", "user_agent")
_SHARED = frozenset((*CONTEXT, *_STAMPED))


def _pg_default(value: Any) -> str:
    """SQL literal of a ROW_DEFAULTS value, for a key a JSON row leaves out."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return f"'{json.dumps(value)}'::jsonb"


def _plan() -> tuple[list[str], list[Any], str]:
    """Column attnames, a converter per column (or None) and the SQL head/statement; built once.

    PostgreSQL gets one constant statement with a single JSON parameter (``jsonb_to_recordset``):
    nothing to quote per value and a statement psycopg can cache. A JSON row carries only the
    keys it has: absent ones become their ``ROW_DEFAULTS`` in SQL (``COALESCE``), and
    ``created_at``/``updated_at`` are the row's ``received_at``. Other databases get a multi-row
    ``VALUES`` list (the SQL is finished per batch size in ``store_events``).
    """
    vendor = connection.vendor
    if vendor not in _plans:
        fields = [f for f in Event._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        table = quote(Event._meta.db_table)
        returning = f"RETURNING {quote('event_id')}, {quote('may_share')}"
        if vendor == "postgresql":
            def typed(group: list[Any]) -> str:
                return ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in group)

            def read(f: Any) -> str:
                ref = f"{'c' if f.attname in CONTEXT else 'r'}.{quote(f.column)}"
                if f.attname in _STAMPED:
                    return f"c.{quote('received_at')}"
                if ROW_DEFAULTS.get(f.attname) is not None:
                    return f"COALESCE({ref}, {_pg_default(ROW_DEFAULTS[f.attname])})"
                return ref

            context = [f for f in fields if f.attname in CONTEXT]
            own = [f for f in fields if f.attname not in CONTEXT and f.attname not in _STAMPED]
            select = ", ".join(read(f) for f in fields)
            # One JSON parameter: [{"c": request context, "e": [events]}, ...]. The context (visitor,
            # visit, user agent, IP, source, received_at) travels once per request, not once per
            # event. set_config(..., is_local) in the statement itself gives async commit without a
            # BEGIN/SET/COMMIT round trip; the flag is a parameter so one statement serves both modes.
            sql = (f"INSERT INTO {table} ({columns}) SELECT {select} FROM "
                   f"(SELECT set_config('synchronous_commit', %s, true)) AS cfg, "
                   f"jsonb_array_elements(%s::jsonb) AS part, "
                   f"jsonb_to_record(part->'c') AS c({typed(context)}), "
                   f"jsonb_to_recordset(part->'e') AS r({typed(own)}) "
                   f"{ON_CONFLICT}{returning}")
        else:
            sql = f"INSERT INTO {table} ({columns}) VALUES {{values}} ON CONFLICT DO NOTHING {returning}"
        converters = [f if isinstance(f, _CONVERTED) else None for f in fields]
        _plans[vendor] = ([f.attname for f in fields], converters, sql)
    return _plans[vendor]


def _json_default(value: Any) -> str:
    """orjson's fallback: ``Decimal`` values (event value) as strings; datetimes it writes itself."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _context(values: dict[str, Any]) -> dict[str, Any]:
    """A request context for the JSON groups: empty values left out (SQL fills the defaults)."""
    return {name: value for name, value in values.items() if value or value.__class__ in _NUMBERS}


def _json_rows(rows: Sequence[dict[str, Any]]) -> str:
    """``rows`` as ``[{"c": context, "e": [events]}, ...]`` for the PostgreSQL statement, as small as
    it can be: consecutive rows with the same request context share one ``c``; keys holding their
    column's default (``""``, ``[]``, ``{}``, ``False``, ``None``) are left out and filled in by SQL.
    """
    groups: list[dict[str, Any]] = []
    last: tuple[Any, ...] | None = None
    for row in rows:
        key = tuple(row.get(name) for name in CONTEXT)
        if key != last:
            events: list[dict[str, Any]] = []
            groups.append({"c": _context(dict(zip(CONTEXT, key))), "e": events})
            last = key
        # Falsy numbers (a value of 0) are kept: only the empty defaults may be dropped.
        events.append({k: v for k, v in row.items() if (v or v.__class__ in _NUMBERS) and k not in _SHARED})
    return orjson.dumps(groups, default=_json_default).decode()


def encode_batch(context: dict[str, Any], events: list[dict[str, Any]]) -> str:
    """PostgreSQL only: one request's events (compact dicts, as ``collector.reduce_event`` leaves
    them: no context keys, no empty values) with their request context, encoded for ``store_encoded``."""
    return orjson.dumps({"c": _context(context), "e": events}, default=_json_default).decode()


def store_batch(context: dict[str, Any], events: list[dict[str, Any]], *, notify: bool = True,
                async_commit: bool = False) -> list[str]:
    """Store one request's compact events with their request context (``collector.context_row``);
    returns the event_ids actually stored, like ``store_events``."""
    if not events:
        return []
    if connection.vendor == "postgresql":
        return store_encoded([encode_batch(context, events)], notify=notify, async_commit=async_commit, expect_new=True)
    return store_events(rows_of(context, events), notify=notify, async_commit=async_commit)


def rows_of(context: dict[str, Any], events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``store_events`` rows from one request's context and its compact events."""
    return [{**context, **event} for event in events]


def _execute_pg(sql: str, params: list[Any]) -> list[tuple[str, bool]]:
    """Run the insert with server-side binding: the JSON travels as a parameter, not as a quoted
    literal the server must scan (about a quarter less time per row, measured); unnamed
    statements, so poolers are fine. Errors are translated to Django's like any query."""
    import psycopg

    with connection.cursor() as wrapper, connection.wrap_database_errors:
        with psycopg.Cursor(wrapper.cursor.connection) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


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
    if connection.vendor == "postgresql":
        return store_encoded([encode_rows(rows)], notify=notify, async_commit=async_commit)
    names, converters, sql = _plan()
    params = []
    for row in rows:
        full = _full_row(row, names)
        for name, field in zip(names, converters):
            value = full[name]
            params.append(field.get_db_prep_save(value, connection) if field is not None and value is not None else value)
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    sql = sql.replace("{values}", ", ".join([one] * len(rows)))
    return _stored(_execute(sql, params), notify=notify)


def encode_rows(rows: Sequence[dict[str, Any]]) -> str:
    """PostgreSQL only: ``rows`` as the JSON groups ``store_encoded`` takes (comma-separated).

    The write buffer keeps this string instead of the row dicts: a string is not tracked by
    Python's garbage collector, while thousands of queued dicts made every full collection scan them.
    """
    return _json_rows(rows)[1:-1]


def store_encoded(parts: Sequence[str], *, notify: bool = True, async_commit: bool = False,
                  expect_new: bool = False) -> list[str]:
    """PostgreSQL only: store rows already encoded by ``encode_rows``/``encode_batch`` in one
    statement, as ``store_events`` does; returns the event_ids actually stored.

    ``expect_new``: duplicates are rare here (the collector: replays are few, and the write buffer
    drops those it has seen). Outside a transaction the rows then go in with a plain INSERT, about a
    quarter less database work than ``ON CONFLICT DO NOTHING``; a duplicate fails that statement
    (it wrote nothing) and the batch is written again with ``ON CONFLICT DO NOTHING``.
    """
    parts = [part for part in parts if part]
    if not parts:
        return []
    _names, _converters, sql = _plan()
    # Async commit: a database crash may lose the last moments (wal_writer_delay, ~0.2-0.6 s)
    # of collected events; an app crash loses nothing (docs/tracking.md). Inside a caller's
    # transaction the setting ends with that transaction.
    params = ["off" if async_commit else "on", "[" + ",".join(parts) + "]"]
    if expect_new and not connection.in_atomic_block:
        try:
            return _stored(_execute_pg(sql.replace(ON_CONFLICT, " "), params), notify=notify)
        except IntegrityError:
            pass  # autocommit: the failed statement wrote nothing; write the batch skipping duplicates
    return _stored(_execute_pg(sql, params), notify=notify)


def _stored(stored: list[tuple[str, bool]], *, notify: bool) -> list[str]:
    shared = [event_id for event_id, may_share in stored if may_share]
    if shared and notify:
        events_stored.send(sender=Event, event_ids=shared)
    return [event_id for event_id, _ in stored]


def unshare_visitor(visitor_id: str) -> int:
    """Mark a visitor's stored events not shareable (after opt-out, withdrawal or GPC); returns rows."""
    if not visitor_id:
        return 0
    return Event.objects.filter(visitor_id=visitor_id, may_share=True).update(may_share=False)
