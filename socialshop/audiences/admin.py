"""Audience admin: the list (size, matched per platform, last build, destinations), the change form with
each rule kind's own fields (audiences/forms.py), what would be uploaded (audiences/preview.py), size
over time, builds, each platform's list and twin, "Build now" / "Sync now", the hashed export links
and the customer-list import (audiences/admin_import.py).
"""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from socialshop.audiences.admin_import import ListImportViews
from socialshop.audiences.forms import KIND_FIELDS, AudienceForm
from socialshop.audiences.models import Audience, AudienceBuild, BuildStatus, Destination, RuleKind
from socialshop.audiences.preview import match_report, sample_members, upload_platforms
from socialshop.core.charts import STATUS_COLOURS as CHART_COLOURS, line_chart
from socialshop.core.jobs import ran_in_process, run_task

BUILD_PERMISSION = "socialshop.build_audience"
EXPORT_PERMISSION = "socialshop.export_audience"
HISTORY_BUILDS = 60  # builds in the size chart
TABLE_BUILDS = 15  # builds in the table under it
SHORT_KINDS = {RuleKind.VIEWERS: "Viewers", RuleKind.PURCHASERS: "Purchasers", RuleKind.CUSTOMER_LIST: "Customer list",
               RuleKind.LOOKALIKE_SEED: "Lookalike seed", RuleKind.POST_ENGAGERS: "Post engagers"}
STATUS_COLOURS = {status: CHART_COLOURS[status] for status in BuildStatus.values}  # the same colours as every chart


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "never"


def _status(build: AudienceBuild | None) -> str:
    if build is None:
        return format_html('<span style="color:#4b5563">{}</span>', "never built")
    return format_html('<b style="color:{}">{}</b> <span style="white-space:nowrap">{}</span>', STATUS_COLOURS.get(build.status, "#000"),
                       build.get_status_display(), _when(build.started_at))


def _seconds(build: AudienceBuild) -> str | None:
    if build.finished_at is None:
        return None
    return f"{(build.finished_at - build.started_at).total_seconds():.1f}"


def export_url(audience: Audience, platform: str) -> str | None:
    """The hashed export's URL (audiences/urls.py), or None where the export view is not installed."""
    try:
        return reverse("socialshop:audience-export", kwargs={"slug": audience.slug, "platform": platform})
    except NoReverseMatch:
        return None


def kind_fieldsets() -> tuple[tuple[str, dict[str, Any]], ...]:
    """One fieldset per rule kind with its own fields; the change form shows the chosen kind's only."""
    return tuple((f"Rule: {RuleKind(kind).label}", {"fields": _rows(fields), "classes": ("ss-kind", f"ss-kind-{kind}")})
                 for kind, fields in KIND_FIELDS.items() if kind != RuleKind.CHECKOUT_ABANDONERS)


def _rows(fields: tuple[str, ...]) -> tuple[Any, ...]:
    """Delay fields side by side with their unit."""
    out: list[Any] = []
    for name in fields:
        if name.endswith("_unit"):
            out[-1] = (out[-1], name)
        else:
            out.append(name)
    return tuple(out)


