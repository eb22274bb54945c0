"""Admin for the event store and its outbox: events read-only, filterable, with an events-per-hour chart,
and the deliveries of events to the platforms with a retry action. Charts are ``core/charts.py``.
"""
from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlsplit
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncHour
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from socialshop.core.admin import InternalAdmin, ReadOnlyAdmin
from socialshop.core.charts import line_chart
from socialshop.core.money import format_money
from socialshop.tracking.forwarding import retry_deliveries
from socialshop.tracking.models import Delivery, Event
from socialshop.tracking.retention import last_run

CHART_DAYS = 7
CHART_SERIES = 8


def events_per_hour_chart(*, days: int = CHART_DAYS) -> SafeString:
    """SVG chart of events per hour by name over the last ``days`` days (the busiest names)."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        Event.objects.filter(occurred_at__gte=since)
        .annotate(hour=TruncHour("occurred_at"))
        .values("hour", "name")
        .annotate(n=Count("id"))
        .order_by("hour")
    )
    series: dict[str, list[tuple[Any, float]]] = defaultdict(list)
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        series[row["name"]].append((row["hour"], float(row["n"])))
        totals[row["name"]] += row["n"]
    top = sorted(totals, key=totals.get, reverse=True)[:CHART_SERIES]
    return line_chart({name: series[name] for name in top}, title=f"Events per hour, last {days} days", y_label="events")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    # Fits 1280 px beside the admin's sidebars; the rest (URL, ids, user data) is on the detail page.
    list_display = ("name", "occurred_at", "source", "amount", "may_share", "short_visitor", "page")
    list_filter = ("name", "source", "may_share", "gpc", ("occurred_at", admin.DateFieldListFilter))
    search_fields = ("=visitor_id", "=event_id", "=order_id", "=session_id")
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at",)
    show_full_result_count = False  # counting millions of rows on every page is slow
    list_per_page = 50
    change_list_template = "socialshop/admin/event_change_list.html"

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="value", ordering="value")
    def amount(self, obj: Event) -> str:
        return format_money(obj.value, obj.currency or None) if obj.value is not None else "–"

    @admin.display(description="page")
    def page(self, obj: Event) -> str:
        path = urlsplit(obj.url).path if obj.url else ""
        shown = path if len(path) <= 32 else path[:31] + "…"
        return format_html('<span title="{}">{}</span>', obj.url, shown) if obj.url else "–"

    @admin.display(description="visitor", ordering="visitor_id")
    def short_visitor(self, obj: Event) -> str:
        return format_html('<span title="{}">{}…</span>', obj.visitor_id, obj.visitor_id[:8]) if obj.visitor_id else "–"

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra = {**(extra_context or {}), "events_chart": events_per_hour_chart(), "purge_run": last_run()}
        return super().changelist_view(request, extra_context=extra)


@admin.register(Delivery)
class DeliveryAdmin(InternalAdmin, ReadOnlyAdmin):
    list_display = ("event_name", "event_ref", "platform", "status", "attempts", "error_status", "reason", "next_attempt_at", "sent_at", "updated_at")
    list_filter = ("platform", "status", "error_status")
    search_fields = ("=event__event_id", "=event__order_id")
    list_select_related = ("event",)
    ordering = ("-updated_at",)
    show_full_result_count = False
    list_per_page = 100
    actions = ("retry_failed",)

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """Rows stay read-only; retrying failed deliveries needs ``change_delivery``."""
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.display(description="event")
    def event_name(self, obj: Delivery) -> str:
        return obj.event.name

    @admin.display(description="event id")
    def event_ref(self, obj: Delivery) -> str:
        return obj.event.event_id

    @admin.action(description="Retry the selected failed deliveries", permissions=["operate"])
    def retry_failed(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        n = retry_deliveries(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{n} failed deliveries queued again", messages.SUCCESS)
