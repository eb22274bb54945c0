"""Comments on posts: signed-in or name+email, held for moderation when configured, rate-limited, escaped."""
from __future__ import annotations

import pytest
from django.urls import reverse

from socialshop.posts.models import Comment, CommentStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(make_post):  # type: ignore[no-untyped-def]
    return make_post(caption="Commentable")


def url(post) -> str:  # type: ignore[no-untyped-def]
    return reverse("socialshop:posts-comment", args=[post.slug])


def test_comment_is_held_for_moderation_by_default(client, post) -> None:  # type: ignore[no-untyped-def]
    response = client.post(url(post), {"name": "Bo", "email": "bo@example.com", "body": "Where is this?"},
                            HTTP_ACCEPT="application/json")
    assert response.json()["held"] is True
    comment = Comment.objects.get()
    assert comment.status == CommentStatus.PENDING
    assert "Where is this?" not in client.get(reverse("socialshop:posts-detail", args=[post.slug])).content.decode()


def test_comment_shows_at_once_without_moderation_and_is_escaped(client, post, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "COMMENT_MODERATION": False}
    client.post(url(post), {"name": "<b>Eve</b>", "email": "eve@example.com", "body": "<img src=x onerror=alert(1)>"})
    body = client.get(reverse("socialshop:posts-detail", args=[post.slug])).content.decode()
    assert "<img src=x onerror" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "&lt;b&gt;Eve&lt;/b&gt;" in body
    assert "eve@example.com" not in body


def test_anonymous_comment_needs_name_and_email(client, post) -> None:  # type: ignore[no-untyped-def]
    response = client.post(url(post), {"body": "Hi"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and "name and email" in response.json()["error"]
    assert not Comment.objects.exists()


def test_signed_in_customer_comments_without_email(client, post) -> None:  # type: ignore[no-untyped-def]
    user = UserFactory(first_name="Kim", last_name="Lee")
    client.force_login(user)
    response = client.post(url(post), {"body": "Nice"}, HTTP_ACCEPT="application/json")
    assert response.json()["ok"] is True
    comment = Comment.objects.get()
    assert comment.user == user and comment.name == "Kim Lee"


def test_comments_are_rate_limited(client, post, settings) -> None:  # type: ignore[no-untyped-def]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "COMMENTS_PER_HOUR": 2}
    data = {"name": "Spam", "email": "s@example.com", "body": "buy now"}
    codes = [client.post(url(post), data, HTTP_ACCEPT="application/json").status_code for _ in range(3)]
    assert codes == [200, 200, 429] and Comment.objects.count() == 2


def test_comment_on_a_draft_post_is_404(client, make_post) -> None:  # type: ignore[no-untyped-def]
    draft = make_post(status="draft")
    assert client.post(url(draft), {"name": "A", "email": "a@example.com", "body": "x"}).status_code == 404


def test_admin_approves_comments(admin_client, post) -> None:  # type: ignore[no-untyped-def]
    comment = Comment.objects.create(post=post, name="Al", email="al@example.com", body="ok")
    admin_client.post("/admin/socialshop/comment/", {"action": "approve", "_selected_action": [comment.pk]})
    comment.refresh_from_db()
    assert comment.status == CommentStatus.APPROVED
