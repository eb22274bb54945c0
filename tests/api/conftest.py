"""Fixtures for API tests: users by role (no permission, view only, superuser) signed in by HTTP Basic,
and a store with a feed, a live post, a draft post and their tags."""
from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from socialshop.feeds.models import Feed
from socialshop.posts.models import ImageState, Post, PostStatus, ProductTag
from tests.factories import UserFactory
from tests.feeds.conftest import make_feed
from tests.posts.conftest import make_post, picture, products  # noqa: F401 - fixtures shared with tests/posts

PASSWORD = "s3cret-pass"
# The models whose permissions the API checks; "view only" holds view_<model> for each.
API_MODELS = ("feed", "post", "producttag")


def basic_client(username: str, password: str = PASSWORD) -> APIClient:
    """An API client that sends HTTP Basic credentials, as tooling would."""
    client = APIClient()
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


def make_user(username: str, *, perms: tuple[str, ...] = (), superuser: bool = False):  # type: ignore[no-untyped-def]
    """An active staff user with the given socialshop permission codenames."""
    user = UserFactory(username=username, is_staff=True, is_superuser=superuser)
    user.set_password(PASSWORD)
    user.save()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="socialshop", codename__in=perms))
    return user


@pytest.fixture
def role_client(db: None) -> Callable[[str], APIClient]:
    """role -> client: "noperm" (staff, no permission), "viewer" (view_* only), "superuser"."""

    def make(role: str) -> APIClient:
        if role == "noperm":
            make_user("noperm")
        elif role == "viewer":
            make_user("viewer", perms=tuple(f"view_{model}" for model in API_MODELS))
        elif role == "superuser":
            make_user("superuser", superuser=True)
        else:
            raise ValueError(f"unknown role {role!r}")
        return basic_client(role)

    return make


@dataclass(frozen=True)
class Store:
    feed: Feed
    live: Post
    draft: Post
    live_tag: ProductTag
    draft_tag: ProductTag
    product_id: str


@pytest.fixture
def store(make_post, products, settings, tmp_path) -> Store:  # type: ignore[no-untyped-def]
    """One feed, a live post and a draft post, each with one tag."""
    # Marked ready without rendering: these tests are about who may call what, not about images.
    small = {"data": picture((120, 90)), "process": False, "image_state": ImageState.READY, "width": 120, "height": 90}
    live = make_post([(products[0], 0.5, 0.5)], caption="Live #linen", **small)
    draft = make_post([(products[1], 0.4, 0.4)], caption="Draft", status=PostStatus.DRAFT, **small)
    return Store(feed=make_feed(), live=live, draft=draft, live_tag=live.tags.get(), draft_tag=draft.tags.get(),
                 product_id=str(products[2].pk))
