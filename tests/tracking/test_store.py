"""The one storage path (``store_events``): compact rows keep their values, defaults fill the rest."""
from __future__ import annotations

from datetime import timedelta
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
    context = {"source": "browser", "received_at": now, "visitor_id": "v1", "session_id": "s1", "user_id": None,
               "ip": "10.0.0.0", "user_agent": "Agent"}
    event = {"event_id": "b1", "name": "PageView", "occurred_at": now, "value": Decimal("2.50"), "currency": "USD"}
    assert buffer.add(context, [event, dict(event)], interval_ms=60_000, async_commit=False) == (1, 1)
    assert buffer.add(context, [event, {**event, "event_id": "b2"}], interval_ms=60_000, async_commit=False) == (1, 1)
    assert buffer.drain() == 2
    stored = list(Event.objects.order_by("event_id").values_list("event_id", "visitor_id", "user_agent", "value", "source"))
    assert stored == [("b1", "v1", "Agent", Decimal("2.50"), "browser"), ("b2", "v1", "Agent", Decimal("2.50"), "browser")]


def test_rows_of_different_visitors_in_one_batch_keep_their_own_context() -> None:
    now = timezone.now()
    later = now + timedelta(seconds=1)

    def row(event_id: str, visitor: str, agent: str, received: object, **extra: object) -> dict:
        return {"event_id": event_id, "name": "PageView", "occurred_at": now, "received_at": received,
                "visitor_id": visitor, "session_id": f"s-{visitor}", "user_agent": agent, "ip": "10.1.2.0", **extra}

    rows = [row("a1", "va", "Agent A", now), row("b1", "vb", "Agent B", now, may_share=True),
            row("a2", "va", "Agent A", later, source="server"), row("c1", "", "", now, url="/anon/")]
    assert store_events(rows) == ["a1", "b1", "a2", "c1"]
    got = {e.event_id: e for e in Event.objects.all()}
    assert (got["a1"].visitor_id, got["a1"].session_id, got["a1"].user_agent) == ("va", "s-va", "Agent A")
    assert (got["b1"].visitor_id, got["b1"].user_agent, got["b1"].may_share) == ("vb", "Agent B", True)
    assert (got["a2"].source, got["a2"].received_at, got["a2"].created_at) == ("server", later, later)
    assert (got["c1"].visitor_id, got["c1"].user_agent, got["c1"].ip, got["c1"].url) == ("", "", "10.1.2.0", "/anon/")


@pytest.mark.postgres
def test_event_time_index_is_brin_on_postgresql() -> None:
    # The collector's hot table: a time index that costs next to nothing per insert.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'ss_event_time'")
        (definition,) = cursor.fetchone()
    assert "USING brin (occurred_at)" in definition


@pytest.mark.postgres
def test_buffered_batch_with_a_duplicate_from_another_process_keeps_the_rest(transactional_db) -> None:
    # The buffer writes its batches with a plain INSERT; an event_id that another process stored
    # fails that statement, and the batch is written again skipping only the duplicate.
    now = timezone.now()
    store_events([{"event_id": "elsewhere", "name": "PageView", "occurred_at": now, "received_at": now, "url": "/first/"}])
    buffer = EventBuffer()
    context = {"source": "browser", "received_at": now, "visitor_id": "v1", "session_id": "s1", "user_id": None,
               "ip": "", "user_agent": "Agent"}
    events = [{"event_id": event_id, "name": "PageView", "occurred_at": now, "url": f"/{event_id}/"}
              for event_id in ("new1", "elsewhere", "new2")]
    assert buffer.add(context, events, interval_ms=60_000, async_commit=False) == (3, 0)
    assert buffer.drain() == 3
    stored = dict(Event.objects.values_list("event_id", "url"))
    assert stored == {"elsewhere": "/first/", "new1": "/new1/", "new2": "/new2/"}
