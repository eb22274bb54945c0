"""Customer photo moderation: the processed image previewed, the named product tagged on approval,
messages in the right number, and an empty comment list that says so without a list item."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client
from django.utils import timezone

from socialshop.posts.models import Moderation, Post, PostSource, PostStatus, ProductTag


def _photo(make_post: Callable[..., Post], product: Any, **fields: Any) -> Post:
    return make_post(source=PostSource.CUSTOMER, status=PostStatus.DRAFT, rights_granted=True,
                     rights_granted_at=timezone.now(), moderation=Moderation.PENDING,
                     submitted_product_id=str(product.pk), submitter_name="Ana", **fields)


def test_approving_tags_the_product_the_customer_named_and_says_1_photo(
    admin_client: Client, make_post: Callable[..., Post], products: list,
) -> None:
    photo = _photo(make_post, products[1])
    page = admin_client.post("/admin/socialshop/customerphoto/", {"action": "approve_and_publish", "_selected_action": [photo.pk]},
                             follow=True).content.decode()
    assert "Approved and published 1 photo." in page and "1 photos" not in page
    tag = ProductTag.objects.get(post=photo)
    assert tag.product_id == str(products[1].pk) and tag.title == products[1].name
    # approving again adds no second tag
    admin_client.post("/admin/socialshop/customerphoto/", {"action": "approve", "_selected_action": [photo.pk]})
    assert ProductTag.objects.filter(post=photo).count() == 1


def test_two_photos_are_plural_and_an_unknown_product_is_left_untagged(
    admin_client: Client, make_post: Callable[..., Post], products: list,
) -> None:
    first, second = _photo(make_post, products[0]), _photo(make_post, products[2])
    Post.objects.filter(pk=second.pk).update(submitted_product_id="no-such-product")
    page = admin_client.post("/admin/socialshop/customerphoto/", {"action": "reject", "_selected_action": [first.pk, second.pk]},
                             follow=True).content.decode()
    assert "Rejected 2 photos." in page
    admin_client.post("/admin/socialshop/customerphoto/", {"action": "approve", "_selected_action": [second.pk]})
    assert not ProductTag.objects.filter(post=second).exists()


def test_moderators_see_the_processed_image_in_the_list_and_on_the_change_page(
    admin_client: Client, make_post: Callable[..., Post], products: list,
) -> None:
    photo = _photo(make_post, products[0])
    square = photo.renditions["square"]["jpeg"]
    listing = admin_client.get("/admin/socialshop/customerphoto/").content.decode()
    assert photo.renditions["thumbnail"]["jpeg"] in listing
    change = admin_client.get(f"/admin/socialshop/customerphoto/{photo.pk}/change/").content.decode()
    assert f'src="/media/{square}"' in change or square in change
    assert "photo (processed)" in change.lower() or "Photo (processed)" in change


def test_a_post_without_comments_says_so_without_a_list_item(client: Client, make_post: Callable[..., Post]) -> None:
    post = make_post()
    html = client.get(f"/socialshop/posts/{post.slug}/").content.decode()
    assert '<p class="ss-empty" data-ss-no-comments>No comments yet.</p>' in html
    listing = html[html.index("data-ss-comments>"):html.index("</ol>", html.index("data-ss-comments>"))]
    assert "<li" not in listing
