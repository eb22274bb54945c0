"""Feed admin: feeds with their live build and last result, build history with top reasons and
example ids, "build now", the eligibility dry run page and the catalogue-match report page.

Diagnostics come from ``feeds/builder.py`` (dry run) and ``feeds/doctor.py`` (match report).
"""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from socialshop.core.admin import InternalAdmin, ReadOnlyAdmin
from socialshop.core.charts import colour_for, line_chart
from socialshop.core.jobs import run_task
from socialshop.feeds.builder import dry_run
from socialshop.feeds.doctor import match_report
from socialshop.feeds.forms import FeedForm
from socialshop.feeds.models import BuildStatus, Feed, FeedBuild, ProductSetItem
from socialshop.feeds.rules import product_set_label_index

# Products the eligibility dry run looks at by default, and at most (?limit=).
DRY_RUN_LIMIT = 500
DRY_RUN_MAX = 5000

def _status(build: FeedBuild | None) -> str:
    if build is None:
        return format_html('<span style="color:#4b5563">never built</span>')
    # the status colours of core/charts.py, so "failed" is the same red on every page
    return format_html('<b style="color:{}">{}</b>', colour_for(build.status, 7), build.get_status_display())


def reasons_table(build: FeedBuild, *, limit: int = 10) -> str:
    """The build's top skip/warning reasons with counts and example product ids, as HTML."""
    rows = build.top_reasons(limit)
    if not rows:
        return format_html("<p>{}</p>", "No items skipped and no warnings.")
    body = format_html_join(
        "", "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
        ((r["severity"], r["code"], r["count"], r["message"], ", ".join(r["examples"])) for r in rows),
    )
    return format_html(
        "<table><thead><tr><th>severity</th><th>reason</th><th>items</th><th>why</th><th>example ids</th></tr></thead>"
        "<tbody>{}</tbody></table>", body,
    )


