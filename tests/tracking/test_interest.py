"""The per-visitor interest table (socialshop/tracking/interest.py) from a hand-made history, and picks."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from socialshop.core.jobs import BEAT_SCHEDULE
from socialshop.exceptions import ConfigurationError
from socialshop.tracking.interest import picks_for, rebuild_interest, update_interest
from socialshop.tracking.models import Event, EventCursor, Interest
from socialshop.tracking.store import store_events

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)
_n = iter(range(1, 10 ** 6))


def ev(name: str, visitor: str, products: list[Any], *, minutes_ago: float, received_ago: float | None = None) -> None:
    """Store one event ``minutes_ago`` old, received ``received_ago`` minutes ago (default: when it occurred)."""
    when = NOW - timedelta(minutes=minutes_ago)
    # A receipt time given is relative to the real clock: the settle window is measured from it.
    received = when if received_ago is None else timezone.now() - timedelta(minutes=received_ago)
    store_events([{"event_id": f"e{next(_n)}", "name": name, "occurred_at": when, "received_at": received,
                   "visitor_id": visitor, "content_ids": products}])


def at(minutes_ago: float) -> datetime:
    return NOW - timedelta(minutes=minutes_ago)


def table() -> dict[tuple[str, str], tuple[Any, Any, Any]]:
    return {(i.visitor_id, i.product_id): (i.last_viewed_at, i.last_carted_at, i.purchased_at) for i in Interest.objects.all()}


def history() -> None:
    # Ann views p1 twice, p2 once, carts p2 and buys it; views p3 last.
    ev("ViewContent", "ann", ["p1"], minutes_ago=300)
    ev("ViewContent", "ann", ["p2"], minutes_ago=250)
    ev("ViewContent", "ann", ["p1"], minutes_ago=200)
    ev("AddToCart", "ann", ["p2"], minutes_ago=190)
    ev("Purchase", "ann", ["p2"], minutes_ago=180)
    ev("ViewContent", "ann", ["p3"], minutes_ago=100)
    # Bob carts p1 without viewing it; a PageView and an anonymous view are not interest.
    ev("AddToCart", "bob", ["p1", "p4"], minutes_ago=120)
    ev("PageView", "bob", ["p9"], minutes_ago=110)
    ev("ViewContent", "", ["p1"], minutes_ago=100)


def test_update_builds_latest_view_cart_and_purchase_per_visitor_and_product() -> None:
    history()
    result = update_interest()
    assert result.last_event_id == Event.objects.order_by("-id").values_list("id", flat=True)[0]
    assert table() == {
        ("ann", "p1"): (at(200), None, None),
        ("ann", "p2"): (at(250), at(190), at(180)),
        ("ann", "p3"): (at(100), None, None),
        ("bob", "p1"): (None, at(120), None),
        ("bob", "p4"): (None, at(120), None),
    }
    assert Interest.objects.get(visitor_id="ann", product_id="p2").updated_at == at(180)  # the latest of its times


def test_passes_read_only_new_events_and_times_only_move_forward() -> None:
    history()
    update_interest()
    assert update_interest().rows == 0  # nothing new: nothing read
    ev("ViewContent", "ann", ["p1"], minutes_ago=50)
    ev("ViewContent", "bob", ["p1"], minutes_ago=400)  # a late, older view: bob's cart time stays
    second = update_interest()
    assert second.rows == 2
    rows = table()
    assert rows[("ann", "p1")] == (at(50), None, None)
    assert rows[("bob", "p1")] == (at(400), at(120), None)
    assert EventCursor.objects.get(name="interest").last_event_id == second.last_event_id


def test_an_event_committed_late_with_a_smaller_id_is_still_read() -> None:
    ev("ViewContent", "ann", ["p1"], minutes_ago=5)
    first = Event.objects.get().pk
    recent = {"name": "ViewContent", "occurred_at": at(1), "received_at": timezone.now(), "content_ids": ["p1"]}
    Event.objects.create(id=first + 10, event_id="cat", visitor_id="cat", **recent)  # just received
    passed = update_interest()
    assert set(table()) == {("ann", "p1"), ("cat", "p1")}  # read at once...
    assert passed.last_event_id == first  # ...but the cursor stays before the unsettled event
    Event.objects.create(id=first + 5, event_id="dan", visitor_id="dan", **recent)  # took its id earlier, committed now
    update_interest()
    assert set(table()) == {("ann", "p1"), ("cat", "p1"), ("dan", "p1")}


def test_rebuild_recomputes_from_the_events_kept() -> None:
    history()
    update_interest()
    incremental = table()
    Interest.objects.filter(visitor_id="ann").update(last_viewed_at=None)
    Interest.objects.create(visitor_id="ghost", product_id="p1", last_viewed_at=NOW, updated_at=NOW)
    result = rebuild_interest()
    assert table() == incremental and result.rows == len(incremental)
    Event.objects.filter(visitor_id="bob").delete()  # an erasure
    rebuild_interest()
    assert not Interest.objects.filter(visitor_id="bob").exists()


def test_odd_content_ids_are_skipped() -> None:
    ev("ViewContent", "ann", [], minutes_ago=10)
    ev("ViewContent", "ann", ["", "p1"], minutes_ago=10)
    store_events([{"event_id": "odd", "name": "ViewContent", "occurred_at": at(10), "received_at": at(10),
                   "visitor_id": "ann", "content_ids": {"id": "p7"}}])
    update_interest()
    assert set(table()) == {("ann", "p1")}


def test_picks_are_viewed_or_carted_never_bought_most_recent_first_and_limited() -> None:
    history()
    ev("ViewContent", "ann", ["p5"], minutes_ago=20)
    update_interest()
    assert picks_for(["ann", "bob", "nobody", ""], limit=10) == {"ann": ["p5", "p3", "p1"], "bob": ["p1", "p4"]}
    assert picks_for(["ann"], limit=2) == {"ann": ["p5", "p3"]}
    assert picks_for([]) == {}


def test_picks_refuse_a_bad_limit() -> None:
    for limit in (0, 101, "3", True):
        with pytest.raises(ConfigurationError, match="picks limit"):
            picks_for(["ann"], limit=limit)  # type: ignore[arg-type]


def test_picks_for_many_visitors_in_chunks() -> None:
    store_events([{"event_id": f"m{i}", "name": "ViewContent", "occurred_at": at(30), "received_at": at(30),
                   "visitor_id": f"v{i:04d}", "content_ids": ["p1"]} for i in range(1200)])
    update_interest()
    picks = picks_for([f"v{i:04d}" for i in range(1200)], limit=1)
    assert len(picks) == 1200 and picks["v0999"] == ["p1"]


def test_update_task_is_scheduled_and_runs() -> None:
    from socialshop.tasks import update_interest as task

    assert any(entry["task"] == "socialshop.update_interest" for entry in BEAT_SCHEDULE.values())
    history()
    assert task.apply().get() == 5
