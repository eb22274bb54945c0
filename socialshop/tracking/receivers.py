"""Signal receivers of tracking, connected once from ``SocialshopConfig.ready()`` (never in models.py):
a visitor's erasure (privacy/erasure.py) removes their events, those events' deliveries and their interest rows;
an account's erasure names the visitors its events carried, then removes its events left without one.
"""
from __future__ import annotations

from typing import Any

from django.db import connection

from socialshop.privacy.erasure import account_erased, account_visitors, visitor_erased
from socialshop.tracking.models import Delivery, Event, Interest


def _t(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _delete_events(cursor: Any, where: str, params: list[Any]) -> dict[str, int]:
    """Delete the events matching ``where`` and, first, their outbox deliveries (Delivery.event has no
    database constraint, tracking/models.py), so nothing of them is sent later: two statements."""
    cursor.execute(f"DELETE FROM {_t(Delivery)} WHERE event_id IN (SELECT id FROM {_t(Event)} WHERE {where})", params)
    deliveries = max(cursor.rowcount, 0)
    cursor.execute(f"DELETE FROM {_t(Event)} WHERE {where}", params)
    return {"events": max(cursor.rowcount, 0), "deliveries": deliveries}


def erase_visitors(sender: object, visitor_ids: list[str], **kwargs: object) -> dict[str, int]:
    """Delete the visitors' events (with their outbox deliveries, so nothing of them is sent later) and
    their interest rows: three statements for any number of visitors and events, on the visitor–time index."""
    marks = ", ".join(["%s"] * len(visitor_ids))
    with connection.cursor() as cursor:
        out = _delete_events(cursor, f"visitor_id IN ({marks})", visitor_ids)
        cursor.execute(f"DELETE FROM {_t(Interest)} WHERE visitor_id IN ({marks})", visitor_ids)
        out["interest rows"] = max(cursor.rowcount, 0)
    return out


def visitors_of_accounts(sender: object, user_ids: list[int], **kwargs: object) -> list[str]:
    """The visitor ids the accounts' events carried (an index-only scan of ``ss_event_user_cov``)."""
    return list(Event.objects.filter(user_id__in=user_ids).exclude(visitor_id="").values_list("visitor_id", flat=True).distinct())


def erase_accounts(sender: object, user_ids: list[int], **kwargs: object) -> dict[str, int]:
    """Delete the accounts' events that had no visitor id (their visitors' went with the visitors) and their
    deliveries: two statements."""
    with connection.cursor() as cursor:
        return _delete_events(cursor, f"user_id IN ({', '.join(['%s'] * len(user_ids))})", user_ids)


def connect() -> None:
    """Connect the receivers (called once from ``SocialshopConfig.ready()``)."""
    visitor_erased.connect(erase_visitors, dispatch_uid="socialshop.tracking.erase_visitors")
    account_visitors.connect(visitors_of_accounts, dispatch_uid="socialshop.tracking.visitors_of_accounts")
    account_erased.connect(erase_accounts, dispatch_uid="socialshop.tracking.erase_accounts")
