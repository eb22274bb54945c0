"""Customer photos: upload with an explicit rights grant, size and rate limits, the moderation queue,
and the database rule that nothing is published before rights are granted and the photo approved."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from socialshop.posts.models import CustomerPhoto, ImageState, Moderation, Post, PostSource, PostStatus
from tests.posts.conftest import picture

pytestmark = pytest.mark.django_db
URL = "/socialshop/posts/photos/new/"


def form(**overrides: object) -> dict[str, object]:
    data = {
        "photo": SimpleUploadedFile("me.jpg", picture((800, 1000)), content_type="image/jpeg"),
        "caption": "Love my new tote #beach", "name": "Ana", "email": "ana@example.com", "rights": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_upload_with_rights_waits_in_the_moderation_queue_unpublished(client, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, form())
    assert response.status_code == 201
    photo = CustomerPhoto.objects.get()
    assert photo.source == PostSource.CUSTOMER and photo.status == PostStatus.DRAFT
    assert photo.moderation == Moderation.PENDING and photo.rights_granted and photo.rights_granted_at
    assert photo.credit == "Ana" and photo.image_state == ImageState.READY  # processed by the task
    assert "Love my new tote" not in client.get("/socialshop/posts/").content.decode()


def test_upload_without_granting_rights_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(URL, form(rights=None))
    assert response.status_code == 200
    assert "Please grant the store the right to use your photo" in response.content.decode()
    assert not Post.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG images are not accepted"),
    (b"plain text pretending" * 10, "not a picture we can read"),
])
def test_hostile_upload_is_refused_with_a_clear_message(client, data: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(URL, form(photo=SimpleUploadedFile("x.jpg", data, content_type="image/jpeg")))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Post.objects.exists()


def test_upload_over_the_size_limit_is_refused(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "UPLOAD_MAX_BYTES": 2000}
    response = client.post(URL, form())
    assert response.status_code in (200, 413)
    assert not Post.objects.exists()


def test_uploads_are_rate_limited_per_client(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "POST_UPLOADS_PER_HOUR": 2}
    codes = [client.post(URL, form()).status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert Post.objects.count() == 2


def customer_post(**fields: object) -> Post:
    base = {"slug": "cp", "image": "x.jpg", "source": PostSource.CUSTOMER, "moderation": Moderation.PENDING}
    return Post.objects.create(**{**base, **fields})


@pytest.mark.parametrize(("rights", "moderation"), [
    (False, Moderation.APPROVED), (True, Moderation.PENDING), (True, Moderation.REJECTED), (False, Moderation.PENDING),
])
def test_database_refuses_to_publish_a_customer_photo_without_rights_and_approval(rights: bool, moderation: str) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        customer_post(rights_granted=rights, moderation=moderation, status=PostStatus.PUBLISHED)
    post = customer_post(rights_granted=rights, moderation=moderation)
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=post.pk).update(status=PostStatus.PUBLISHED)  # even a bulk update cannot


def test_customer_photo_with_rights_and_approval_can_be_published() -> None:
    post = customer_post(rights_granted=True, moderation=Moderation.APPROVED, status=PostStatus.PUBLISHED)
    assert post.status == PostStatus.PUBLISHED


def test_admin_approve_and_publish_skips_photos_without_rights(admin_client) -> None:  # type: ignore[no-untyped-def]
    granted = customer_post(slug="granted", rights_granted=True)
    missing = customer_post(slug="missing", rights_granted=False)
    response = admin_client.post("/admin/socialshop/customerphoto/", {
        "action": "approve_and_publish", "_selected_action": [granted.pk, missing.pk],
    }, follow=True)
    assert "1 without granted rights was left unpublished" in response.content.decode()
    granted.refresh_from_db()
    missing.refresh_from_db()
    assert (granted.status, granted.moderation) == (PostStatus.PUBLISHED, Moderation.APPROVED)
    assert missing.status == PostStatus.DRAFT


def test_admin_publish_action_on_posts_skips_unapproved_customer_photos(admin_client) -> None:  # type: ignore[no-untyped-def]
    pending = customer_post(slug="pending", rights_granted=True)
    own = Post.objects.create(slug="own", image="y.jpg")
    admin_client.post("/admin/socialshop/post/", {"action": "publish", "_selected_action": [pending.pk, own.pk]})
    pending.refresh_from_db()
    own.refresh_from_db()
    assert pending.status == PostStatus.DRAFT and own.status == PostStatus.PUBLISHED


def test_moderation_queue_lists_only_customer_photos(admin_client) -> None:  # type: ignore[no-untyped-def]
    customer_post(slug="from-a-customer", caption="customer caption")
    Post.objects.create(slug="ours", image="y.jpg", caption="our caption")
    body = admin_client.get("/admin/socialshop/customerphoto/").content.decode()
    assert "customer caption" in body and "our caption" not in body


def test_refused_uploads_count_towards_the_rate_limit(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "POST_UPLOADS_PER_HOUR": 2}
    bad = {"photo": SimpleUploadedFile("x.jpg", b"not an image at all", content_type="image/jpeg")}
    codes = [client.post(URL, form(**bad)).status_code for _ in range(2)] + [client.post(URL, form()).status_code]
    assert codes == [200, 200, 429] and not Post.objects.exists()
