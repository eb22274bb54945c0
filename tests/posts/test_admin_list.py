"""The posts list fits a marketer's needs at 1280 px: title and thumbnail, engagement and attributed
revenue columns (constant queries), drafts without a date, and "View on site"."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.test import Client
from django.utils import timezone

from socialshop.platforms.models import PlatformStatus
from socialshop.posts.models import Post, PostStatus
from socialshop.tracking.models import Event


def _event(name: str, **fields: Any) -> None:
    now = timezone.now()
    Event.objects.create(event_id=f"{name}-{Event.objects.count()}", name=name, occurred_at=fields.pop("at", now),
                         received_at=now, **fields)


def test_list_shows_title_thumbnail_engagement_and_revenue(admin_client: Client, make_post: Callable[..., Post],
                                                           products: list, django_assert_max_num_queries: Any) -> None:
    post = make_post([(products[0], 0.5, 0.5)], caption="Linen for the heat #summer")
    draft = make_post(caption="Not yet", status=PostStatus.DRAFT)
    _event("PostView", post_id=post.tracking_id)
    _event("PostCloseup", post_id=post.tracking_id)
    click_at = timezone.now() - timedelta(minutes=5)
    _event("PostClick", post_id=post.tracking_id, tag_id="1", visitor_id="v1", at=click_at)
    _event("Purchase", visitor_id="v1", value=Decimal("32.50"), currency="USD", at=click_at + timedelta(minutes=1))
    with django_assert_max_num_queries(12) as small:
        html = admin_client.get("/admin/socialshop/post/").content.decode()
    assert ">Linen for the heat<br>" in html and 'width="64" height="64"' in html
    for header in ("views", "opened", "clicks", "revenue"):
        assert re.search(r'<th [^>]*>\s*<div class="text">(<a [^>]*>|<span>)' + header + "</", html, re.I), header
    assert "32.50" in html and "(1)" in html
    row = html[html.index("Not yet"):]
    assert row.split("</small>")[0].endswith("Draft · Own")  # a draft shows no "published" date
    for i in range(8):
        make_post(caption=f"More {i}", process=False)
    with django_assert_max_num_queries(len(small.captured_queries)):
        admin_client.get("/admin/socialshop/post/")
    change = admin_client.get(f"/admin/socialshop/post/{draft.pk}/change/").content.decode()
    link = re.search(r'href="(/admin/r/\d+/\d+/)" class="viewsitelink"', change).group(1)
    assert admin_client.get(link)["Location"].endswith(f"/socialshop/posts/{draft.slug}/")


def test_platform_list_shortens_the_last_error_and_the_detail_page_has_it_all(admin_client: Client) -> None:
    message = "Invalid parameter: " + "x" * 300 + " END"
    PlatformStatus.objects.create(slug="meta", last_error=message, last_error_at=timezone.now())
    html = admin_client.get("/admin/socialshop/platformstatus/").content.decode()
    assert "END</span>" not in html and "…</span>" in html and f'title="{message}"' in html
    detail = admin_client.get(f"/admin/socialshop/platformstatus/{PlatformStatus.objects.get(slug='meta').pk}/change/").content.decode()
    assert message in detail


def test_event_list_shows_money_and_a_short_visitor_id(admin_client: Client) -> None:
    _event("Purchase", value=Decimal("91.01"), currency="GBP", visitor_id="abcdefghijklmnop",
           url="https://shop.example.com/order/confirmed/")
    html = admin_client.get("/admin/socialshop/event/").content.decode()
    assert '<td class="field-amount">£91.01</td>' in html
    assert 'title="abcdefghijklmnop">abcdefgh…</span>' in html and ">/order/confirmed/</span>" in html
