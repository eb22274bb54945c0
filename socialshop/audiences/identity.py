"""The identifiers an audience upload sends: per visitor and account, the newest SHA-256 of each key the
store holds (``IdentityHash``), folded in from the event store's ``user_data`` after a cursor.

The store hashes a raw value the moment it passes through (privacy/hashing.py, at checkout and list
import); the event keeps the hashes. ``refresh_identity`` copies them, one set-based upsert per pass
of new events, into one narrow row per (subject, key): ``v:<visitor id>`` and ``u:<account id>``, the
newest event winning per key and older events filling keys the newer lack. An upload then reads a
few index rows per member (``identifiers``) and the sync queues only members a platform can match
(``matchable_sql``), instead of reading every member's events (docs/audiences.md, "Performance").
Erasure and retention keep the table in step (audiences/receivers.py).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from socialshop.audiences.models import CustomerListEntry, IdentityHash
from socialshop.tracking.interest import event_id_window
from socialshop.tracking.models import Event, EventCursor

# The hash keys of privacy/hashing.py that uploads may send; anything else in ``user_data`` never leaves.
HASH_KEYS = ("em", "em_google", "ph", "ph_e164", "fn", "ln", "ct", "st", "zp", "country", "external_id")
CURSOR = "identity"
PASS_IDS = 1_000_000  # event ids per upsert statement: a first pass over a large store is bounded steps
CHUNK = 500  # subjects or ids per statement where they go in as literal parameters (SQLite's limit)


def _t(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _keys_sql() -> str:
    return ", ".join(f"'{key}'" for key in HASH_KEYS)  # constants of this module, never input


def _fill_sql(where: str) -> str:
    """INSERT ... SELECT ... ON CONFLICT of the hashes of the events matching ``where`` (SQL on ``e``): per
    subject and key the newest event's value, replacing a stored one only when newer."""
    events, table = _t(Event), _t(IdentityHash)
    if connection.vendor == "postgresql":
        expand = "CROSS JOIN LATERAL jsonb_each_text(s.user_data) j"
    else:
        expand = ", json_each(s.user_data) j"
    hashed = f"{where} AND e.user_data <> %s"
    subjects = (f"SELECT 'v:' || e.visitor_id AS subject, e.id, e.occurred_at, e.visitor_id, e.user_data FROM {events} e "
                f"WHERE {hashed} AND e.visitor_id <> '' UNION ALL "
                f"SELECT 'u:' || CAST(e.user_id AS TEXT), e.id, e.occurred_at, e.visitor_id, e.user_data FROM {events} e "
                f"WHERE {hashed} AND e.user_id IS NOT NULL")
    newer = (f"excluded.occurred_at > {table}.occurred_at OR "
             f"(excluded.occurred_at = {table}.occurred_at AND excluded.event_id > {table}.event_id)")
    return (
        f"INSERT INTO {table} (subject, {connection.ops.quote_name('key')}, value, occurred_at, event_id, visitor_id) "
        f"SELECT x.subject, x.k, x.v, x.occurred_at, x.id, x.visitor_id FROM (SELECT s.subject, j.key AS k, j.value AS v, "
        f"s.occurred_at, s.id, s.visitor_id, ROW_NUMBER() OVER (PARTITION BY s.subject, j.key "
        f"ORDER BY s.occurred_at DESC, s.id DESC) AS rn FROM ({subjects}) s {expand} "
        f"WHERE j.key IN ({_keys_sql()}) AND j.value IS NOT NULL AND j.value <> '') x WHERE x.rn = 1 "
        f"ON CONFLICT (subject, {connection.ops.quote_name('key')}) DO UPDATE SET value = excluded.value, "
        f"occurred_at = excluded.occurred_at, event_id = excluded.event_id, visitor_id = excluded.visitor_id WHERE {newer}"
    )


def _empty() -> Any:
    """``{}`` as the event table's ``user_data`` compares it (the partial indexes' condition)."""
    return Event._meta.get_field("user_data").get_db_prep_save({}, connection)


def refresh_identity() -> int:
    """Fold the hashes of events stored since the last pass into ``IdentityHash``; returns rows written.

    Idempotent (a row only moves to a newer event), so the last minute's events are read again next
    time (``event_id_window``). Two callers at once: the second finds the cursor row locked and returns
    0 at once, the first one's pass covering both.
    """
    with transaction.atomic():
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


def refill_accounts(user_ids: Sequence[int], *, without_visitors: Sequence[str] = ()) -> None:
    """Fold the stored events of these accounts in again, leaving out the events of ``without_visitors``
    (an erasure: whichever receiver runs first, the erased visitor's events never come back)."""
    ids, gone = sorted({int(u) for u in user_ids}), list(without_visitors)
    empty = _empty()
    skip = f" AND e.visitor_id NOT IN ({', '.join(['%s'] * len(gone))})" if gone else ""
    with connection.cursor() as cursor:
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(_fill_sql(f"e.user_id IN ({marks}){skip}"), [*chunk, *gone, empty, *chunk, *gone, empty])


