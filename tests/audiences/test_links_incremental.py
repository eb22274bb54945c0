"""Visitor links refresh from the events stored since the last refresh only (audiences/rules.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from socialshop.audiences.models import VisitorLink
from socialshop.audiences.rules import LINKS_CURSOR, refresh_visitor_links
from socialshop.tracking.models import EventCursor
from socialshop.tracking.store import store_events

pytestmark = pytest.mark.django_db
_n = iter(range(10 ** 6))


def ev(visitor: str, *, user_id: int | None = None, email_hash: str = "", minutes_ago: float = 10) -> None:
    when = timezone.now() - timedelta(minutes=minutes_ago)
    store_events([{"event_id": f"l{next(_n)}", "name": "Purchase" if email_hash else "PageView", "occurred_at": when,
                   "received_at": when, "visitor_id": visitor, "user_id": user_id,
                   "user_data": {"em": email_hash} if email_hash else {}}])


def test_a_refresh_reads_new_events_only_and_an_account_still_wins_over_a_guest_email() -> None:
    ev("v1", email_hash="abc")
    ev("v2", user_id=7)
    assert refresh_visitor_links() == 2
    mark = EventCursor.objects.get(name=LINKS_CURSOR).last_event_id
    assert refresh_visitor_links() == 0  # nothing new: nothing read
    ev("v1", user_id=9)  # the guest signs in later
    refresh_visitor_links()
    assert dict(VisitorLink.objects.values_list("visitor_id", "person")) == {"v1": "u:9", "v2": "u:7"}
    assert EventCursor.objects.get(name=LINKS_CURSOR).last_event_id > mark


def test_events_received_just_now_are_linked_now_and_read_again_next_time() -> None:
    ev("v3", user_id=3, minutes_ago=0)
    assert refresh_visitor_links() == 1
    assert EventCursor.objects.get(name=LINKS_CURSOR).last_event_id == 0  # not settled yet
    with transaction.atomic():
        assert refresh_visitor_links() == 0  # read again, nothing new to add
