"""Reads of the event store that more than one concern needs, in set-based SQL (never a loop over events).

Today: catalog ids referenced and purchase counts, for the best-seller label rule (``feeds/rules.py``) and
the catalogue-match report (``feeds/doctor.py``); audiences, picks and results read through here too.
The JSON list ``Event.content_ids`` is unnested in the database (jsonb_array_elements_text / json_each).
"""
from __future__ import annotations

from datetime import datetime

from django.db import connection

from socialshop.tracking.models import Event


def _unnest_sql(*, since: bool, name: bool) -> str:
    """Grouped unnesting SQL for this database, or '' when the vendor has no JSON set function here."""
    table = connection.ops.quote_name(Event._meta.db_table)
    where = []
    if since:
        where.append("e.occurred_at >= %s")
    if name:
        where.append("e.name = %s")
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    if connection.vendor == "postgresql":
        return (f"SELECT j.value AS cid, COUNT(*) FROM {table} e "
                f"CROSS JOIN LATERAL jsonb_array_elements_text(e.content_ids::jsonb) AS j(value){clause} GROUP BY j.value")
    if connection.vendor == "sqlite":
        return (f"SELECT j.value AS cid, COUNT(*) FROM {table} e, json_each(e.content_ids) j"
                f"{clause}{' AND' if where else ' WHERE'} json_valid(e.content_ids) GROUP BY j.value")
    return ""


def content_id_counts(*, since: datetime | None = None, name: str | None = None) -> dict[str, int]:
    """Each catalog id in ``Event.content_ids`` (optionally since a time / for one event name) -> events.

    One grouped query; memory grows with distinct ids, not with events.
    """
    sql = _unnest_sql(since=since is not None, name=name is not None)
    if not sql:  # other databases: same answer, streamed through Python
        return _counts_in_python(since=since, name=name)
    params: list[object] = []
    if since is not None:
        params.append(connection.ops.adapt_datetimefield_value(since))
    if name is not None:
        params.append(name)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {str(cid): int(count) for cid, count in cursor.fetchall() if cid not in (None, "")}


def _counts_in_python(*, since: datetime | None, name: str | None) -> dict[str, int]:
    events = Event.objects.all()
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    if name is not None:
        events = events.filter(name=name)
    counts: dict[str, int] = {}
    for ids in events.values_list("content_ids", flat=True).iterator(chunk_size=5000):
        for cid in ids or ():
            if cid not in (None, ""):
                counts[str(cid)] = counts.get(str(cid), 0) + 1
    return counts