@admin.register(Audience)
class AudienceAdmin(ListImportViews, admin.ModelAdmin):
    form = AudienceForm
    change_form_template = "socialshop/admin/audiences/change_form.html"
    list_display = ("name", "kind_label", "members", "last_build", "on_platforms", "enabled")
    list_filter = ("kind", "enabled")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    actions = ("build_now", "sync_now")
    readonly_fields = ("tools", "rule_summary", "platform_facts", "before_upload", "size_history", "platforms")

    def get_fieldsets(self, request: HttpRequest, obj: Audience | None = None) -> Any:
        rule = (None, {"fields": ("name", "slug", "kind", "enabled", "tools")})
        common = ("Who counts", {"fields": ("lookback_days", "exclude_purchasers_days", "include", "exclude",
                                            "rebuild_every_minutes", "platform_facts")})
        if obj is not None and not self.has_change_permission(request, obj):
            kinds: tuple[Any, ...] = ((f"Rule: {obj.get_kind_display()}", {"fields": ("rule_summary",)}),)
        else:
            kinds = kind_fieldsets()
        shown = [rule, *kinds, common]
        if obj is not None:
            shown += [("Before anything is uploaded", {"fields": ("before_upload",)}),
                      ("Size over time and builds", {"fields": ("size_history",)}),
                      ("Platforms: customer list and pixel twin", {"fields": ("platforms",)})]
        return shown

    def get_queryset(self, request: HttpRequest) -> QuerySet[Audience]:
        destinations = Destination.objects.order_by("platform").annotate(
            matched_count=Count("uploaded", filter=Q(uploaded__matched=True)),
            unmatched_count=Count("uploaded", filter=Q(uploaded__matched=False)))
        latest = AudienceBuild.objects.order_by("-started_at", "-pk")[:1]
        return super().get_queryset(request).prefetch_related(
            Prefetch("destinations", queryset=destinations, to_attr="destination_list"),
            Prefetch("builds", queryset=latest, to_attr="latest_builds"))

    @admin.display(description="members", ordering="size")
    def members(self, audience: Audience) -> str:
        return f"{audience.size:,}"

    @admin.display(description="kind", ordering="kind")
    def kind_label(self, audience: Audience) -> str:
        return SHORT_KINDS.get(audience.kind, audience.get_kind_display())

    @admin.display(description="on the platforms")
    def on_platforms(self, audience: Audience) -> str:
        rows = [(d.platform, d.matched_count, d.matched_count + d.unmatched_count, d.state or "not synced yet")
                for d in getattr(audience, "destination_list", ())]
        if not rows:
            return "not uploaded yet"
        return format_html_join(mark_safe("<br>"), "<b>{}</b>: {} of {}; {}", rows)

    @admin.display(description="last build")
    def last_build(self, audience: Audience) -> str:
        builds = getattr(audience, "latest_builds", None)
        build = builds[0] if builds else None
        if build is None or build.status != BuildStatus.SUCCEEDED:
            return _status(build)
        return format_html('{} <span style="white-space:nowrap">+{} −{}</span>', _status(build), build.added, build.removed)

    @admin.display(description="tools")
    def tools(self, audience: Audience) -> str:
        if not audience.pk:
            return "Save the audience to build it."
        links = [("Build now", reverse("admin:socialshop_audience_build", args=[audience.pk])),
                 ("Sync now", reverse("admin:socialshop_audience_sync", args=[audience.pk]))]
        if audience.kind == RuleKind.CUSTOMER_LIST:
            links.append(("Import a customer list (CSV)", reverse("admin:socialshop_audience_import", args=[audience.pk])))
        return format_html_join(" ", '<a class="button" href="{}">{}</a>', ((url, label) for label, url in links))

    @admin.display(description="settings")
    def rule_summary(self, audience: Audience) -> str:
        params = audience.params or {}
        if not params:
            return "the kind's defaults"
        return format_html_join(mark_safe("<br>"), "{}: {}", ((key.replace("_", " "), ", ".join(map(str, value))
                                                               if isinstance(value, list) else value)
                                                              for key, value in params.items()))

    @admin.display(description="platform minimum sizes")
    def platform_facts(self, audience: Audience) -> str:
        rows = [(f.name, f"{f.min_size:,}", ", ".join(f.identifier_keys), "yes" if f.twins else "no",
                 "yes" if f.lookalikes else "no") for f in upload_platforms()]
        return format_html(
            '<table class="ss-facts"><thead><tr><th>platform</th><th>smallest list served</th><th>matches on</th>'
            "<th>pixel twin</th><th>lookalikes</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows))

    @admin.display(description="count, matchable and a sample")
    def before_upload(self, audience: Audience) -> str:
        return render_to_string("socialshop/admin/audiences/before_upload.html",
                                {"report": match_report(audience), "sample": sample_members(audience)})

    @admin.display(description="size over time")
    def size_history(self, audience: Audience) -> str:
        builds = list(audience.builds.order_by("-started_at", "-pk")[:HISTORY_BUILDS])
        done = [b for b in reversed(builds) if b.status == BuildStatus.SUCCEEDED]
        chart = line_chart({"size": [(b.started_at, float(b.size)) for b in done],
                            "added": [(b.started_at, float(b.added)) for b in done],
                            "removed": [(b.started_at, float(b.removed)) for b in done]},
                           title="Members after each build", y_label="members")
        return render_to_string("socialshop/admin/audiences/builds.html",
                                {"chart": chart, "builds": [(b, _seconds(b)) for b in builds[:TABLE_BUILDS]]})

    @admin.display(description="per platform")
    def platforms(self, audience: Audience) -> str:
        known = {d.platform: d for d in audience.destinations.all()}
        rows = [{"facts": facts, "destination": known.get(facts.slug)} for facts in upload_platforms()]
        return render_to_string("socialshop/admin/audiences/destinations.html", {"rows": rows})

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        audience = self.get_object(request, object_id)
        exports: list[tuple[str, str]] = []
        if audience is not None and request.user.has_perm(EXPORT_PERMISSION):
            exports = [(f.name, url) for f in upload_platforms() if (url := export_url(audience, f.slug))]
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "export_links": exports})

    def has_build_permission(self, request: HttpRequest) -> bool:
        """May this user start audience builds (``socialshop.build_audience``)?"""
        return request.user.has_perm(BUILD_PERMISSION)

    def has_sync_permission(self, request: HttpRequest) -> bool:
        """Syncing uploads to the platforms needs change permission on audiences."""
        return self.has_change_permission(request)

    @admin.action(description="Build the selected audiences now", permissions=["build"])
    def build_now(self, request: HttpRequest, queryset: QuerySet[Audience]) -> None:
        for audience in queryset:
            self._build(request, audience)

    @admin.action(description="Sync the selected audiences to the platforms now", permissions=["sync"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Audience]) -> None:
        for audience in queryset:
            self._sync(request, audience)

    def _build(self, request: HttpRequest, audience: Audience) -> None:
        from socialshop.tasks import build_audience as build_task

        result = run_task(build_task, audience.slug)
        if not ran_in_process(result):
            self.message_user(request, f"{audience.name}: build queued; the history shows its result.", messages.SUCCESS)
            return
        outcome = result.result
        if outcome.get("status") == BuildStatus.SUCCEEDED:
            self.message_user(request, f"{audience.name}: {outcome['size']:,} members (+{outcome['added']:,} "
                                       f"−{outcome['removed']:,}).", messages.SUCCESS)
        else:
            self.message_user(request, f"{audience.name}: build {outcome.get('status')}. {outcome.get('error', '')}",
                              messages.ERROR if outcome.get("status") == BuildStatus.FAILED else messages.WARNING)

    def _sync(self, request: HttpRequest, audience: Audience) -> None:
        from socialshop.tasks import sync_audiences as sync_task

        if not _configured():
            self.message_user(request, "No platform has audience uploads set up: add the platform's ad account "
                                       "(docs/audiences.md, Settings); nothing was uploaded.", messages.WARNING)
            return
        result = run_task(sync_task, None, audience.slug)
        if not ran_in_process(result):
            self.message_user(request, f"{audience.name}: sync queued; each platform's state shows its result.", messages.SUCCESS)
            return
        for row in result.result.get("results", []):
            self.message_user(request, f"{audience.name} → {row['platform']}: +{row['adds']:,} −{row['removes']:,} "
                                       f"queued; {row['state']}", messages.INFO)
        if result.result.get("status") == "already running":
            self.message_user(request, "Another sync is running; try again in a minute.", messages.WARNING)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/build/", view(self.build_view), name="socialshop_audience_build"),
            path("<int:pk>/sync/", view(self.sync_view), name="socialshop_audience_sync"),
            path("<int:pk>/import/", view(self.import_view), name="socialshop_audience_import"),
            *super().get_urls(),
        ]

    def _confirm(self, request: HttpRequest, audience: Audience, *, what: str, explain: str) -> HttpResponse:
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "audience": audience,
                   "title": f"{what}: {audience.name}", "what": what, "explain": explain}
        return TemplateResponse(request, "socialshop/admin/audiences/confirm.html", context)

    def build_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        audience = get_object_or_404(Audience, pk=pk)
        if not self.has_build_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return self._confirm(request, audience, what="Build now", explain=(
                "Evaluate the rule on the event store now and update the membership (joins and leaves). "
                "Nothing is uploaded; syncing does that."))
        self._build(request, audience)
        return HttpResponseRedirect(reverse("admin:socialshop_audience_change", args=[audience.pk]))

    def sync_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        audience = get_object_or_404(Audience, pk=pk)
        if not self.has_sync_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            names = ", ".join(p.name for p in _configured()) or "none set up"
            return self._confirm(request, audience, what="Sync now", explain=(
                f"Upload the changes since the last sync (hashed identifiers only) to: {names}. "
                "Lists smaller than a platform's minimum are not uploaded."))
        self._sync(request, audience)
        return HttpResponseRedirect(reverse("admin:socialshop_audience_change", args=[audience.pk]))


def _configured() -> list[Any]:
    """The configured platforms whose audience uploads are on (settings)."""
    from socialshop.platforms import configured_platforms

    return list(configured_platforms("audiences").values())
