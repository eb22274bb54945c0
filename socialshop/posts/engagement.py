"""Engagement of shoppable posts, read from the event store: counts per post and per tag, and revenue
attributed to a post (purchases by visitors who clicked one of its tags within POST_ATTRIBUTION_DAYS).

Events arrive through the tracking tag (tracking/); the admin shows these numbers (posts/admin.py).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, QuerySet, Sum

from socialshop.conf import app_settings
from socialshop.posts.models import Post, PostStatus
from socialshop.tracking.models import Event, EventName
from socialshop.tracking.simulate import SimulatedPost

POST_EVENTS: tuple[str, ...] = (
    EventName.POST_VIEW, EventName.POST_CLOSEUP, EventName.POST_CLICK, EventName.POST_SAVE,
    EventName.POST_LIKE, EventName.POST_SHARE, EventName.POST_COMMENT,
)


@dataclass(frozen=True, slots=True)
class Attribution:
    """Orders attributed to one post: how many, and their value per currency."""

    orders: int
    revenue: dict[str, Decimal]


def counts_by_post(post_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """post_id -> {event name -> count} for the post engagement events, in one query."""
    ids = [str(i) for i in post_ids]
    out: dict[str, dict[str, int]] = {i: dict.fromkeys(POST_EVENTS, 0) for i in ids}
    rows = (
        Event.objects.filter(post_id__in=ids, name__in=POST_EVENTS)
        .values("post_id", "name").annotate(n=Count("id")).order_by()
    )
    for row in rows:
        out[row["post_id"]][row["name"]] = row["n"]
    return out


def counts_by_tag(post_id: str) -> dict[str, dict[str, int]]:
    """tag_id -> {event name -> count} for one post's tags (PostClick, AddToCart), in one query."""
    rows = (
        Event.objects.filter(post_id=str(post_id)).exclude(tag_id="")
        .values("tag_id", "name").annotate(n=Count("id")).order_by()
    )
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        out.setdefault(row["tag_id"], {})[row["name"]] = row["n"]
    return out


def attributed_purchases(post_id: str, *, days: int | None = None) -> QuerySet[Event]:
    """Purchase events of visitors who clicked a tag of ``post_id`` in the ``days`` before buying.

    One set-based query (a correlated EXISTS), never a loop over events.
    """
    window = timedelta(days=days if days is not None else int(app_settings.POST_ATTRIBUTION_DAYS))
    clicked = Event.objects.filter(
        name=EventName.POST_CLICK, post_id=str(post_id), visitor_id=OuterRef("visitor_id"),
        occurred_at__lte=OuterRef("occurred_at"), occurred_at__gte=OuterRef("occurred_at") - window,
    )
    return Event.objects.filter(name=EventName.PURCHASE).exclude(visitor_id="").filter(Exists(clicked))


def attribution_for(post_id: str, *, days: int | None = None) -> Attribution:
    """How many orders, and how much revenue per currency, are attributed to ``post_id``."""
    rows = (
        attributed_purchases(post_id, days=days).values("currency")
        .annotate(total=Sum("value"), orders=Count("id")).order_by("currency")
    )
    revenue: dict[str, Decimal] = {}
    orders = 0
    for row in rows:
        currency = row["currency"] or app_settings.CURRENCY
        total = Decimal(row["total"] or 0).quantize(Decimal("0.01"))  # SQLite sums drop trailing zeros
        revenue[currency] = revenue.get(currency, Decimal("0.00")) + total
        orders += row["orders"]
    return Attribution(orders=orders, revenue=revenue)



def posts_for_simulation(*, limit: int = 50) -> list[SimulatedPost]:
    """The newest published posts with their tags, for ``simulate_traffic(posts=...)`` (two queries)."""
    posts = Post.objects.filter(status=PostStatus.PUBLISHED).order_by("-published_at").prefetch_related("tags")[:limit]
    return [
        SimulatedPost(post_id=post.tracking_id, slug=post.slug, tags=tuple((str(t.pk), t.product_id) for t in post.tags.all()))
        for post in posts
    ]



def attribution_by_post(post_ids: Iterable[str], *, days: int | None = None) -> dict[str, Attribution]:
    """post_id -> ``Attribution`` for many posts in two queries (their tag clicks, then those visitors'
    purchases), matched here: a list page or a top-N costs the same whatever its length."""
    ids = [str(i) for i in post_ids]
    window = timedelta(days=days if days is not None else int(app_settings.POST_ATTRIBUTION_DAYS))
    clicks = Event.objects.filter(name=EventName.POST_CLICK, post_id__in=ids).exclude(visitor_id="")
    by_visitor: dict[str, list[tuple[str, object]]] = {}
    for post_id, visitor_id, when in clicks.values_list("post_id", "visitor_id", "occurred_at").order_by():
        by_visitor.setdefault(visitor_id, []).append((post_id, when))
    orders: dict[str, int] = dict.fromkeys(ids, 0)
    revenue: dict[str, dict[str, Decimal]] = {i: {} for i in ids}
    purchases = Event.objects.filter(name=EventName.PURCHASE, visitor_id__in=clicks.values("visitor_id")).order_by()
    for visitor_id, when, value, currency in purchases.values_list("visitor_id", "occurred_at", "value", "currency"):
        credited = {post for post, clicked_at in by_visitor.get(visitor_id, ()) if when - window <= clicked_at <= when}
        for post in credited:
            orders[post] += 1
            code = currency or app_settings.CURRENCY
            revenue[post][code] = revenue[post].get(code, Decimal("0.00")) + Decimal(value or 0).quantize(Decimal("0.01"))
    return {i: Attribution(orders=orders[i], revenue=revenue[i]) for i in ids}
