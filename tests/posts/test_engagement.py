"""Engagement counts per post and per tag (one visitor cannot inflate them), and revenue attributed to a
post from server-confirmed purchases only, read from stored events."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone as dt_timezone
from decimal import Decimal

import pytest

from socialshop.posts.engagement import WINDOW_MINUTES, attribution_for, counts_by_post, counts_by_tag
from socialshop.tracking.models import Event

pytestmark = pytest.mark.django_db
_ids = itertools.count()
WINDOW = WINDOW_MINUTES * 60
# A few seconds into a counting window, so offsets below a window stay inside it.
NOW = datetime.fromtimestamp((datetime.now(dt_timezone.utc).timestamp() // WINDOW) * WINDOW + 5, tz=dt_timezone.utc)


def event(name: str, *, visitor: str = "v1", ago: timedelta = timedelta(0), **fields: object) -> Event:
    at = NOW - ago
    if name == "Purchase":
        fields.setdefault("source", "server")  # a paid order the store reported
    return Event.objects.create(event_id=f"e{next(_ids)}", name=name, occurred_at=at, received_at=at, visitor_id=visitor, **fields)


def test_counts_by_post_counts_each_post_event_in_one_query(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    for visitor in ("a", "b", "c"):
        event("PostView", visitor=visitor, post_id="1")
    event("PostCloseup", post_id="1")
    event("PostLike", post_id="2")
    event("PageView", post_id="")
    with django_assert_num_queries(1):
        counts = counts_by_post(["1", "2", "3"])
    assert counts["1"]["PostView"] == 3 and counts["1"]["PostCloseup"] == 1
    assert counts["2"]["PostLike"] == 1 and counts["3"]["PostView"] == 0


def test_one_visitors_thousand_likes_and_saves_count_once() -> None:
    Event.objects.bulk_create([
        Event(event_id=f"{name}{i}", name=name, occurred_at=NOW - timedelta(days=i % 5), received_at=NOW,
              visitor_id="flooder", post_id="1")
        for i in range(1000) for name in ("PostLike", "PostSave")
    ])
    event("PostLike", visitor="someone-else", post_id="1")
    counts = counts_by_post(["1"])["1"]
    assert counts["PostLike"] == 2 and counts["PostSave"] == 1


def test_views_clicks_closeups_count_once_per_visitor_and_30_minute_window() -> None:
    for name in ("PostView", "PostCloseup", "PostClick"):
        for second in range(0, WINDOW - 10, 60):  # a reload every minute for half an hour
            event(name, visitor="busy", post_id="1", tag_id="t1", ago=timedelta(seconds=-second))
        event(name, visitor="busy", post_id="1", tag_id="t1", ago=timedelta(hours=2))  # another visit
        event(name, visitor="other", post_id="1", tag_id="t1")
    counts = counts_by_post(["1"])["1"]
    assert (counts["PostView"], counts["PostCloseup"], counts["PostClick"]) == (3, 3, 3)
    assert counts_by_tag("1")["t1"]["PostClick"] == 3


def test_events_without_a_visitor_id_count_as_one_visitor() -> None:
    for _ in range(200):
        event("PostView", visitor="", post_id="1")
        event("PostLike", visitor="", post_id="1")
    counts = counts_by_post(["1"])["1"]
    assert counts["PostView"] == 1 and counts["PostLike"] == 1


def test_counts_by_tag_counts_clicks_and_adds_per_tag() -> None:
    event("PostClick", visitor="a", post_id="1", tag_id="10")
    event("PostClick", visitor="b", post_id="1", tag_id="10")
    event("PostClick", visitor="b", post_id="1", tag_id="10")  # the same visitor again in the window
    event("AddToCart", post_id="1", tag_id="10")
    event("PostClick", post_id="1", tag_id="11")
    event("PostClick", post_id="2", tag_id="20")
    assert counts_by_tag("1") == {"10": {"PostClick": 2, "AddToCart": 1}, "11": {"PostClick": 1}}


def test_forged_browser_purchase_after_a_tag_click_does_not_change_attributed_revenue() -> None:
    event("PostClick", visitor="forger", post_id="7", tag_id="1", ago=timedelta(hours=1))
    event("Purchase", visitor="forger", value=Decimal("1000000000.00"), currency="USD", order_id="X1", source="browser")
    event("Purchase", visitor="forger", value=Decimal("5.00"), currency="USD", order_id="X2", source="pixel")
    assert attribution_for("7").orders == 0 and attribution_for("7").revenue == {}
    event("Purchase", visitor="forger", value=Decimal("12.00"), currency="USD", order_id="X3")  # server-reported
    assert attribution_for("7").revenue == {"USD": Decimal("12.00")}


def test_purchase_after_a_tag_click_within_the_window_is_attributed(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    event("PostClick", visitor="buyer", post_id="7", tag_id="1", ago=timedelta(days=3))
    event("Purchase", visitor="buyer", value=Decimal("80.00"), currency="USD", order_id="A1", ago=timedelta(days=1))
    event("Purchase", visitor="buyer", value=Decimal("20.00"), currency="USD", order_id="A2")
    with django_assert_num_queries(1):
        result = attribution_for("7")
    assert result.orders == 2 and result.revenue == {"USD": Decimal("100.00")}


def test_purchase_outside_the_window_or_before_the_click_is_not_attributed() -> None:
    event("PostClick", visitor="late", post_id="7", ago=timedelta(days=10))
    event("Purchase", visitor="late", value=Decimal("50.00"), currency="USD", order_id="B1")
    event("Purchase", visitor="early", value=Decimal("30.00"), currency="USD", order_id="B2", ago=timedelta(days=2))
    event("PostClick", visitor="early", post_id="7", ago=timedelta(days=1))
    assert attribution_for("7").orders == 0
    assert attribution_for("7", days=14).orders == 1


def test_purchase_by_another_visitor_or_after_clicking_another_post_is_not_attributed() -> None:
    event("PostClick", visitor="a", post_id="8")
    event("Purchase", visitor="b", value=Decimal("50.00"), currency="USD", order_id="C1")
    event("Purchase", visitor="a", value=Decimal("15.00"), currency="EUR", order_id="C2")
    assert attribution_for("7").orders == 0
    assert attribution_for("8").revenue == {"EUR": Decimal("15.00")}


def test_attribution_window_follows_the_setting(settings) -> None:  # type: ignore[no-untyped-def]
    event("PostClick", visitor="s", post_id="9", ago=timedelta(days=3))
    event("Purchase", visitor="s", value=Decimal("10.00"), currency="USD", order_id="D1")
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "POST_ATTRIBUTION_DAYS": 2}
    assert attribution_for("9").orders == 0
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "POST_ATTRIBUTION_DAYS": 7}
    assert attribution_for("9").orders == 1


def test_one_purchase_after_several_clicks_counts_once() -> None:
    for _ in range(3):
        event("PostClick", visitor="x", post_id="5", ago=timedelta(hours=2))
    event("Purchase", visitor="x", value=Decimal("42.00"), currency="USD", order_id="E1")
    assert attribution_for("5").revenue == {"USD": Decimal("42.00")}


def test_admin_lists_counts_and_revenue_per_post(admin_client, make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post([(products[0], 0.5, 0.5)])
    tag = post.tags.get()
    for visitor in ("a", "b", "c", "d"):
        event("PostView", visitor=visitor, post_id=str(post.pk))
    for _ in range(50):  # one visitor's like storm is one like
        event("PostLike", visitor="a", post_id=str(post.pk))
    event("PostClick", visitor="buyer", post_id=str(post.pk), tag_id=str(tag.pk))
    event("Purchase", visitor="buyer", value=Decimal("40.00"), currency="USD", order_id="F1")
    listing = admin_client.get("/admin/socialshop/post/").content.decode()
    assert '<td class="field-views">4</td>' in listing
    assert '<td class="field-clicks">1</td>' in listing
    assert 'title="0 saves, 1 likes, 0 shares">0 / 1</span>' in listing  # 50 likes from one visitor count once
    assert "$40.00 (1)" in listing
    page = admin_client.get(f"/admin/socialshop/post/{post.pk}/change/").content.decode()
    assert "Attributed (7 days after a tag click): 1 order, $40.00" in page
    assert "<td>Linen shirt</td><td>1</td><td>0</td>" in page
