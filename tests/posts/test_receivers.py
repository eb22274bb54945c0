"""Posts and tags saved through the ORM or the API get what the admin gives them (posts/receivers.py):
renditions queued after the commit, the tag's group, category and title from the catalog."""
from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from rest_framework.test import APIClient

from socialshop.posts.gallery import filter_posts, live_posts
from socialshop.posts.models import ImageState, Post, PostStatus, ProductTag
from tests.factories import CategoryFactory, ProductFactory, UserFactory, VariantFactory
from tests.posts.conftest import picture

pytestmark = pytest.mark.django_db
API = "/socialshop/api/"


@pytest.fixture
def shirt() -> Any:
    """A product with two variants in 'Women > Shirts' (its catalog ids are the variant skus)."""
    women = CategoryFactory(name="Women", slug="women")
    product = ProductFactory(name="Linen shirt", category=CategoryFactory(name="Shirts", slug="shirts", parent=women))
    return product, [VariantFactory(product=product), VariantFactory(product=product)]


def _assert_findable(post: Post, product: Any, variant: Any) -> None:
    post.refresh_from_db()
    assert post.image_state == ImageState.READY and set(post.renditions) == {"thumbnail", "square", "portrait", "story"}
    tag = post.tags.get()
    assert (tag.product_id, tag.group_id, tag.category, tag.title) == (variant.sku, str(product.pk), "Women > Shirts", "Linen shirt")
    assert list(live_posts(category="Women")) == [post]
    assert list(live_posts(product=str(product.pk))) == [post]
    assert list(live_posts(product=variant.sku)) == [post]


def test_post_and_tag_created_through_the_orm_get_renditions_and_tag_snapshot(shirt, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    product, variants = shirt
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            post = Post(caption="Linen #summer", status=PostStatus.PUBLISHED)
            post.image.save("look.jpg", ContentFile(picture()), save=False)
            post.save()
            ProductTag.objects.create(post=post, product_id=variants[0].sku, x=0.2, y=0.3)
    assert len(callbacks) == 1  # the post and its tag in one transaction: one processing run
    _assert_findable(post, product, variants[0])
    square = post.renditions["square"]["box"]
    assert square[0] <= 0.2 * post.width  # the crop keeps the tag inside


def test_post_and_tag_created_through_the_api_get_renditions_and_tag_snapshot(shirt, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    product, variants = shirt
    staff = APIClient()
    staff.force_authenticate(UserFactory(username="editor", is_staff=True, is_superuser=True))
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):
        created = staff.post(API + "posts/", {"image": SimpleUploadedFile("a.jpg", picture(), content_type="image/jpeg"),
                                              "caption": "API #linen", "status": "published"}, format="multipart")
        assert created.status_code == 201, created.content
        post = Post.objects.get()
        tagged = staff.post(API + "post-tags/", {"post": post.pk, "product_id": variants[0].sku, "x": 0.7, "y": 0.4}, format="json")
        assert tagged.status_code == 201, tagged.content
    _assert_findable(post, product, variants[0])


def test_moving_a_tag_through_the_orm_recuts_the_renditions(shirt, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    _, variants = shirt
    with django_capture_on_commit_callbacks(execute=True):
        post = Post(caption="x", status=PostStatus.PUBLISHED)
        post.image.save("look.jpg", ContentFile(picture((2000, 1000))), save=False)
        post.save()
        tag = ProductTag.objects.create(post=post, product_id=variants[0].sku, x=0.05, y=0.5)
    post.refresh_from_db()
    before = post.renditions["square"]["box"]
    with django_capture_on_commit_callbacks(execute=True):
        tag.x = 0.95
        tag.save()
    post.refresh_from_db()
    assert post.renditions["square"]["box"][0] > before[0]


def test_changing_the_tag_product_refreshes_its_snapshot(shirt) -> None:  # type: ignore[no-untyped-def]
    product, variants = shirt
    other = ProductFactory(name="Canvas tote", category=CategoryFactory(name="Bags", slug="bags"))
    post = Post.objects.create(caption="x", image="socialshop/posts/none.jpg")
    tag = ProductTag.objects.create(post=post, product_id=variants[1].sku, x=0.5, y=0.5)
    assert tag.category == "Women > Shirts"
    tag = ProductTag.objects.get(pk=tag.pk)
    tag.product_id = str(other.pk)
    tag.save(update_fields=["product_id"])
    tag.refresh_from_db()
    assert (tag.group_id, tag.category, tag.title) == (str(other.pk), "Bags", "Canvas tote")
    assert list(filter_posts(Post.objects.all(), category="Bags")) == [post]


def test_a_stale_post_instance_saved_after_processing_keeps_the_results(shirt, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        post = Post(caption="x", status=PostStatus.DRAFT)
        post.image.save("look.jpg", ContentFile(picture()), save=False)
        post.save()
    assert post.image_state == ImageState.PENDING  # this instance did not see the processing
    post.status = PostStatus.PUBLISHED
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post.save()
    assert callbacks == []  # same picture: nothing to process again
    post.refresh_from_db()
    assert post.status == PostStatus.PUBLISHED and post.image_state == ImageState.READY
    assert post.image.name.startswith(f"socialshop/posts/{post.pk}/master-") and post.renditions


def test_a_new_picture_saved_through_the_orm_is_processed_again(shirt, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        post = Post(caption="x", status=PostStatus.PUBLISHED)
        post.image.save("look.jpg", ContentFile(picture((1200, 900))), save=False)
        post.save()
    post = Post.objects.get(pk=post.pk)
    with django_capture_on_commit_callbacks(execute=True):
        post.image.save("second.jpg", ContentFile(picture((900, 1200))), save=True)
    post.refresh_from_db()
    assert post.image_state == ImageState.READY and (post.width, post.height) == (900, 1200)


def test_saving_a_refreshed_post_does_not_process_it_again(shirt, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        post = Post(caption="x", status=PostStatus.PUBLISHED)
        post.image.save("look.jpg", ContentFile(picture()), save=False)
        post.save()
    post.refresh_from_db()
    post.caption = "Now with a caption #linen"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        post.save()
    assert callbacks == []
    post.refresh_from_db()
    assert post.image_state == ImageState.READY and list(live_posts(hashtag="linen")) == [post]
