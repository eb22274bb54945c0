"""The identifiers an audience upload sends: per visitor and account, the newest SHA-256 of each key the
store holds (``IdentityHash``), folded in from the event store's ``user_data`` after a cursor.

The store hashes a raw value the moment it passes through (privacy/hashing.py, at checkout and list
import) and the event keeps the hashes. ``refresh_identity`` folds them, one set-based upsert per pass
of new events, into one row per subject (``v:<visitor id>``, ``u:<account id>``) with a column per key;
each value is prefixed with its event's time and row id, so "the newest hash of each key" is the
greatest string, older events filling keys the newer lack, and merging a person's visitor and account
needs no dates decoded (``_newer``). The sync's diff joins a member's two rows once (``identity_joins``):
it queues only members a platform can match (``matchable_sql``), each with its hashes (``hashes_sql``),
so an upload never reads the events (docs/audiences.md, "Identity and hashing", "Performance"). Erasure and
retention keep the table in step (audiences/receivers.py).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timezone as dt_timezone
from typing import Any

from django.db import connection
from django.utils import timezone

from socialshop.audiences.models import CustomerListEntry, IdentityHash
from socialshop.core.db import writing
from socialshop.tracking.interest import event_id_window
from socialshop.tracking.models import Event, EventCursor

# The hash keys of privacy/hashing.py that uploads may send (IdentityHash's columns); nothing else leaves.
HASH_KEYS = ("em", "em_google", "ph", "ph_e164", "fn", "ln", "ct", "st", "zp", "country", "external_id")
CURSOR = "identity"
PASS_IDS = 1_000_000  # event ids per upsert statement: a first pass over a large store is bounded steps
CHUNK = 500  # subjects or ids per statement where they go in as literal parameters (SQLite's limit)
PREFIX = 39  # characters before the hash in a stored value: event time (20) and event row id (19)


def _t(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _newer(a: str, b: str) -> str:
    """SQL for the greater (newer) of two nullable stored values (SQLite's MAX(a, b) is NULL when one is)."""
    return f"CASE WHEN {b} IS NULL OR ({a} IS NOT NULL AND {a} > {b}) THEN {a} ELSE {b} END"


def _encoded(at: str, event_id: str, value: str) -> str:
    """SQL of a stored value: the event time as 20 digits (UTC, microseconds), the row id as 19, the hash."""
    if connection.vendor == "postgresql":
        return f"to_char({at}, 'YYYYMMDDHH24MISSUS') || lpad(CAST({event_id} AS TEXT), 19, '0') || {value}"
    # Django stores 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC on SQLite
    time = f"strftime('%%Y%%m%%d%%H%%M%%S', {at}) || substr(substr({at}, 21) || '000000', 1, 6)"
    return f"{time} || substr('0000000000000000000' || CAST({event_id} AS TEXT), -19) || {value}"


def _fill_sql(where: str) -> str:
    """INSERT ... SELECT ... ON CONFLICT of the hashes of the events matching ``where`` (SQL on ``e``, its
    parameters given twice): per subject and key the newest value, kept only where newer than the stored."""
    events, table = _t(Event), _t(IdentityHash)
    expand = ("CROSS JOIN LATERAL jsonb_each_text(s.user_data) j" if connection.vendor == "postgresql"
              else ", json_each(s.user_data) j")
    hashed = f"{where} AND e.user_data <> %s"
    subjects = (f"SELECT 'v:' || e.visitor_id AS subject, e.id, e.occurred_at, e.user_data FROM {events} e "
                f"WHERE {hashed} AND e.visitor_id <> '' UNION ALL "
                f"SELECT 'u:' || CAST(e.user_id AS TEXT), e.id, e.occurred_at, e.user_data FROM {events} e "
                f"WHERE {hashed} AND e.user_id IS NOT NULL")
    value = _encoded("s.occurred_at", "s.id", "j.value")
    # Only SHA-256 hex digests: the store writes nothing else, but a row from a restore or another writer
    # with a long or odd value must neither break every later fold (the columns' length) nor be uploaded.
    hexdigest = ("j.value ~ '^[0-9a-f]{64}$'" if connection.vendor == "postgresql"
                 else "length(j.value) = 64 AND j.value NOT GLOB '*[^0-9a-f]*'")
    picks = ", ".join(f"MAX(CASE WHEN j.key = '{k}' THEN {value} END)" for k in HASH_KEYS)
    keys = ", ".join(f"'{k}'" for k in HASH_KEYS)  # constants of this module, never input
    keep = ", ".join(f"{k} = {_newer(f'excluded.{k}', f'{table}.{k}')}" for k in HASH_KEYS)
    return (
        f"INSERT INTO {table} (subject, {', '.join(HASH_KEYS)}, occurred_at) "
        f"SELECT s.subject, {picks}, MAX(s.occurred_at) FROM ({subjects}) s {expand} "
        f"WHERE j.key IN ({keys}) AND j.value IS NOT NULL AND {hexdigest} GROUP BY s.subject "
        f"ON CONFLICT (subject) DO UPDATE SET {keep}, "
        f"occurred_at = {_newer('excluded.occurred_at', f'{table}.occurred_at')}"
    )


def _empty() -> Any:
    """``{}`` as the event table's ``user_data`` compares it (the partial indexes' condition)."""
    return Event._meta.get_field("user_data").get_db_prep_save({}, connection)


def refresh_identity() -> int:
    """Fold the hashes of events stored since the last pass into ``IdentityHash``; returns subjects written.

    Idempotent (a value only moves to a newer event), so the last minute's events are read again next
    time (``event_id_window``). Two callers at once: the second finds the cursor row locked and returns
    0 at once, the first one's pass covering both.
    """
    with writing():
        mark = EventCursor.objects.select_for_update(skip_locked=True).filter(name=CURSOR).first()
        if mark is None:
            EventCursor.objects.get_or_create(name=CURSOR)
            mark = EventCursor.objects.select_for_update(skip_locked=True).filter(name=CURSOR).first()
            if mark is None:
                return 0
        settled, newest = event_id_window(mark.last_event_id, now=timezone.now())
        written, low, sql, empty = 0, mark.last_event_id, _fill_sql("e.id > %s AND e.id <= %s"), _empty()
        with connection.cursor() as cursor:
            while low < newest:
                high = min(newest, low + PASS_IDS)
                cursor.execute(sql, [low, high, empty, low, high, empty])
                written += max(cursor.rowcount, 0)
                low = high
        if settled != mark.last_event_id:
            mark.last_event_id = settled
            mark.save(update_fields=["last_event_id", "updated_at"])
    return written


def forget_visitors(visitor_ids: Sequence[str]) -> int:
    """Erasure (before the events go: audiences' receivers are connected before tracking's): delete the
    visitors' rows and those of the accounts their events carried hashes for, then fold those accounts'
    other events in again; returns rows deleted."""
    table, events, empty = _t(IdentityHash), _t(Event), _empty()
    ids, accounts, deleted = list(visitor_ids), set(), 0
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT DISTINCT e.user_id FROM {events} e WHERE e.visitor_id IN ({marks}) "
                           f"AND e.user_data <> %s AND e.user_id IS NOT NULL", [*chunk, empty])
            accounts |= {int(u) for (u,) in cursor.fetchall()}
        subjects = [f"v:{v}" for v in ids] + [f"u:{u}" for u in sorted(accounts)]
        for start in range(0, len(subjects), CHUNK):
            chunk = subjects[start:start + CHUNK]
            cursor.execute(f"DELETE FROM {table} WHERE subject IN ({', '.join(['%s'] * len(chunk))})", chunk)
            deleted += max(cursor.rowcount, 0)
        users = sorted(accounts)
        gone = f"e.visitor_id NOT IN ({', '.join(['%s'] * len(ids))})" if ids else "1 = 1"
        for start in range(0, len(users), CHUNK):
            chunk = users[start:start + CHUNK]
            where = f"e.user_id IN ({', '.join(['%s'] * len(chunk))}) AND {gone}"
            cursor.execute(_fill_sql(where), [*chunk, *ids, empty, *chunk, *ids, empty])
    return deleted


