"""socialshop's admin entry, the overview (templatetags/socialshop_admin.py): the marketer's figures and
charts in a constant number of queries, internals kept apart, and no bulk delete on state tables."""
from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from socialshop.feeds.models import BuildStatus, Feed, FeedBuild
from socialshop.posts.models import Post, PostStatus
from socialshop.tracking.models import Delivery, Event

pytestmark = pytest.mark.django_db
_seq = itertools.count()


def _event(name: str, *, ago: timedelta = timedelta(seconds=30), **fields: Any) -> Event:
    now = timezone.now()
    return Event.objects.create(event_id=f"ov-{next(_seq)}", name=name, occurred_at=now - ago, received_at=now, **fields)


def _world(n: int) -> None:
    """``n`` of everything: events, deliveries per platform, feeds with builds, posts with attributed sales."""
    for i in range(n):
        k = next(_seq)
        event = _event("PageView", may_share=i % 2 == 0)
        for platform, status in (("meta", "sent"), ("tiktok", "failed"), ("google", "skipped")):
            Delivery.objects.create(event=event, platform=platform, status=status)
        feed = Feed.objects.create(name=f"Feed {i}", slug=f"feed-{k}", platform="google")
        build = FeedBuild.objects.create(feed=feed, status=BuildStatus.PUBLISHED, started_at=timezone.now(), items_written=40 + i)
        Feed.objects.filter(pk=feed.pk).update(published_build=build)
        post = Post.objects.create(caption=f"Look {i}", slug=f"look-{i}-{k}", status=PostStatus.PUBLISHED,
                                   published_at=timezone.now())
        visitor = f"v-{next(_seq)}"
        _event("PostClick", ago=timedelta(seconds=90), post_id=post.tracking_id, tag_id="1", visitor_id=visitor)
        _event("Purchase", ago=timedelta(seconds=60), visitor_id=visitor, value=Decimal(10 * (i + 1)), currency="USD")


def test_overview_shows_events_consent_deliveries_feeds_and_top_posts(admin_client: Client, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CURRENCY": "USD"}
    _world(3)
    html = admin_client.get("/admin/socialshop/").content.decode()
    assert "socialshop overview" in html
    assert "<li><strong>9</strong>today</li><li><strong>9</strong>last 7 days</li>" in html  # views, clicks, purchases
    assert "<li><strong>22%</strong>consented to sharing</li>" in html  # 2 of the 9 may be shared
    assert "Events per day, last 7 days" in html and "Deliveries per platform" in html
    assert "<td>Meta</td><td>events</td><td>3</td><td>0</td><td>0</td><td>0</td>" in html.replace("\n", "")
    assert ">Feed 2</a></td><td>Google Merchant Center</td><td>published," in html and "<td>42</td>" in html
    top = html.index("Top posts by attributed revenue")
    assert html.index("look-2-", top) < html.index("look-1-", top) < html.index("look-0-", top)  # by revenue
    assert "$30.00" in html


def test_overview_runs_a_constant_number_of_queries(admin_client: Client, django_assert_max_num_queries: Any) -> None:
    _world(1)
    with django_assert_max_num_queries(14) as small:
        admin_client.get("/admin/socialshop/")
    _world(12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert admin_client.get("/admin/socialshop/").status_code == 200


def test_internals_are_apart_from_the_marketer_screens_yet_reachable(admin_client: Client) -> None:
    index = admin_client.get("/admin/").content.decode()
    assert "/admin/socialshop/post/" in index and "/admin/socialshop/feed/" in index
    for internal in ("heartbeat", "joblock", "delivery", "feedbuild", "consentrecord"):
        assert f"/admin/socialshop/{internal}/\"" not in index  # not in the app list
        assert admin_client.get(f"/admin/socialshop/{internal}/").status_code == 200
    overview = admin_client.get("/admin/socialshop/").content.decode()
    internals = overview[overview.index("socialshop internals"):]
    assert "/admin/socialshop/heartbeat/" in internals and "/admin/socialshop/joblock/" in internals


@pytest.mark.parametrize("model", ["platformstatus", "delivery", "heartbeat", "joblock", "feedbuild", "consentrecord", "event"])
def test_state_tables_offer_no_bulk_delete(admin_client: Client, model: str) -> None:
    html = admin_client.get(f"/admin/socialshop/{model}/").content.decode()
    assert 'value="delete_selected"' not in html


def test_overview_is_for_staff_only(client: Client) -> None:
    assert client.get("/admin/socialshop/").status_code == 302
