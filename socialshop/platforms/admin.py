"""Admin for platform health: status per platform and capability, with delivery charts and last errors.

Edge module (may import tracking). Charts come from core/charts.py; retry and resume call the domain.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDay
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from socialshop.core.admin import ReadOnlyAdmin
from socialshop.core.charts import line_chart
from socialshop.platforms import REGISTRY, configured_platforms, configured_slugs
from socialshop.platforms.checks import check_platforms
from socialshop.platforms.models import PlatformStatus
from socialshop.platforms.status import resume, send_test_event
from socialshop.tracking.models import Delivery, DeliveryStatus

CHART_DAYS = 14
# Capabilities that send queued records and so have a status row each (the browser tag sends nothing).
SENDING_KINDS = ("events",)
LAST_ERRORS = 10
ERROR_SHOWN = 90  # characters of the last error in the list; the detail page has all of it


def delivery_charts(*, days: int = CHART_DAYS) -> dict[str, SafeString]:
    """slug -> SVG chart of deliveries sent, failed and skipped per day over the last ``days`` days."""
    since = timezone.now() - timedelta(days=days)
    rows = (
        Delivery.objects.filter(updated_at__gte=since, status__in=[DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED])
        .annotate(day=TruncDay("updated_at")).values("platform", "status", "day").annotate(n=Count("id")).order_by("day")
    )
    series: dict[str, dict[str, list[tuple[Any, float]]]] = defaultdict(lambda: {"sent": [], "failed": [], "skipped": []})
    for row in rows:
        series[row["platform"]][row["status"]].append((row["day"], float(row["n"])))
    return {
        slug: line_chart(series[slug], title=f"{REGISTRY[slug].name}: deliveries per day, last {days} days", y_label="deliveries")
        for slug in configured_slugs()
    }


def last_errors(*, limit: int = LAST_ERRORS) -> list[Delivery]:
    """The most recent failed deliveries, with the platform's message in ``reason``."""
    return list(Delivery.objects.filter(status=DeliveryStatus.FAILED).select_related("event").order_by("-updated_at")[:limit])


@admin.register(PlatformStatus)
class PlatformStatusAdmin(ReadOnlyAdmin):
    list_display = ("slug", "capability", "configured", "credentials", "halted", "test_event_at", "last_success_at", "short_error")
    readonly_fields = ("slug", "capability", "last_success_at", "last_error_at", "last_error", "halted_at", "test_event_at",
                       "test_event_response")
    actions = ("send_test_events", "resume_forwarding")
    change_list_template = "socialshop/admin/platformstatus_change_list.html"

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """Rows stay read-only; acting on them (test event, resume) needs ``change_platformstatus``."""
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.display(boolean=True)
    def configured(self, obj: PlatformStatus) -> bool:
        return obj.slug in configured_slugs()

    @admin.display(boolean=True, description="credentials complete")
    def credentials(self, obj: PlatformStatus) -> bool:
        key = f"['PLATFORMS'][{obj.slug!r}]"
        return obj.slug in configured_slugs() and not any(key in e.msg for e in check_platforms())

    @admin.display(boolean=True, description="halted")
    def halted(self, obj: PlatformStatus) -> bool:
        return obj.halted_at is not None

    @admin.display(description="last error (full text on the detail page)")
    def short_error(self, obj: PlatformStatus) -> str:
        if not obj.last_error:
            return "–"
        when = f"{timezone.localtime(obj.last_error_at):%b %d %H:%M}: " if obj.last_error_at else ""
        text = obj.last_error if len(obj.last_error) <= ERROR_SHOWN else obj.last_error[:ERROR_SHOWN - 1] + "…"
        return format_html('<span title="{}">{}{}</span>', obj.last_error, when, text)

    @admin.action(description="Send a test event to the selected platforms", permissions=["operate"])
    def send_test_events(self, request: HttpRequest, queryset: QuerySet[PlatformStatus]) -> None:
        for row in queryset.filter(capability="events"):
            try:
                result = send_test_event(row.slug)
            except Exception as exc:  # noqa: BLE001 - shown to the admin user, also stored on the row
                self.message_user(request, f"{row.slug}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{row.slug}: test event accepted (HTTP {result.status})", messages.SUCCESS)

    @admin.action(description="Resume forwarding (after fixing credentials)", permissions=["operate"])
    def resume_forwarding(self, request: HttpRequest, queryset: QuerySet[PlatformStatus]) -> None:
        n = resume(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"resumed {n} platform(s)", messages.SUCCESS)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        for slug, platform in configured_platforms().items():
            for kind in SENDING_KINDS:
                if platform.is_active(kind):
                    PlatformStatus.objects.get_or_create(slug=slug, capability=kind)
        extra = {**(extra_context or {}), "delivery_charts": delivery_charts(), "last_errors": last_errors()}
        return super().changelist_view(request, extra_context=extra)