def forget_before(cutoff: Any) -> int:
    """Retention: drop the values whose event happened before ``cutoff`` (purged), then the rows left
    without any; returns rows deleted. A full pass over the table (one row per hashed subject), daily."""
    table = _t(IdentityHash)
    bound = cutoff.astimezone(dt_timezone.utc).strftime("%Y%m%d%H%M%S%f")  # a stored value's time prefix
    stale = " OR ".join(f"{k} < %s" for k in HASH_KEYS)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {', '.join(f'{k} = CASE WHEN {k} < %s THEN NULL ELSE {k} END' for k in HASH_KEYS)} "
                       f"WHERE {stale}", [bound] * (2 * len(HASH_KEYS)))
        cursor.execute(f"DELETE FROM {table} WHERE {' AND '.join(f'{k} IS NULL' for k in HASH_KEYS)}")
        return max(cursor.rowcount, 0)


def identity_joins(row: str) -> str:
    """LEFT JOINs of ``row``'s (with visitor_id and user_id) visitor and account rows, as ``hv`` and ``hu``: at most
    one each (``subject`` is unique). ``matchable_sql`` and ``hashes_sql`` read them."""
    table = _t(IdentityHash)
    return (f"LEFT JOIN {table} hv ON hv.subject = 'v:' || {row}.visitor_id "
            f"LEFT JOIN {table} hu ON hu.subject = 'u:' || CAST({row}.user_id AS TEXT)")


