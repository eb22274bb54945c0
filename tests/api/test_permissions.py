"""Every API action checks Django's model permissions (issue #12.1): a staff user without permissions
gets 403 on everything that is not a public read, a view-only user reads (the feed token hidden) but may
not write, a superuser may do everything. Missing or wrong credentials get 401 with WWW-Authenticate.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from socialshop.api.base import STANDARD_ACTIONS
from socialshop.api.urls import router
from socialshop.feeds.models import Feed
from tests.api.conftest import Store, basic_client, make_user, picture

pytestmark = pytest.mark.django_db
API = "/socialshop/api/"


@dataclass(frozen=True)
class Call:
    """One API action: how to call it, what a permitted user gets, and whether anyone may call it."""

    name: str
    method: str
    path: Callable[[Store], str]
    ok: int
    body: Callable[[Store], dict[str, Any]] | None = None
    public: bool = False
    write: bool = False
    multipart: bool = False


def _new_post(store: Store) -> dict[str, Any]:
    return {"image": SimpleUploadedFile("new.jpg", picture((600, 400)), content_type="image/jpeg"),
            "caption": "From the API", "slug": "from-api"}


CALLS = [
    # feeds: nothing public
    Call("feeds-list", "get", lambda s: f"{API}feeds/", 200),
    Call("feeds-retrieve", "get", lambda s: f"{API}feeds/{s.feed.pk}/", 200),
    Call("feeds-builds", "get", lambda s: f"{API}feeds/{s.feed.pk}/builds/", 200),
    Call("feeds-dry-run", "get", lambda s: f"{API}feeds/{s.feed.pk}/dry_run/", 200),
    Call("feeds-create", "post", lambda s: f"{API}feeds/", 201, write=True,
         body=lambda s: {"name": "M", "slug": "m", "platform": "meta", "file_format": "csv"}),
    Call("feeds-update", "put", lambda s: f"{API}feeds/{s.feed.pk}/", 200, write=True,
         body=lambda s: {"name": "G2", "slug": s.feed.slug, "platform": "google", "file_format": "xml"}),
    Call("feeds-partial-update", "patch", lambda s: f"{API}feeds/{s.feed.pk}/", 200, write=True,
         body=lambda s: {"enabled": False}),
    Call("feeds-build", "post", lambda s: f"{API}feeds/{s.feed.pk}/build/", 202, write=True, body=lambda s: {}),
    Call("feeds-destroy", "delete", lambda s: f"{API}feeds/{s.feed.pk}/", 204, write=True),
    # posts: live posts are public reads; drafts and writes are not
    Call("posts-list", "get", lambda s: f"{API}posts/", 200, public=True),
    Call("posts-retrieve-live", "get", lambda s: f"{API}posts/{s.live.slug}/", 200, public=True),
    Call("posts-retrieve-draft", "get", lambda s: f"{API}posts/{s.draft.slug}/", 200),
    Call("posts-create", "post", lambda s: f"{API}posts/", 201, write=True, body=_new_post, multipart=True),
    Call("posts-partial-update", "patch", lambda s: f"{API}posts/{s.live.slug}/", 200, write=True,
         body=lambda s: {"caption": "Changed"}),
    Call("posts-update", "put", lambda s: f"{API}posts/{s.live.slug}/", 200, write=True, multipart=True,
         body=lambda s: {**_new_post(s), "slug": s.live.slug, "status": "published"}),
    Call("posts-destroy", "delete", lambda s: f"{API}posts/{s.live.slug}/", 204, write=True),
    # post-tags: tags of live posts are public reads
    Call("post-tags-list", "get", lambda s: f"{API}post-tags/", 200, public=True),
    Call("post-tags-retrieve-live", "get", lambda s: f"{API}post-tags/{s.live_tag.pk}/", 200, public=True),
    Call("post-tags-retrieve-draft", "get", lambda s: f"{API}post-tags/{s.draft_tag.pk}/", 200),
    Call("post-tags-create", "post", lambda s: f"{API}post-tags/", 201, write=True,
         body=lambda s: {"post": s.live.pk, "product_id": s.product_id, "x": 0.2, "y": 0.3}),
    Call("post-tags-partial-update", "patch", lambda s: f"{API}post-tags/{s.live_tag.pk}/", 200, write=True,
         body=lambda s: {"x": 0.7}),
    Call("post-tags-update", "put", lambda s: f"{API}post-tags/{s.live_tag.pk}/", 200, write=True,
         body=lambda s: {"post": s.live.pk, "product_id": s.live_tag.product_id, "x": 0.1, "y": 0.9}),
    Call("post-tags-destroy", "delete", lambda s: f"{API}post-tags/{s.live_tag.pk}/", 204, write=True),
]
# A draft the user may not see is a 404 (it is not in their queryset), not a 403.
HIDDEN_WHEN_NOT_ALLOWED = {"posts-retrieve-draft", "post-tags-retrieve-draft"}


def _call(client: APIClient, call: Call, store: Store):  # type: ignore[no-untyped-def]
    body = call.body(store) if call.body else None
    fmt = "multipart" if call.multipart else "json"
    return getattr(client, call.method)(call.path(store), body, format=fmt) if body is not None else \
        getattr(client, call.method)(call.path(store))


def _expected(role: str, call: Call) -> int:
    allowed = role == "superuser" or call.public or (role == "viewer" and not call.write)
    if allowed:
        return call.ok
    return 404 if call.name in HIDDEN_WHEN_NOT_ALLOWED else 403


@pytest.mark.parametrize("role", ["noperm", "viewer", "superuser"])
@pytest.mark.parametrize("call", CALLS, ids=[c.name for c in CALLS])
def test_each_action_needs_its_model_permission(role: str, call: Call, role_client, store: Store,  # type: ignore[no-untyped-def]
                                                feed_storage_dir) -> None:
    response = _call(role_client(role), call, store)
    assert response.status_code == _expected(role, call), response.content


@pytest.fixture
def feed_storage_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_staff_user_without_permission_cannot_delete_a_feed_nor_see_its_token(role_client, store: Store) -> None:  # type: ignore[no-untyped-def]
    client = role_client("noperm")
    assert client.delete(f"{API}feeds/{store.feed.pk}/").status_code == 403
    assert client.get(f"{API}feeds/").status_code == 403
    assert Feed.objects.filter(pk=store.feed.pk).exists()


@pytest.mark.parametrize("path", ["feeds/", "feeds/{pk}/"])
def test_the_feed_token_and_url_are_shown_only_to_users_who_may_change_feeds(path: str, role_client, store: Store) -> None:  # type: ignore[no-untyped-def]
    url = API + path.format(pk=store.feed.pk)
    viewer = role_client("viewer").get(url).json()
    superuser = role_client("superuser").get(url).json()
    viewer_feed = viewer[0] if isinstance(viewer, list) else viewer
    superuser_feed = superuser[0] if isinstance(superuser, list) else superuser
    assert viewer_feed["slug"] == store.feed.slug
    assert "token" not in viewer_feed and "url" not in viewer_feed
    assert store.feed.token not in str(viewer)
    assert superuser_feed["token"] == store.feed.token and store.feed.token in superuser_feed["url"]


def test_a_user_who_may_change_feeds_sees_the_token(store: Store) -> None:  # type: ignore[no-untyped-def]
    make_user("editor", perms=("change_feed",))
    data = basic_client("editor").get(f"{API}feeds/{store.feed.pk}/").json()
    assert data["token"] == store.feed.token


def test_build_now_needs_the_build_feed_permission_not_change(store: Store, feed_storage_dir) -> None:  # type: ignore[no-untyped-def]
    make_user("changer", perms=("view_feed", "change_feed"))
    make_user("builder", perms=("view_feed", "build_feed"))
    assert basic_client("changer").post(f"{API}feeds/{store.feed.pk}/build/", {}, format="json").status_code == 403
    assert basic_client("builder").post(f"{API}feeds/{store.feed.pk}/build/", {}, format="json").status_code == 202


@pytest.mark.parametrize("role", ["noperm", "viewer"])
def test_drafts_are_listed_only_for_users_who_may_view_posts(role: str, role_client, store: Store) -> None:  # type: ignore[no-untyped-def]
    data = role_client(role).get(f"{API}posts/").json()
    slugs = {item["slug"] for item in data["results"]}
    assert slugs == ({store.live.slug, store.draft.slug} if role == "viewer" else {store.live.slug})


def test_anonymous_reads_live_posts_and_tags() -> None:
    client = APIClient()
    assert client.get(f"{API}posts/").status_code == 200
    assert client.get(f"{API}post-tags/").status_code == 200


@pytest.mark.parametrize("method,path", [("get", "feeds/"), ("post", "posts/"), ("delete", "feeds/1/")])
def test_missing_credentials_on_a_protected_endpoint_are_a_401_with_www_authenticate(method: str, path: str) -> None:
    response = getattr(APIClient(), method)(API + path)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")


def test_wrong_credentials_are_a_401_with_www_authenticate(role_client, store: Store) -> None:  # type: ignore[no-untyped-def]
    role_client("superuser")
    response = basic_client("superuser", "wrong").get(f"{API}feeds/")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Basic")


def test_a_signed_in_user_who_is_not_staff_gets_403_even_with_permissions(store: Store) -> None:  # type: ignore[no-untyped-def]
    user = make_user("shopper", perms=("view_feed",))
    user.is_staff = False
    user.save()
    assert basic_client("shopper").get(f"{API}feeds/").status_code == 403


def test_every_custom_action_names_its_permissions() -> None:
    for _prefix, viewset, _basename in router.registry:
        for extra in viewset.get_extra_actions():
            assert extra.__name__ in viewset.action_permissions, f"{viewset.__name__}.{extra.__name__}"
        assert not set(viewset.action_permissions) & STANDARD_ACTIONS
