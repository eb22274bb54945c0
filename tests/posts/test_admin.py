"""Post admin: the click-to-tag widget, product search, tag validation and image checks on upload."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from socialshop.posts.models import MAX_TAGS_PER_POST, ImageState, Post, ProductTag
from tests.posts.conftest import picture

pytestmark = pytest.mark.django_db


def post_form(post: Post, tags: list[dict[str, object]], **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "caption": post.caption, "slug": post.slug, "source": post.source, "credit": "", "alt_text": "",
        "published_at_0": "2026-01-01", "published_at_1": "10:00:00", "status": post.status,
        "moderation": post.moderation, "submitter_name": "", "submitter_email": "", "submitted_product_id": "",
        "tags-TOTAL_FORMS": str(len(tags)), "tags-INITIAL_FORMS": "0", "tags-MIN_NUM_FORMS": "0",
        "tags-MAX_NUM_FORMS": str(MAX_TAGS_PER_POST),
    }
    for i, tag in enumerate(tags):
        for key, value in tag.items():
            data[f"tags-{i}-{key}"] = value
    data.update(fields)
    return data


def test_change_form_has_the_tag_widget_and_search_url(admin_client, make_post) -> None:  # type: ignore[no-untyped-def]
    post = make_post()
    body = admin_client.get(f"/admin/socialshop/post/{post.pk}/change/").content.decode()
    assert 'id="ss-tagger"' in body and "posts-admin.js" in body
    assert 'data-search-url="/admin/socialshop/post/product-search/"' in body
    assert post.image.url in body


def test_product_search_returns_catalog_matches(admin_client, products) -> None:  # type: ignore[no-untyped-def]
    results = admin_client.get("/admin/socialshop/post/product-search/?q=tote").json()["results"]
    assert [r["title"] for r in results] == ["Canvas tote"]
    assert results[0]["id"] == str(products[1].pk) and results[0]["price"] == "25.00"


def test_product_search_needs_staff(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/admin/socialshop/post/product-search/?q=tote").status_code == 302


def test_saving_tags_snapshots_product_and_reprocesses(admin_client, make_post, products, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    post = make_post()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/socialshop/post/{post.pk}/change/", post_form(post, [
            {"product_id": str(products[0].pk), "x": "0.25", "y": "0.75"},
        ]))
    assert response.status_code == 302, response.content.decode()[:3000]
    tag = ProductTag.objects.get(post=post)
    assert (tag.title, tag.group_id, tag.category) == ("Linen shirt", str(products[0].pk), products[0].category.path)
    post.refresh_from_db()
    assert post.image_state == ImageState.READY and post.renditions


def test_tag_with_unknown_product_is_refused_with_a_message(admin_client, make_post) -> None:  # type: ignore[no-untyped-def]
    post = make_post()
    response = admin_client.post(f"/admin/socialshop/post/{post.pk}/change/", post_form(post, [
        {"product_id": "no-such-product", "x": "0.5", "y": "0.5"},
    ]))
    assert response.status_code == 200
    assert "No product with catalog id" in response.content.decode()
    assert not ProductTag.objects.exists()


def test_tag_outside_the_picture_is_refused_in_admin(admin_client, make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post()
    response = admin_client.post(f"/admin/socialshop/post/{post.pk}/change/", post_form(post, [
        {"product_id": str(products[0].pk), "x": "1.4", "y": "0.5"},
    ]))
    assert response.status_code == 200 and not ProductTag.objects.exists()


def test_more_than_20_tags_are_refused(admin_client, make_post, products) -> None:  # type: ignore[no-untyped-def]
    post = make_post()
    tags = [{"product_id": str(products[i % 3].pk), "x": f"{0.02 + i * 0.045:.3f}", "y": "0.5"} for i in range(21)]
    response = admin_client.post(f"/admin/socialshop/post/{post.pk}/change/", post_form(post, tags))
    assert response.status_code == 200
    assert "A post has at most 20 product tags; this one has 21" in response.content.decode()
    assert not ProductTag.objects.exists()


def test_admin_upload_of_a_hostile_image_is_refused(admin_client) -> None:  # type: ignore[no-untyped-def]
    data = post_form(Post(slug="new-one", caption="x"), [], image=SimpleUploadedFile(
        "bomb.jpg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", content_type="image/jpeg"))
    response = admin_client.post("/admin/socialshop/post/add/", data)
    assert response.status_code == 200 and "SVG images are not accepted" in response.content.decode()
    assert not Post.objects.exists()


def test_admin_upload_is_processed_after_commit(admin_client, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    data = post_form(Post(slug="fresh", caption="Fresh #look"), [], image=SimpleUploadedFile(
        "fresh.jpg", picture((900, 900)), content_type="image/jpeg"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/socialshop/post/add/", data)
    assert response.status_code == 302
    post = Post.objects.get(slug="fresh")
    assert post.image_state == ImageState.READY and post.image.name.startswith(f"socialshop/posts/{post.pk}/master-")


def test_the_21st_tag_cannot_be_saved_by_any_path(make_post, products) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import ValidationError

    post = make_post(process=False)
    for i in range(MAX_TAGS_PER_POST):
        ProductTag.objects.create(post=post, product_id=str(products[0].pk), x=i / 20, y=0.5)
    with pytest.raises(ValidationError, match="at most 20"):
        ProductTag.objects.create(post=post, product_id=str(products[1].pk), x=0.5, y=0.9)