def matchable_sql(keys: Sequence[str], row: str = "m") -> str:
    """SQL true (never NULL) for a member row ``row`` joined by ``identity_joins`` that has a hash under one of
    ``keys``: its visitor's or account's, its own email hash (``h:`` persons) or a customer-list row (``l:``,
    checked key by key when the upload is prepared)."""
    has = " OR ".join(f"h{side}.{k} IS NOT NULL" for k in keys if k in HASH_KEYS for side in "vu") or "1 = 0"
    own_email = f"{row}.person LIKE 'h:%%' OR " if "em" in keys else ""
    return f"({own_email}{row}.person LIKE 'l:%%' OR {has})"


def hashes_sql(row: str, keys: Sequence[str] = HASH_KEYS) -> str:
    """A JSON object expression giving each row ``row`` joined by ``identity_joins`` its hashes under ``keys``:
    per key the newer of its visitor's and its account's, an ``h:`` person's own email hash first; NULL for
    list rows (``l:``: their hashes are the list's, looked up when sent)."""
    pairs = []
    for k in (k for k in keys if k in HASH_KEYS):
        value = f"substr({_newer(f'hv.{k}', f'hu.{k}')}, {PREFIX + 1})"
        if k == "em":
            value = f"CASE WHEN {row}.person LIKE 'h:%%' THEN substr({row}.person, 3) ELSE {value} END"
        pairs.append(f"'{k}', {value}")
    if connection.vendor == "postgresql":
        build = f"json_strip_nulls(json_build_object({', '.join(pairs)}))"
    else:
        build = f"json_patch('{{}}', json_object({', '.join(pairs)}))"  # a merge patch onto {} drops the nulls
    return f"CASE WHEN {row}.person LIKE 'l:%%' THEN NULL ELSE {build} END"


def identifiers(rows: Sequence[Any]) -> dict[str, dict[str, str]]:
    """person -> hashes for the persons of ``rows`` (objects with person, visitor_id, user_id).

    ``h:`` persons carry their email hash in the key; ``l:`` persons are list rows hashed on import; the
    rest, and the ``h:`` persons' other keys, come from ``IdentityHash`` (call ``refresh_identity`` first),
    the newer of the visitor's and the account's value per key. Nothing is hashed here.
    """
    out: dict[str, dict[str, str]] = {}
    entries: dict[int, str] = {}
    subjects: dict[str, list[str]] = {}
    for row in rows:
        person = row.person
        out.setdefault(person, {})
        if person.startswith("l:"):
            entries[int(person[2:])] = person
            continue
        if row.visitor_id:
            subjects.setdefault(f"v:{row.visitor_id}", []).append(person)
        if row.user_id:
            subjects.setdefault(f"u:{int(row.user_id)}", []).append(person)
    keys = frozenset(HASH_KEYS)
    if entries:
        for entry_id, entry_hashes in CustomerListEntry.objects.filter(pk__in=list(entries)).values_list("pk", "hashes"):
            out[entries[entry_id]].update({k: v for k, v in (entry_hashes or {}).items() if k in keys and v})
    newest: dict[str, dict[str, str]] = {}
    for subject, *values in _stored(list(subjects)):
        for person in subjects[subject]:
            mine = newest.setdefault(person, {})
            for key, value in zip(HASH_KEYS, values):
                if value and value > mine.get(key, ""):
                    mine[key] = value
    for person, found in newest.items():
        out[person].update({k: v[PREFIX:] for k, v in found.items()})
    for person, hashes in out.items():
        if person.startswith("h:"):
            hashes["em"] = person[2:]  # the email hash their key carries
    return out


def _stored(subjects: list[str]) -> list[tuple[Any, ...]]:
    """(subject, one value per key) of ``subjects`` that have a row: one statement on PostgreSQL (the
    subjects as one JSON array, which adapts far faster than a long list parameter), chunks elsewhere."""
    if not subjects:
        return []
    table, columns = _t(IdentityHash), ", ".join(HASH_KEYS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT subject, {columns} FROM {table} "
                           f"WHERE subject IN (SELECT json_array_elements_text(%s::json))", [json.dumps(subjects)])
            return cursor.fetchall()
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(subjects), CHUNK):
            chunk = subjects[start:start + CHUNK]
            cursor.execute(f"SELECT subject, {columns} FROM {table} WHERE subject IN ({', '.join(['%s'] * len(chunk))})", chunk)
            out += cursor.fetchall()
        return out
