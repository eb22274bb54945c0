"""Every custom admin action and page of socialshop asks for the permission it uses.

Three staff users: one without any socialshop permission, one with view permissions only, and a
superuser. Actions are checked both as offered in the changelist and as a direct POST.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from socialshop.audiences.models import Audience, RuleKind
from socialshop.feeds.models import Feed
from socialshop.platforms.models import PlatformStatus
from socialshop.posts.models import Comment, CommentStatus, Moderation, Post, PostSource, PostStatus
from socialshop.tracking.models import Delivery, DeliveryStatus, Event
from tests.campaigns.conftest import make_campaign
from tests.posts.conftest import picture

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_media_root(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _meta_audience_uploads(settings: Any) -> None:
    """Meta's audience uploads on, so that "Sync now" has somewhere to sync (too few members: nothing is sent)."""
    platforms = settings.SOCIALSHOP["PLATFORMS"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {**platforms, "meta": {**platforms["meta"], "ad_account_id": "act_1"}}}


def _audience() -> Audience:
    return Audience.objects.get_or_create(slug="everyone", defaults={"name": "Everyone", "kind": RuleKind.VISITORS})[0]


def _post(**fields: Any) -> Post:
    post = Post(caption="A look", **fields)
    post.image.save("look.jpg", ContentFile(picture((64, 64))), save=False)
    post.save()
    return post


def _post_without_renditions() -> Post:
    """A post whose processing (queued by posts/receivers.py at creation) ran, then lost its renditions."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        post = _post(status=PostStatus.DRAFT)
    Post.objects.filter(pk=post.pk).update(renditions={})
    return post


def _customer_photo() -> Post:
    return _post(source=PostSource.CUSTOMER, status=PostStatus.DRAFT, moderation=Moderation.PENDING, rights_granted=True)


def _failed_delivery() -> Delivery:
    now = timezone.now()
    event = Event.objects.create(event_id="perm-1", name="ViewContent", occurred_at=now, received_at=now)
    return Delivery.objects.create(event=event, platform="meta", status=DeliveryStatus.FAILED, attempts=8)


@dataclass(frozen=True)
class ActionCase:
    """An admin action: the model's admin, how to make a row, and whether the action changed it."""

    model: str
    action: str
    make: Callable[[], Any]
    done: Callable[[Any], bool]

    def __str__(self) -> str:
        return f"{self.model}.{self.action}"


def _fresh(obj: Any) -> Any:
    return type(obj).objects.get(pk=obj.pk)


ACTIONS = [
    ActionCase("post", "publish", lambda: _post(status=PostStatus.DRAFT), lambda p: _fresh(p).status == PostStatus.PUBLISHED),
    ActionCase("post", "hide", lambda: _post(status=PostStatus.PUBLISHED), lambda p: _fresh(p).status == PostStatus.HIDDEN),
    ActionCase("post", "reprocess", _post_without_renditions, lambda p: _fresh(p).renditions != {}),
    ActionCase("customerphoto", "approve_and_publish", _customer_photo, lambda p: _fresh(p).status == PostStatus.PUBLISHED),
    ActionCase("customerphoto", "approve", _customer_photo, lambda p: _fresh(p).moderation == Moderation.APPROVED),
    ActionCase("customerphoto", "reject", _customer_photo, lambda p: _fresh(p).moderation == Moderation.REJECTED),
    ActionCase("comment", "approve", lambda: Comment.objects.create(post=_post(), name="A", email="a@example.com", body="Nice"),
               lambda c: _fresh(c).status == CommentStatus.APPROVED),
    ActionCase("comment", "reject", lambda: Comment.objects.create(post=_post(), name="A", email="a@example.com", body="Nice"),
               lambda c: _fresh(c).status == CommentStatus.REJECTED),
    ActionCase("feed", "build_now", lambda: Feed.objects.create(name="G", slug="g", platform="google", token="t"),
               lambda f: f.builds.exists()),
    ActionCase("platformstatus", "resume_forwarding", lambda: PlatformStatus.objects.create(slug="meta", halted_at=timezone.now()),
               lambda s: _fresh(s).halted_at is None),
    ActionCase("platformstatus", "send_test_events", lambda: PlatformStatus.objects.create(slug="meta"),
               lambda s: bool(_fresh(s).last_error or _fresh(s).test_event_at)),
    ActionCase("delivery", "retry_failed", _failed_delivery, lambda d: _fresh(d).status == DeliveryStatus.PENDING),
    ActionCase("audience", "build_now", _audience, lambda a: a.builds.exists()),
    ActionCase("audience", "sync_now", _audience, lambda a: a.destinations.filter(last_sync_at__isnull=False).exists()),
    ActionCase("campaign", "refresh_now", lambda: make_campaign(), lambda c: _fresh(c).last_refreshed_at is not None),
    ActionCase("campaign", "render_ads_now", lambda: make_campaign(), lambda c: c.creative_runs.exists()),
    ActionCase("campaign", "sync_sets_now", lambda: make_campaign(), lambda c: _fresh(c).product_sets != {}),
]


