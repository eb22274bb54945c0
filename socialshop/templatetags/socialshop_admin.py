"""The marketer's overview, shown as socialshop's admin app index (templates/admin/socialshop/app_index.html).

One function per section, each a constant number of queries; ``SECTIONS`` lists them in page order, so
audiences and campaigns add theirs with one function and one line. Charts come from core/charts.py.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django import template
from django.contrib import admin
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.db.models.functions import TruncDay
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from socialshop.campaigns.activity import overview as campaign_overview
from socialshop.conf import app_settings
from socialshop.core.charts import bar_chart, line_chart
from socialshop.core.models import Heartbeat
from socialshop.core.money import format_money
from socialshop.feeds.models import Feed, FeedBuild
from socialshop.platforms import REGISTRY, configured_slugs
from socialshop.posts.engagement import attribution_by_post
from socialshop.posts.models import Post, PostStatus
from socialshop.tracking.models import Delivery, DeliveryStatus, Event

register = template.Library()
DAYS = 7
TOP_POSTS = 5


@dataclass
class Section:
    """One block of the overview: a heading, figures, optional chart, optional table and links."""

    title: str
    figures: list[tuple[str, str]] = field(default_factory=list)
    chart: SafeString | None = None
    headers: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    empty: str = ""
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Link:
    """A table cell that links to an admin page."""

    text: str
    url: str

    def __str__(self) -> str:
        return self.text


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return ""


def events_section(now: Any) -> Section:
    """Events today and over DAYS days, the share recorded with consent to share, and a per-day chart."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    since = today - timedelta(days=DAYS - 1)
    recent = Event.objects.filter(occurred_at__gte=since)
    totals = recent.aggregate(week=Count("id"), today=Count("id", filter=Q(occurred_at__gte=today)),
                              shared=Count("id", filter=Q(may_share=True)))
    per_day = recent.annotate(day=TruncDay("occurred_at")).values("day").annotate(n=Count("id")).order_by("day")
    rate = f"{100 * totals['shared'] / totals['week']:.0f}%" if totals["week"] else "–"
    return Section(
        title="Events",
        figures=[("today", f"{totals['today']:,}"), (f"last {DAYS} days", f"{totals['week']:,}"),
                 ("consented to sharing", rate)],
        chart=line_chart({"events": [(row["day"], float(row["n"])) for row in per_day]},
                         title=f"Events per day, last {DAYS} days", y_label="events", x_label="day (UTC)"),
        links=[("All events", _url("socialshop_event_changelist"))],
    )


def deliveries_section(now: Any) -> Section:
    """Deliveries per platform and capability over DAYS days: sent, failed, skipped, pending."""
    since = now - timedelta(days=DAYS)
    rows = (Delivery.objects.filter(updated_at__gte=since).values("platform", "status")
            .annotate(n=Count("id")).order_by())
    counts: dict[str, dict[str, int]] = {slug: {} for slug in configured_slugs()}
    for row in rows:
        counts.setdefault(row["platform"], {})[row["status"]] = row["n"]
    statuses = [DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED, DeliveryStatus.PENDING]
    name = lambda slug: REGISTRY[slug].name if slug in REGISTRY else slug  # noqa: E731
    table = [[name(slug), "events", *(f"{c.get(s, 0):,}" for s in statuses)] for slug, c in counts.items()]
    return Section(
        title=f"Deliveries to the platforms, last {DAYS} days",
        chart=bar_chart({name(slug): {str(s.label).lower(): c.get(s, 0) for s in statuses[:3]} for slug, c in counts.items()},
                        title="Deliveries per platform", y_label="deliveries", x_label="platform"),
        headers=["platform", "capability", *(str(s.label).lower() for s in statuses)],
        rows=table, empty="No platform is configured yet.",
        links=[("Platform statuses", _url("socialshop_platformstatus_changelist")),
               ("Failed deliveries", _url("socialshop_delivery_changelist") + "?status__exact=failed")],
    )


