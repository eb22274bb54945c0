"""Engagement of shoppable posts, read from the event store: counts per post and per tag, and revenue
attributed to a post (server-confirmed purchases by visitors who clicked one of its tags within
POST_ATTRIBUTION_DAYS).

Counts are per visitor, so one visitor cannot inflate them: likes and saves are states (a visitor
counts once), every other engagement counts once per visitor and ``WINDOW_MINUTES`` window. Events
arrive through the tracking tag (tracking/); the admin shows these numbers (posts/admin.py).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case, CharField, Count, Exists, Expression, F, Func, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, When,
)
from django.db.models.functions import Cast, Coalesce, Concat

from socialshop.conf import app_settings
from socialshop.posts.models import Post, PostStatus
from socialshop.tracking.models import Event, EventName
from socialshop.tracking.orders import CONFIRMED_SOURCES
from socialshop.tracking.simulate import SimulatedPost

POST_EVENTS: tuple[str, ...] = (
    EventName.POST_VIEW, EventName.POST_CLOSEUP, EventName.POST_CLICK, EventName.POST_SAVE,
    EventName.POST_LIKE, EventName.POST_SHARE, EventName.POST_COMMENT,
)
# States: a visitor has liked (saved) a post or not; 1,000 PostLike events of one visitor are one like.
STATE_EVENTS: frozenset[str] = frozenset((EventName.POST_LIKE, EventName.POST_SAVE))
# Views, close-ups, clicks, shares, comments and adds: once per visitor per fixed 30-minute window
# (a visit's worth; a reload storm or a script replaying events counts once, a visit the next day
# counts again). Events without a visitor id (no consent) cannot be told apart, so together they
# count as one visitor: they cannot be used to inflate a count either.
WINDOW_MINUTES = 30


class TimeWindow(Func):
    """The number of the fixed ``WINDOW_MINUTES`` window an event's time falls in (unix time based)."""

    output_field = IntegerField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:  # other databases (MySQL)
        return super().as_sql(compiler, connection, template=f"FLOOR(UNIX_TIMESTAMP(%(expressions)s) / {WINDOW_MINUTES * 60})",
                              **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection,
                              template=f"FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / {WINDOW_MINUTES * 60})::bigint", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection,
                              template=f"(CAST(strftime('%%%%s', %(expressions)s) AS INTEGER) / {WINDOW_MINUTES * 60})", **extra)


def engagement_key(name: str | None = None) -> Expression:
    """What one counted engagement is: the visitor for states, the visitor and time window otherwise.

    For one event ``name`` the key itself; without a name a CASE on the row's name, so rows of every
    event name are counted in one grouped query. ``Count(key, distinct=True)`` is the deduplicated count.
    """
    windowed = Concat(F("visitor_id"), Value(":"), Cast(TimeWindow("occurred_at"), CharField()), output_field=CharField())
    if name is None:
        return Case(When(name__in=sorted(STATE_EVENTS), then=F("visitor_id")), default=windowed, output_field=CharField())
    return F("visitor_id") if name in STATE_EVENTS else windowed


def engagement_count(name: str, post_id: Any) -> Coalesce:
    """A subquery expression: the deduplicated count of ``name`` events of the post ``post_id`` (a
    value or an ``OuterRef``), for annotating a Post queryset (admin list, sortable)."""
    counts = (
        Event.objects.filter(post_id=post_id, name=name).order_by().values("post_id")
        .annotate(n=Count(engagement_key(name), distinct=True)).values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


@dataclass(frozen=True, slots=True)
class Attribution:
    """Orders attributed to one post: how many, and their value per currency."""

    orders: int
    revenue: dict[str, Decimal]


def counts_by_post(post_ids: Iterable[str]) -> dict[str, dict[str, int]]:
    """post_id -> {event name -> deduplicated count} for the post engagement events, in one query."""
    ids = [str(i) for i in post_ids]
    out: dict[str, dict[str, int]] = {i: dict.fromkeys(POST_EVENTS, 0) for i in ids}
    rows = (
        Event.objects.filter(post_id__in=ids, name__in=POST_EVENTS)
        .values("post_id", "name").annotate(n=Count(engagement_key(), distinct=True)).order_by()
    )
    for row in rows:
        out[row["post_id"]][row["name"]] = row["n"]
    return out


def counts_by_tag(post_id: str) -> dict[str, dict[str, int]]:
    """tag_id -> {event name -> deduplicated count} for one post's tags (PostClick, AddToCart), in one query."""
    rows = (
        Event.objects.filter(post_id=str(post_id)).exclude(tag_id="")
        .values("tag_id", "name").annotate(n=Count(engagement_key(), distinct=True)).order_by()
    )
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        out.setdefault(row["tag_id"], {})[row["name"]] = row["n"]
    return out


def attributed_purchases(post_id: str, *, days: int | None = None) -> QuerySet[Event]:
    """Server-confirmed Purchase events of visitors who clicked a tag of ``post_id`` in the ``days`` before buying.

    One set-based query (a correlated EXISTS), never a loop over events.
    """
    window = timedelta(days=days if days is not None else int(app_settings.POST_ATTRIBUTION_DAYS))
    clicked = Event.objects.filter(
        name=EventName.POST_CLICK, post_id=str(post_id), visitor_id=OuterRef("visitor_id"),
        occurred_at__lte=OuterRef("occurred_at"), occurred_at__gte=OuterRef("occurred_at") - window,
    )
    # Only the store's word counts: a Purchase the browser alone reported (any value, any order
    # number) is a claim, not revenue (tracking/orders.py).
    return (Event.objects.filter(name=EventName.PURCHASE, source__in=CONFIRMED_SOURCES).exclude(visitor_id="")
            .filter(Exists(clicked)))


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