def _staff(username: str, *, perms: list[str] = (), superuser: bool = False) -> Client:
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True, is_superuser=superuser)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="socialshop", codename__in=perms))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def nobody() -> Client:
    """Staff, with no socialshop permission at all."""
    return _staff("nobody")


@pytest.fixture
def viewer() -> Client:
    """Staff with every socialshop view permission and nothing else."""
    codenames = list(Permission.objects.filter(content_type__app_label="socialshop", codename__startswith="view_")
                     .values_list("codename", flat=True))
    return _staff("viewer", perms=codenames)


@pytest.fixture
def boss() -> Client:
    return _staff("boss", superuser=True)


def _changelist(model: str) -> str:
    return reverse(f"admin:socialshop_{model}_changelist")


def _offered(client: Client, model: str) -> set[str]:
    response = client.get(_changelist(model))
    assert response.status_code == 200
    form = response.context["action_form"]  # None when no action at all is offered
    return {name for name, _ in form.fields["action"].choices} if form is not None else set()


def _post_action(client: Client, case: ActionCase, obj: Any) -> Any:
    """POST the action; work queued for after the commit (reprocessing) runs too."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(_changelist(case.model), {"action": case.action, "_selected_action": [obj.pk], "index": 0})


def test_every_custom_action_declares_its_permissions() -> None:
    declared = set()
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "socialshop":
            continue
        for name in model_admin.actions or ():
            func = getattr(model_admin, name) if isinstance(name, str) else name
            assert getattr(func, "allowed_permissions", None), f"{model.__name__}.{func.__name__} declares no permissions"
            declared.add(f"{model._meta.model_name}.{func.__name__}")
    assert declared == {str(case) for case in ACTIONS}, "ACTIONS above must list every custom action"


@pytest.mark.parametrize("case", ACTIONS, ids=str)
def test_staff_without_permission_cannot_open_the_list_nor_run_the_action(nobody: Client, case: ActionCase) -> None:
    obj = case.make()
    assert nobody.get(_changelist(case.model)).status_code == 403
    assert _post_action(nobody, case, obj).status_code == 403
    assert not case.done(obj)


@pytest.mark.parametrize("case", ACTIONS, ids=str)
def test_view_only_staff_sees_the_list_but_the_action_is_neither_offered_nor_run(viewer: Client, case: ActionCase) -> None:
    obj = case.make()
    assert case.action not in _offered(viewer, case.model)
    response = _post_action(viewer, case, obj)
    assert response.status_code in (200, 302)
    assert not case.done(obj)


@pytest.mark.parametrize("case", ACTIONS, ids=str)
def test_superuser_runs_the_action(boss: Client, case: ActionCase) -> None:
    obj = case.make()
    assert case.action in _offered(boss, case.model)
    _post_action(boss, case, obj)
    assert case.done(obj)


def test_build_feed_permission_alone_lets_a_user_build(django_capture_on_commit_callbacks: Any) -> None:
    feed = Feed.objects.create(name="G", slug="g", platform="google", token="t")
    builder = _staff("builder", perms=["view_feed", "build_feed"])
    assert "build_now" in _offered(builder, "feed")
    response = builder.post(reverse("admin:socialshop_feed_build", args=[feed.pk]))
    assert response.status_code == 302 and feed.builds.exists()


def test_change_feed_permission_does_not_include_building() -> None:
    feed = Feed.objects.create(name="G", slug="g", platform="google", token="t")
    editor = _staff("editor", perms=["view_feed", "change_feed"])
    assert "build_now" not in _offered(editor, "feed")
    assert editor.post(reverse("admin:socialshop_feed_build", args=[feed.pk])).status_code == 403
    assert not feed.builds.exists()


# -- custom pages ------------------------------------------------------------------------------

def _pages() -> dict[str, Callable[[], tuple[str, str]]]:
    """page -> () -> (method, url); the feed pages need a feed row first."""
    def feed_url(name: str) -> str:
        feed = Feed.objects.get_or_create(slug="g", defaults={"name": "G", "platform": "google", "token": "t"})[0]
        return reverse(name, args=[feed.pk])

    return {
        "feed build": lambda: ("post", feed_url("admin:socialshop_feed_build")),
        "feed dry run": lambda: ("get", feed_url("admin:socialshop_feed_dry_run")),
        "match report": lambda: ("get", reverse("admin:socialshop_feed_match_report")),
        "product search": lambda: ("get", reverse("admin:socialshop_post_product_search") + "?q=a"),
        "audience build": lambda: ("post", reverse("admin:socialshop_audience_build", args=[_audience().pk])),
        "audience sync": lambda: ("post", reverse("admin:socialshop_audience_sync", args=[_audience().pk])),
        "audience import": lambda: ("get", reverse("admin:socialshop_audience_import", args=[_audience().pk])),
    }


PAGES = _pages()
# What a view-only user gets: reading pages open, the build (a change) is refused.
VIEWER_STATUS = {"feed build": 403, "feed dry run": 200, "match report": 200, "product search": 403,
                 "audience build": 403, "audience sync": 403, "audience import": 403}


@pytest.mark.parametrize("page", PAGES)
def test_custom_pages_refuse_staff_without_permission(nobody: Client, page: str) -> None:
    method, url = PAGES[page]()
    assert getattr(nobody, method)(url).status_code == 403
    assert not Feed.objects.filter(builds__isnull=False).exists()


@pytest.mark.parametrize("page", PAGES)
def test_custom_pages_for_view_only_staff(viewer: Client, page: str) -> None:
    method, url = PAGES[page]()
    assert getattr(viewer, method)(url).status_code == VIEWER_STATUS[page]


@pytest.mark.parametrize("page", PAGES)
def test_custom_pages_work_for_a_superuser(boss: Client, page: str) -> None:
    method, url = PAGES[page]()
    assert getattr(boss, method)(url).status_code in (200, 302)


@pytest.mark.parametrize("query", ["limit=abc", "limit=-1", "limit=99999999999", "limit=", "limit=1e3"])
def test_dry_run_with_a_bad_limit_falls_back_with_a_message(boss: Client, query: str) -> None:
    _, url = PAGES["feed dry run"]()
    response = boss.get(f"{url}?{query}")
    assert response.status_code == 200
    if query != "limit=":
        assert "limit=" in " ".join(str(m) for m in response.context["messages"])


@pytest.mark.parametrize("query", ["days=abc", "days=-1", "days=99999999999", "days=", "days=%00"])
def test_match_report_with_bad_days_falls_back_with_a_message(boss: Client, query: str) -> None:
    response = boss.get(reverse("admin:socialshop_feed_match_report") + f"?{query}")
    assert response.status_code == 200
    assert 1 <= response.context["days"] <= 365
