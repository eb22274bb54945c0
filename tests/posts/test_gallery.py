"""Storefront: gallery (filters, constant queries), post page with hotspots and product cards, embeds."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from socialshop.posts.gallery import cards_for, live_posts
from socialshop.posts.models import ImageState, Post, PostStatus, ProductTag

pytestmark = pytest.mark.django_db
GALLERY = "/socialshop/posts/"


def bulk_posts(count: int, *, tags_per_post: int = 3, start: int = 0) -> None:
    """``count`` published, processed posts with tags, made in a few queries."""
    now = timezone.now()
    renditions = {"thumbnail": {"width": 480, "height": 480, "box": [0, 0, 900, 900],
                                "jpeg": "socialshop/posts/x/thumbnail.jpg", "webp": "socialshop/posts/x/thumbnail.webp"}}
    posts = Post.objects.bulk_create([
        Post(slug=f"bulk-{i}", image=f"socialshop/posts/x/master-{i}.jpg", caption=f"Look {i} #bulk",
             hashtags=" bulk ", status=PostStatus.PUBLISHED, image_state=ImageState.READY, width=1200, height=900,
             renditions=renditions, published_at=now - timedelta(minutes=i))
        for i in range(start, start + count)
    ], batch_size=500)
    ProductTag.objects.bulk_create([
        ProductTag(post=post, product_id=f"P{t}", group_id=f"P{t}", x=0.1 * (t + 1), y=0.5)
        for post in posts for t in range(tags_per_post)
    ], batch_size=900)


def count_queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_gallery_runs_the_same_number_of_queries_for_10_and_1000_posts(client) -> None:  # type: ignore[no-untyped-def]
    bulk_posts(10)
    small = count_queries(client, GALLERY)
    bulk_posts(990, start=10)
    assert Post.objects.count() == 1000
    large = count_queries(client, GALLERY)
    last_page = count_queries(client, GALLERY + "?page=42")
    assert small == large == last_page
    assert large <= 6


def test_gallery_embed_tag_runs_constant_queries(db) -> None:  # type: ignore[no-untyped-def]
    bulk_posts(5)
    template = Template("{% load socialshop %}{% socialshop_gallery limit=4 %}")
    with CaptureQueriesContext(connection) as small:
        template.render(Context({}))
    Post.objects.bulk_create([Post(slug=f"more-{i}", image="x.jpg", status=PostStatus.PUBLISHED,
                                   image_state=ImageState.READY) for i in range(200)])
    with CaptureQueriesContext(connection) as large:
        html = template.render(Context({}))
    assert len(small.captured_queries) == len(large.captured_queries)
    assert html.count('class="ss-tile"') == 4


def test_gallery_shows_only_published_processed_and_due_posts(client, make_post) -> None:  # type: ignore[no-untyped-def]
    live = make_post(caption="Live one")
    make_post(caption="Draft one", status=PostStatus.DRAFT)
    make_post(caption="Future one", published_at=timezone.now() + timedelta(days=2))
    make_post(caption="Broken one", data=b"not an image")
    body = client.get(GALLERY).content.decode()
    assert "Live one" in body
    assert "Draft one" not in body and "Future one" not in body and "Broken one" not in body
    assert list(live_posts()) == [live]


def test_gallery_filters_by_hashtag_product_and_category(client, make_post, products) -> None:  # type: ignore[no-untyped-def]
    shirt_post = make_post([(products[0], 0.5, 0.5)], caption="Shirt day #linen")
    tote_post = make_post([(products[1], 0.5, 0.5)], caption="Tote day #beach")
    assert list(live_posts(hashtag="#linen")) == [shirt_post]
    assert list(live_posts(hashtag="BEACH")) == [tote_post]
    assert list(live_posts(product=str(products[1].pk))) == [tote_post]
    assert list(live_posts(category=products[0].category.path)) == [shirt_post]
    body = client.get(GALLERY + "?hashtag=beach").content.decode()
    assert "Tote day" in body and "Shirt day" not in body


def test_post_page_shows_hotspots_as_labelled_buttons_with_live_product_cards(client, make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post([(products[0], 0.3, 0.4), (products[1], 0.7, 0.6)])
    response = client.get(reverse("socialshop:posts-detail", args=[post.slug]))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("data-ss-hotspot") >= 2
    assert "Show product: Linen shirt" in body and 'aria-haspopup="dialog"' in body
    assert "$40.00" in body
    assert "<del" in body and "$25.00" in body and "$19.00" in body  # the tote is on sale
    assert 'loading="lazy"' in body and "portrait" in body
    assert 'data-cart-url="/cart/add/"' in body


def test_tag_whose_product_was_deleted_is_hidden_and_the_page_still_works(client, make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post([(products[0], 0.3, 0.4), (products[2], 0.7, 0.6)])
    products[2].delete()
    response = client.get(reverse("socialshop:posts-detail", args=[post.slug]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Linen shirt" in body and "Desert boots" not in body
    assert len(cards_for(post)) == 1


def test_tag_whose_product_was_deactivated_is_hidden(client, make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post([(products[1], 0.3, 0.4)])
    type(products[1]).objects.filter(pk=products[1].pk).update(is_active=False)
    body = client.get(reverse("socialshop:posts-detail", args=[post.slug])).content.decode()
    assert "Canvas tote" not in body and "data-ss-hotspot" not in body


def test_hotspot_positions_follow_the_portrait_rendition(make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post([(products[0], 0.9, 0.5)], data=__import__("tests.posts.conftest", fromlist=["picture"]).picture((2400, 800)))
    [card] = cards_for(post, rendition="portrait")
    assert 0 < card.x < 1 and card.x != 0.9  # the crop moved the tag within the picture
    [whole] = cards_for(post)
    assert whole.x == 0.9


def test_post_page_escapes_the_caption_and_links_hashtags(client, make_post) -> None:  # type: ignore[no-untyped-def]
    post = make_post(caption="<script>alert(1)</script> so good #Summer")
    body = client.get(reverse("socialshop:posts-detail", args=[post.slug])).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert '?hashtag=summer">#Summer</a>' in body


def test_draft_post_page_is_404_for_visitors_and_visible_to_staff(client, admin_client, make_post) -> None:  # type: ignore[no-untyped-def]
    post = make_post(status=PostStatus.DRAFT)
    url = reverse("socialshop:posts-detail", args=[post.slug])
    assert client.get(url).status_code == 404
    assert admin_client.get(url).status_code == 200


def test_product_posts_tag_lists_posts_that_tag_the_product(make_post, products, rf) -> None:  # type: ignore[no-untyped-def]
    make_post([(products[0], 0.5, 0.5)], caption="Wearing the shirt")
    make_post([(products[1], 0.5, 0.5)], caption="Carrying the tote")
    html = Template("{% load socialshop %}{% socialshop_product_posts product %}").render(
        Context({"product": products[0], "request": rf.get("/")})
    )
    assert "Wearing the shirt" in html and "Carrying the tote" not in html
    nothing = Template("{% load socialshop %}{% socialshop_product_posts product %}").render(Context({"product": products[2]}))
    assert nothing.strip() == ""


def test_post_page_share_link_carries_utm_parameters(client, make_post) -> None:  # type: ignore[no-untyped-def]
    post = make_post()
    body = client.get(reverse("socialshop:posts-detail", args=[post.slug])).content.decode()
    expected = (f"http://testserver/socialshop/posts/{post.slug}/"
                "?utm_source=socialshop&amp;utm_medium=share&amp;utm_campaign=shoppable_posts")
    assert f'data-ss-share href="{expected}"' in body
