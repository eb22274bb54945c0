"""Signal receivers of audiences, connected once from ``SocialshopConfig.ready()`` (never in models.py).

A visitor's erasure (privacy/erasure.py) removes their links, candidate rows and the memberships of
the person ``v:<visitor id>`` and the hashes their events gave, an account's erasure the same of the
person ``u:<account>``; a retention run (tracking/retention.py)
drops links whose visitor has no events left and hashes of purged events. Decisions: docs/privacy.md, "Erasure".
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from django.db import connection

from socialshop.audiences.identity import forget_before, forget_visitors
from socialshop.audiences.models import (
    AudienceCandidate, AudienceChange, AudienceMember, DestinationMember, IdentityHash, VisitorLink,
)
from socialshop.platforms.models import DeliveryStatus
from socialshop.privacy.erasure import account_erased, account_visitors, visitor_erased
from socialshop.tracking.models import Event
from socialshop.tracking.retention import events_purged

# The person key an erased visitor's uploaded row is renamed to: random, so it says nothing about them.
ERASED_PREFIX = "x:"


def _t(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _erase_persons(cursor: Any, persons: list[str], column: str, keys: list[Any], blank: object) -> dict[str, int]:
    """The statements a visitor's and an account's erasure share: candidate rows and every membership
    (history included) of ``persons`` go; on other persons' rows ``column`` (the visitor id or the
    account) is set to ``blank``; uploaded rows of ``persons`` are renamed to a random ``x:`` key, so the
    next sync removes them from the platform with the hashes they were added with; unsent adds are dropped."""
    tokens = [f"{ERASED_PREFIX}{secrets.token_hex(12)}" for _ in persons]
    key_marks, person_marks = ", ".join(["%s"] * len(keys)), ", ".join(["%s"] * len(persons))
    rename = "CASE person " + " ".join(["WHEN %s THEN %s"] * len(persons)) + " END"
    pairs = [value for pair in zip(persons, tokens) for value in pair]
    unsent = [DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED]
    out: dict[str, int] = {}

    def run(label: str, sql: str, params: list[object]) -> None:
        cursor.execute(sql, params)
        out[label] = out.get(label, 0) + max(cursor.rowcount, 0)

    run("audience candidates", f"DELETE FROM {_t(AudienceCandidate)} WHERE person IN ({person_marks}) "
        f"OR {column} IN ({key_marks})", [*persons, *keys])
    run("audience members", f"DELETE FROM {_t(AudienceMember)} WHERE person IN ({person_marks})", persons)
    run("audience members", f"UPDATE {_t(AudienceMember)} SET {column} = %s WHERE {column} IN ({key_marks})", [blank, *keys])
    run("audience changes", f"DELETE FROM {_t(AudienceChange)} WHERE person IN ({person_marks}) AND op = 'add' "
        f"AND status IN ({', '.join(['%s'] * len(unsent))})", [*persons, *unsent])
    run("audience changes", f"UPDATE {_t(AudienceChange)} SET person = {rename}, {column} = %s "
        f"WHERE person IN ({person_marks})", [*pairs, blank, *persons])
    run("audience changes", f"UPDATE {_t(AudienceChange)} SET {column} = %s WHERE {column} IN ({key_marks})", [blank, *keys])
    run("uploaded members", f"UPDATE {_t(DestinationMember)} SET person = {rename} WHERE person IN ({person_marks})",
        [*pairs, *persons])
    return out


def erase_visitors(sender: object, visitor_ids: list[str], **kwargs: object) -> dict[str, int]:
    """Remove what audiences hold under the visitors' ids, in a constant number of statements.

    - stored hashes (``IdentityHash``: the visitor's own, and each account their events gave hashes to is
      folded in again from its other events) and links go, and what ``_erase_persons`` does for the
      persons ``v:<id>``;
    - memberships of a signed-in or e-mail person (``u:``/``h:``) that one of these visitors qualified
      stay, without the visitor id: the person is the account, not the browser.
    """
    ids = list(visitor_ids)
    with connection.cursor() as cursor:
        hashes = forget_visitors(ids)  # reads the visitors' events: runs before tracking's receiver
        cursor.execute(f"DELETE FROM {_t(VisitorLink)} WHERE visitor_id IN ({', '.join(['%s'] * len(ids))})", ids)
        links = max(cursor.rowcount, 0)
        out = _erase_persons(cursor, [f"v:{v}" for v in ids], "visitor_id", ids, "")
    return {"stored hashes": hashes, "visitor links": links, **out}


def visitors_of_accounts(sender: object, user_ids: list[int], **kwargs: object) -> list[str]:
    """The visitor ids linked to the accounts (``VisitorLink``), for the account's erasure to erase too."""
    return list(VisitorLink.objects.filter(user_id__in=user_ids).values_list("visitor_id", flat=True))


def erase_accounts(sender: object, user_ids: list[int], **kwargs: object) -> dict[str, int]:
    """After the accounts' visitors were erased: the accounts' stored hashes and links go, and what
    ``_erase_persons`` does for the persons ``u:<id>`` (their uploads are removed at the next sync)."""
    ids = list(user_ids)
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_t(IdentityHash)} WHERE subject IN ({marks})", [f"u:{u}" for u in ids])
        hashes = max(cursor.rowcount, 0)
        cursor.execute(f"DELETE FROM {_t(VisitorLink)} WHERE user_id IN ({marks})", ids)
        links = max(cursor.rowcount, 0)
        out = _erase_persons(cursor, [f"u:{u}" for u in ids], "user_id", ids, None)
    return {"stored hashes": hashes, "visitor links": links, **out}


def drop_stale_links(sender: object, cutoff: datetime, **kwargs: object) -> None:
    """After a complete retention run: stored hashes of events before ``cutoff``, and links first seen before
    ``cutoff`` whose visitor has no event left.

    One anti-join on the visitor–time index (``ss_event_visitor_time``); links made since the cutoff
    are never looked at, so the cost follows the links old enough to be due.
    """
    forget_before(cutoff)
    value = connection.ops.adapt_datetimefield_value(cutoff)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {_t(VisitorLink)} WHERE linked_at < %s AND NOT EXISTS "
            f"(SELECT 1 FROM {_t(Event)} e WHERE e.visitor_id = {_t(VisitorLink)}.visitor_id)", [value])


def connect() -> None:
    """Connect the receivers (called once from ``SocialshopConfig.ready()``)."""
    visitor_erased.connect(erase_visitors, dispatch_uid="socialshop.audiences.erase_visitors")
    account_visitors.connect(visitors_of_accounts, dispatch_uid="socialshop.audiences.visitors_of_accounts")
    account_erased.connect(erase_accounts, dispatch_uid="socialshop.audiences.erase_accounts")
    events_purged.connect(drop_stale_links, dispatch_uid="socialshop.audiences.drop_stale_links")
