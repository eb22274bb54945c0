"""The one storage path (``store_events``): compact rows keep their values, defaults fill the rest."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from socialshop.tracking.buffer import EventBuffer
from socialshop.tracking.models import Event
from socialshop.tracking.store import store_events

pytestmark = pytest.mark.django_db


def test_store_keeps_zero_and_false_values_and_fills_left_out_columns() -> None:
    now = timezone.now()
    stored = store_events([{
        "event_id": "zero1", "name": "Purchase", "occurred_at": now, "received_at": now, "value": Decimal("0.00"),
        "currency": "USD", "order_id": "o-zero", "properties": {"n": 0, "flag": False, "text": ""},
    }])
    assert stored == ["zero1"]
    event = Event.objects.get(event_id="zero1")
    assert event.value == Decimal("0.00")
    assert event.properties == {"n": 0, "flag": False, "text": ""}
    assert (event.source, event.visitor_id, event.url, event.content_ids, event.click_ids) == ("browser", "", "", [], {})
    assert event.may_share is False and event.user_id is None
    assert event.created_at == event.updated_at == event.received_at == now


def test_store_skips_replayed_event_ids_and_a_second_purchase_of_an_order() -> None:
    now = timezone.now()
    first = {"event_id": "p1", "name": "Purchase", "occurred_at": now, "received_at": now, "order_id": "o1"}
    assert store_events([first, {**first, "event_id": "page", "name": "PageView"}]) == ["p1", "page"]
    assert store_events([first, {**first, "event_id": "p2"}, {**first, "event_id": "p3", "order_id": "o3"}]) == ["p3"]


def test_buffer_counts_replays_within_and_across_batches_as_duplicates() -> None:
    buffer = EventBuffer()
    now = timezone.now()
    row = {"event_id": "b1", "name": "PageView", "occurred_at": now, "received_at": now}
    assert buffer.add([row, dict(row)], interval_ms=60_000, async_commit=False) == (1, 1)
    assert buffer.add([row, {**row, "event_id": "b2"}], interval_ms=60_000, async_commit=False) == (1, 1)
    assert buffer.drain() == 2
    assert sorted(Event.objects.values_list("event_id", flat=True)) == ["b1", "b2"]