def forget_visitors(visitor_ids: Sequence[str]) -> int:
    """Erasure: delete every row that came from these visitors' events (their own and those of the accounts
    they signed in to), then fold the accounts' remaining events in again; returns rows deleted."""
    table, deleted, accounts = _t(IdentityHash), 0, set()
    with connection.cursor() as cursor:
        for start in range(0, len(visitor_ids), CHUNK):
            chunk = list(visitor_ids[start:start + CHUNK])
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"SELECT DISTINCT subject FROM {table} WHERE visitor_id IN ({marks}) AND subject LIKE 'u:%%'", chunk)
            accounts |= {int(subject[2:]) for (subject,) in cursor.fetchall()}
            cursor.execute(f"DELETE FROM {table} WHERE visitor_id IN ({marks})", chunk)
            deleted += max(cursor.rowcount, 0)
    if accounts:
        refill_accounts(sorted(accounts), without_visitors=visitor_ids)
    return deleted


def forget_before(cutoff: Any) -> int:
    """Retention: delete rows whose event happened before ``cutoff`` (the events are gone, and every other
    event of that subject and key was older still)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_t(IdentityHash)} WHERE occurred_at < %s",
                       [connection.ops.adapt_datetimefield_value(cutoff)])
        return max(cursor.rowcount, 0)


def matchable_sql(keys: Sequence[str], member: str = "m") -> str:
    """SQL true for a member row ``member`` (person, visitor_id, user_id) that has a hash under one of ``keys``:
    a stored hash of its visitor or account, its own email hash (``h:`` persons) or a customer-list row
    (``l:``, checked key by key when the upload is prepared). Each EXISTS probes the unique index."""
    wanted = ", ".join(f"'{k}'" for k in keys if k in HASH_KEYS) or "''"
    table, key = _t(IdentityHash), connection.ops.quote_name("key")
    own_email = f"{member}.person LIKE 'h:%%' OR " if "em" in keys else ""
    return (f"({own_email}{member}.person LIKE 'l:%%' "
            f"OR EXISTS (SELECT 1 FROM {table} h WHERE h.subject = 'v:' || {member}.visitor_id AND h.{key} IN ({wanted})) "
            f"OR ({member}.user_id IS NOT NULL AND EXISTS (SELECT 1 FROM {table} h "
            f"WHERE h.subject = 'u:' || CAST({member}.user_id AS TEXT) AND h.{key} IN ({wanted}))))")


def identifiers(rows: Sequence[Any]) -> dict[str, dict[str, str]]:
    """person -> hashes for the persons of ``rows`` (objects with person, visitor_id, user_id).

    ``h:`` persons carry their email hash in the key; ``l:`` persons are list rows hashed on import; the
    rest, and the ``h:`` persons' other keys, come from ``IdentityHash`` (call ``refresh_identity`` first),
    the newest of the visitor's and the account's rows per key. Nothing is hashed here.
    """
    out: dict[str, dict[str, str]] = {}
    entries: dict[int, str] = {}
    for row in rows:
        person = row.person
        hashes = out.setdefault(person, {})
        if person.startswith("h:"):
            hashes["em"] = person[2:]
        elif person.startswith("l:"):
            entries[int(person[2:])] = person
    keys = frozenset(HASH_KEYS)
    if entries:
        for entry_id, entry_hashes in CustomerListEntry.objects.filter(pk__in=list(entries)).values_list("pk", "hashes"):
            out[entries[entry_id]].update({k: v for k, v in (entry_hashes or {}).items() if k in keys and v})
    for person, key, value in _stored(rows):
        out[person].setdefault(key, value)  # ``h:`` persons keep the email hash their key carries
    return out


def _stored(rows: Sequence[Any]) -> list[tuple[str, str, str]]:
    """(person, key, hash) from ``IdentityHash``, the newest per person and key, in one statement (PostgreSQL:
    the subjects go in as two JSON arrays, which adapt far faster than a 10,000-element list parameter) or
    one per ``CHUNK`` subjects elsewhere."""
    wanted: list[tuple[str, str]] = []
    for row in rows:
        if row.visitor_id:
            wanted.append((f"v:{row.visitor_id}", row.person))
        if row.user_id:
            wanted.append((f"u:{int(row.user_id)}", row.person))
    if not wanted:
        return []
    table, key = _t(IdentityHash), connection.ops.quote_name("key")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT DISTINCT ON (p.person, h.{key}) p.person, h.{key}, h.value FROM ROWS FROM ("
                f"json_array_elements_text(%s::json), json_array_elements_text(%s::json)) AS p(subject, person) "
                f"JOIN {table} h ON h.subject = p.subject ORDER BY p.person, h.{key}, h.occurred_at DESC, h.event_id DESC",
                [json.dumps([s for s, _ in wanted]), json.dumps([p for _, p in wanted])])
            return cursor.fetchall()
        persons: dict[str, list[str]] = {}
        for subject, person in wanted:
            persons.setdefault(subject, []).append(person)
        found: list[tuple[Any, int, str, str, str]] = []
        subjects = list(persons)
        for start in range(0, len(subjects), CHUNK):
            chunk = subjects[start:start + CHUNK]
            cursor.execute(f"SELECT subject, {key}, value, occurred_at, event_id FROM {table} "
                           f"WHERE subject IN ({', '.join(['%s'] * len(chunk))})", chunk)
            found += [(at, event_id, subject, k, v) for subject, k, v, at, event_id in cursor.fetchall()]
    found.sort(key=lambda item: (item[0], item[1]), reverse=True)  # newest first; ties by event id
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str, str]] = []
    for _at, _id, subject, k, v in found:
        for person in persons[subject]:
            if (person, k) not in seen:
                seen.add((person, k))
                out.append((person, k, v))
    return out
