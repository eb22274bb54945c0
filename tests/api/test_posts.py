"""The posts and post-tags API: public reads of live posts with live product cards, staff writes."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from socialshop.posts.models import ImageState, Post, PostStatus, ProductTag
from tests.factories import UserFactory
from tests.posts.conftest import make_post, picture, products  # noqa: F401 - fixtures shared with tests/posts

pytestmark = pytest.mark.django_db
API = "/socialshop/api/"


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def staff() -> APIClient:
    """An editor: staff with every permission on posts and their tags."""
    user = UserFactory(username="editor", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="socialshop",
                                                        content_type__model__in=["post", "producttag"]))
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_anonymous_list_shows_live_posts_with_renditions_and_visible_tags(make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post([(products[0], 0.5, 0.5), (products[2], 0.2, 0.2)], caption="Live #linen")
    make_post(caption="Draft", status=PostStatus.DRAFT)
    products[2].delete()
    data = APIClient().get(API + "posts/").json()
    items = data["results"] if isinstance(data, dict) else data
    assert [item["slug"] for item in items] == [post.slug]
    item = items[0]
    assert item["hashtags"] == ["linen"]
    assert set(item["renditions"]) == {"thumbnail", "square", "portrait", "story"}
    assert item["renditions"]["square"]["webp"].startswith("http://testserver/media/")
    [tag] = item["tags"]  # the deleted product's tag is hidden
    assert tag["product"]["title"] == "Linen shirt" and tag["product"]["price"] == "40.00"
    assert set(tag["positions"]) == set(item["renditions"])
    assert "image" not in item


def test_list_filters_by_product_and_hashtag(make_post, products) -> None:  # type: ignore[no-untyped-def]
    make_post([(products[0], 0.5, 0.5)], caption="A #one")
    b = make_post([(products[1], 0.5, 0.5)], caption="B #two")
    client = APIClient()
    by_product = client.get(API + "posts/", {"product": str(products[1].pk)}).json()
    by_tag = client.get(API + "posts/", {"hashtag": "two"}).json()
    for data in (by_product, by_tag):
        items = data["results"] if isinstance(data, dict) else data
        assert [i["slug"] for i in items] == [b.slug]


def test_detail_by_slug_and_draft_is_hidden_from_anonymous(make_post) -> None:  # type: ignore[no-untyped-def]
    live = make_post(caption="Live")
    draft = make_post(caption="Hidden draft", status=PostStatus.DRAFT)
    client = APIClient()
    assert client.get(f"{API}posts/{live.slug}/").json()["slug"] == live.slug
    assert client.get(f"{API}posts/{draft.slug}/").status_code == 404


def test_anonymous_cannot_write(make_post) -> None:  # type: ignore[no-untyped-def]
    post = make_post()
    client = APIClient()
    assert client.patch(f"{API}posts/{post.slug}/", {"caption": "hacked"}, format="json").status_code in (401, 403)
    assert client.post(API + "post-tags/", {"post": post.pk, "product_id": "1", "x": 0.5, "y": 0.5}).status_code in (401, 403)


def test_staff_creates_a_post_with_an_image_and_it_is_processed(staff, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile("new.jpg", picture((1000, 800)), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(API + "posts/", {"image": upload, "caption": "From the API #api", "status": "published"},
                              format="multipart")
    assert response.status_code == 201, response.content
    post = Post.objects.get()
    assert post.image_state == ImageState.READY and post.hashtag_list == ["api"]


def test_staff_image_upload_refuses_hostile_files(staff) -> None:  # type: ignore[no-untyped-def]
    upload = SimpleUploadedFile("x.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", content_type="image/jpeg")
    response = staff.post(API + "posts/", {"image": upload, "caption": "x"}, format="multipart")
    assert response.status_code == 400 and "SVG" in str(response.json()["image"])


def test_staff_tags_a_product_and_bad_tags_are_refused(staff, make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post()
    ok = staff.post(API + "post-tags/", {"post": post.pk, "product_id": str(products[0].pk), "x": 0.3, "y": 0.6}, format="json")
    assert ok.status_code == 201, ok.content
    assert ProductTag.objects.get().title == "Linen shirt"
    outside = staff.post(API + "post-tags/", {"post": post.pk, "product_id": str(products[0].pk), "x": 1.3, "y": 0.6}, format="json")
    assert outside.status_code == 400 and "outside the picture" in str(outside.json())
    unknown = staff.post(API + "post-tags/", {"post": post.pk, "product_id": "nope", "x": 0.3, "y": 0.6}, format="json")
    assert unknown.status_code == 400 and "No product" in str(unknown.json())


def test_staff_cannot_publish_an_unapproved_customer_photo_through_the_api(staff) -> None:  # type: ignore[no-untyped-def]
    Post.objects.create(slug="cust", image="x.jpg", source="customer", moderation="pending", rights_granted=True)
    response = staff.patch(f"{API}posts/cust/", {"status": "published"}, format="json")
    assert response.status_code == 400 and "approved" in str(response.json())
    assert Post.objects.get().status == PostStatus.DRAFT


def test_schema_lists_the_posts_resources() -> None:
    schema = APIClient().get(API + "schema/").content.decode()
    assert "/posts/" in schema and "/post-tags/" in schema