def _queue_build(feed: Feed, *, force: bool = False, allow_empty: bool = False) -> None:
    from socialshop.tasks import build_feed as build_feed_task

    run_task(build_feed_task, feed.slug, force, allow_empty)


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    form = FeedForm  # categories, exclusions and label rules with form widgets, not JSON (feeds/forms.py)
    list_display = ("name", "platform_short", "format_short", "enabled", "live", "last_result")
    list_filter = ("platform", "enabled", "file_format")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("feed_url", "tools", "live", "build_history", "campaign_label")
    actions = ("build_now",)
    change_list_template = "socialshop/feeds/feed_change_list.html"
    fieldsets = (
        (None, {"fields": ("name", "slug", "platform", "file_format", "enabled", "feed_url", "tools", "live")}),
        ("Market", {"fields": ("target_country", "language", "currency", "shipping_price")}),
        ("Filters", {"fields": ("categories", "in_stock_only", "min_price", "max_price", "excluded_ids")}),
        ("Content", {"fields": ("custom_labels", "campaign_label", "images", "max_additional_images", "default_brand",
                                "google_product_category", "utm_source", "utm_medium", "utm_campaign")}),
        ("Schedule and secret", {"fields": ("build_interval_minutes", "token")}),
        ("History", {"fields": ("build_history",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("published_build")

    @admin.display(description="platform", ordering="platform")
    def platform_short(self, feed: Feed) -> str:
        return feed.get_platform_display().split(" (")[0]

    @admin.display(description="format", ordering="file_format")
    def format_short(self, feed: Feed) -> str:
        return feed.file_format.upper()

    @admin.display(description="live file")
    def live(self, feed: Feed) -> str:
        build = feed.published_build
        if build is None:
            return "nothing live"
        items = build.items_written
        return f"{items:,} item{'s' if items != 1 else ''}, built {timezone.localtime(build.finished_at):%b %d %H:%M}"

    @admin.display(description="last build")
    def last_build(self, feed: Feed) -> str:
        return _status(feed.builds.order_by("-started_at", "-pk").first())

    @admin.display(description="last result")
    def last_result(self, feed: Feed) -> str:
        build = feed.builds.order_by("-started_at", "-pk").first()
        if build is None:
            return ""
        counts = f"{build.items_written:,} written, {build.items_skipped:,} skipped, {build.items_warned:,} warnings"
        if build.message and build.status in (BuildStatus.REFUSED, BuildStatus.FAILED):
            return format_html('{} · {}<br><span style="color:{}">{}</span>', _status(build), counts,
                               colour_for(build.status, 7), build.message[:160])
        return format_html("{} · {}", _status(build), counts)

    @admin.display(description="label for campaigns")
    def campaign_label(self, feed: Feed) -> str:
        index = product_set_label_index(feed.custom_labels or [])
        if index is None:
            return "None: add a 'product set' rule to a custom label so the platforms' product sets can pick each campaign's products."
        sets = ProductSetItem.objects.aggregate(products=Count("product_id", distinct=True), sets=Count("name", distinct=True))
        return format_html("<code>custom_label_{}</code> carries the running campaigns' slugs: {} picked products in {} campaign sets.",
                           index, sets["products"], sets["sets"])

    @admin.display(description="URL to give the platform")
    def feed_url(self, feed: Feed) -> str:
        if not feed.pk:
            return "saved feeds get a URL"
        return format_html("<code>{}</code>", feed.url())

    @admin.display(description="tools")
    def tools(self, feed: Feed) -> str:
        if not feed.pk:
            return ""
        return format_html(
            '<a class="button" href="{}">Build now</a> <a class="button" href="{}">Eligibility dry run</a> '
            '<a class="button" href="{}">Catalogue match report</a>',
            reverse("admin:socialshop_feed_build", args=[feed.pk]),
            reverse("admin:socialshop_feed_dry_run", args=[feed.pk]),
            reverse("admin:socialshop_feed_match_report"),
        )

    @admin.display(description="builds")
    def build_history(self, feed: Feed) -> str:
        if not feed.pk:
            return ""
        builds = list(feed.builds.order_by("-started_at", "-pk")[:30])
        if not builds:
            return "no builds yet"
        points = [(b.started_at, float(b.items_written)) for b in reversed(builds) if b.status != BuildStatus.RUNNING]
        chart = line_chart({"items written": points}, title="Items per build", height=180)
        rows = format_html_join("", "<tr><td><a href='{}'>{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (reverse("admin:socialshop_feedbuild_change", args=[b.pk]), timezone.localtime(b.started_at).strftime("%Y-%m-%d %H:%M:%S"),
             _status(b), b.items_written, b.items_skipped, b.items_warned, b.message[:200])
            for b in builds
        ))
        return format_html(
            "{}<table><thead><tr><th>started</th><th>status</th><th>written</th><th>skipped</th><th>warnings</th>"
            "<th>message</th></tr></thead><tbody>{}</tbody></table>", chart, rows,
        )

    @admin.action(description="Build the selected feeds now", permissions=["build"])
    def build_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        for feed in queryset:
            _queue_build(feed)
        self.message_user(request, f"Build started for {queryset.count()} feed(s); see each feed's history.", messages.SUCCESS)

    def has_build_permission(self, request: HttpRequest) -> bool:
        """May this user start feed builds (``socialshop.build_feed``)?"""
        return request.user.has_perm(f"{self.opts.app_label}.build_feed")

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/build/", view(self.build_view), name="socialshop_feed_build"),
            path("<int:pk>/dry-run/", view(self.dry_run_view), name="socialshop_feed_dry_run"),
            path("match-report/", view(self.match_report_view), name="socialshop_feed_match_report"),
            *super().get_urls(),
        ]

    def _whole_number(self, request: HttpRequest, name: str, *, default: int, low: int, high: int) -> int:
        """``?name=`` as a whole number in [low, high]; anything else falls back (or is clamped) with a message."""
        raw = request.GET.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.message_user(request, f"?{name}={raw[:40]!r} is not a whole number; showing {default}.", messages.WARNING)
            return default
        if not low <= value <= high:
            kept = min(max(value, low), high)
            self.message_user(request, f"?{name}={value} is outside {low}-{high}; showing {kept}.", messages.WARNING)
            return kept
        return value

    def _context(self, request: HttpRequest, title: str, **extra: Any) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **extra}

    def build_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        feed = get_object_or_404(Feed, pk=pk)
        if not self.has_build_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            _queue_build(feed, force=bool(request.POST.get("force")), allow_empty=bool(request.POST.get("allow_empty")))
            self.message_user(request, f"Build of {feed.slug} started; the history below shows its result.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:socialshop_feed_change", args=[feed.pk]))
        return TemplateResponse(request, "socialshop/feeds/build_confirm.html",
                                self._context(request, f"Build {feed.name} now", feed=feed))

    def dry_run_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        feed = get_object_or_404(Feed, pk=pk)
        if not self.has_view_permission(request, feed):
            raise PermissionDenied
        limit = self._whole_number(request, "limit", default=DRY_RUN_LIMIT, low=1, high=DRY_RUN_MAX)
        result = dry_run(feed, limit=limit)
        rows = [{"code": code, **info} for code, info in result.tally.reasons.items()]
        rows.sort(key=lambda r: (-r["count"], r["code"]))
        return TemplateResponse(request, "socialshop/feeds/dry_run.html", self._context(
            request, f"Eligibility dry run: {feed.name}", feed=feed, result=result, reasons=rows,
        ))

    def match_report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        days = self._whole_number(request, "days", default=30, low=1, high=365)
        report = match_report(days=days, limit=200)
        return TemplateResponse(request, "socialshop/feeds/match_report.html",
                                self._context(request, "Catalogue match report", report=report, days=days))


@admin.register(FeedBuild)
class FeedBuildAdmin(InternalAdmin, ReadOnlyAdmin):  # builds are reached from their feed
    list_display = ("feed", "started_at", "status_badge", "duration", "items_written", "items_skipped", "items_warned", "short_message")
    list_filter = ("status", "feed")
    date_hierarchy = "started_at"
    readonly_fields = ("feed", "status", "started_at", "finished_at", "items_seen", "items_written", "items_skipped",
                       "items_warned", "top_reasons_table", "file_name", "size_bytes", "content_hash", "message")
    exclude = ("reasons",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="status")
    def status_badge(self, build: FeedBuild) -> str:
        return _status(build)

    @admin.display(description="seconds")
    def duration(self, build: FeedBuild) -> str:
        seconds = build.duration_seconds
        return "" if seconds is None else f"{seconds:.1f}"

    @admin.display(description="message")
    def short_message(self, build: FeedBuild) -> str:
        return build.message[:120]

    @admin.display(description="top reasons (skipped items and warnings)")
    def top_reasons_table(self, build: FeedBuild) -> str:
        return reasons_table(build, limit=20)