def feeds_section(now: Any) -> Section:
    """Each feed's last build (status, when) and the item count of the file it serves."""
    last = FeedBuild.objects.filter(feed=OuterRef("pk")).order_by("-started_at", "-pk")
    feeds = Feed.objects.select_related("published_build").annotate(
        last_status=Subquery(last.values("status")[:1]), last_at=Subquery(last.values("started_at")[:1]),
    ).order_by("name")
    rows = []
    for feed in feeds:
        live = feed.published_build
        rows.append([
            Link(feed.name, _url("socialshop_feed_change", feed.pk)), feed.get_platform_display(),
            f"{feed.last_status or 'never built'}" + (f", {timezone.localtime(feed.last_at):%b %d %H:%M}" if feed.last_at else ""),
            f"{live.items_written:,}" if live else "–",
        ])
    return Section(title="Product feeds", headers=["feed", "platform", "last build", "items served"], rows=rows,
                   empty="No feed yet: add one to send your catalogue to a platform.",
                   links=[("All feeds", _url("socialshop_feed_changelist"))])


def posts_section(now: Any) -> Section:
    """The published posts with the most attributed revenue (in CURRENCY)."""
    posts = list(Post.objects.filter(status=PostStatus.PUBLISHED).only("pk", "slug", "caption", "alt_text"))
    attribution = attribution_by_post([p.tracking_id for p in posts])
    currency = str(app_settings.CURRENCY)
    ranked = sorted(posts, key=lambda p: (attribution[p.tracking_id].revenue.get(currency, 0), attribution[p.tracking_id].orders),
                    reverse=True)[:TOP_POSTS]
    rows = [
        [Link(str(p), _url("socialshop_post_change", p.pk)), attribution[p.tracking_id].orders,
         format_money(attribution[p.tracking_id].revenue.get(currency, 0), currency)]
        for p in ranked if attribution[p.tracking_id].orders
    ]
    return Section(title="Top posts by attributed revenue", headers=["post", "orders", "revenue"], rows=rows,
                   empty="No purchase follows a tag click yet.", links=[("All posts", _url("socialshop_post_changelist"))])


def internals_section(now: Any) -> Section:
    """Plumbing kept out of the app list: worker heartbeats, job locks, builds, the outbox, consent records."""
    seen = Heartbeat.objects.aggregate(last=Max("seen_at"))["last"]
    links = []
    for model, admin_class in admin.site._registry.items():
        if getattr(admin_class, "internal", False) and model._meta.app_label == "socialshop":
            links.append((str(model._meta.verbose_name_plural).capitalize(), _url(f"socialshop_{model._meta.model_name}_changelist")))
    return Section(
        title="socialshop internals",
        figures=[("last worker heartbeat", f"{timezone.localtime(seen):%b %d %H:%M}" if seen else "none yet")],
        links=sorted(links),
    )


def campaigns_section(now: Any) -> Section:
    """Live campaigns (running, scheduled, paused) with members targeted, codes and emails; one query."""
    live = campaign_overview(now=now)
    rows = [[Link(c.name, _url("socialshop_campaign_change", c.pk)), c.effective_status(now), f"{c.n_targeted:,}",
             f"{c.n_codes:,} / {c.n_redeemed:,}", f"{c.n_emails:,}", Link("Activity", _url("socialshop_campaign_activity", c.pk))]
            for c in live.campaigns]
    return Section(
        title="Campaigns",
        figures=[("running", f"{live.running:,}"), ("members targeted now", f"{live.targeted:,}"),
                 ("codes redeemed", f"{live.redeemed:,}")],
        headers=["campaign", "status", "targeted now", "codes issued / redeemed", "emails sent", ""], rows=rows,
        empty="No live campaign: add one to win back cart abandoners.",
        links=[("All campaigns", _url("socialshop_campaign_changelist"))],
    )


# Page order. Audiences and campaigns: write ``audiences_section(now) -> Section`` and add it here.
SECTIONS: list[Callable[[Any], Section]] = [events_section, deliveries_section, feeds_section, posts_section]
SECTIONS.append(campaigns_section)
INTERNALS: list[Callable[[Any], Section]] = [internals_section]


@register.simple_tag(takes_context=True)
def socialshop_overview(context: template.Context) -> dict[str, list[Section]]:
    """``{% socialshop_overview as overview %}``: the sections for a staff member who may view them."""
    request: HttpRequest | None = context.get("request")
    if request is None or not getattr(request.user, "is_staff", False):
        return {"sections": [], "internals": []}
    now = timezone.now()
    return {"sections": [make(now) for make in SECTIONS], "internals": [make(now) for make in INTERNALS]}
