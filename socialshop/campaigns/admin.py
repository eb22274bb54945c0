"""Campaign admin: campaigns with their variants inline, effective status, audiences, members, hold-out
share, codes issued/redeemed and emails sent; "refresh targeting now"; and the activity page
(``<id>/activity/``: members per state per variant and hold-out, codes, emails, landings, a chart).

Targeting is campaigns/targeting.py; the activity reads are campaigns/activity.py; the incentive
message comes from campaigns/incentives.py.
"""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from socialshop.campaigns.activity import CHART_DAYS, campaign_activity, with_activity_counts
from socialshop.campaigns.admin_results import CampaignResultsAdmin
from socialshop.campaigns.ads import channel_summary
from socialshop.campaigns.creatives.preview import preview_html
from socialshop.campaigns.incentives import incentive_message
from socialshop.campaigns.models import (
    Assignment, Campaign, CampaignMember, EmailSend, MemberPick, MemberState, Variant,
)
from socialshop.campaigns.product_sets import SetStatus, sync_product_sets
from socialshop.core.charts import bar_chart, line_chart
from socialshop.campaigns.targeting import refresh_campaign
from socialshop.exceptions import JobLocked


def _count(model: type, **filters: object) -> Coalesce:
    rows = model.objects.filter(campaign=OuterRef("pk"), **filters).order_by().values("campaign")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0)


class VariantInline(admin.StackedInline):
    model = Variant
    extra = 0
    fields = ("name", "weight", "incentive_from_message", "subject", "headline", "body")


@admin.register(Campaign)
class CampaignAdmin(CampaignResultsAdmin, admin.ModelAdmin):
    list_display = ("name", "effective", "audience_names", "member_count", "targeted", "holdout_share", "codes", "emails",
                    "roas_at_a_glance", "lift_at_a_glance", "activity")
    list_filter = ("status",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("audiences", "exclusions")
    readonly_fields = ("incentives", "last_refreshed_at", "ads_channel", "activity_link", "results_link", "creatives_preview",
                       "picks_summary", "product_set_status")
    inlines = [VariantInline]
    actions = ["refresh_now", "render_ads_now", "sync_sets_now"]
    fieldsets = (
        (None, {"fields": ("name", "slug", "status", "starts_at", "ends_at", "channels", "last_refreshed_at", "activity_link")}),
        ("Results", {"fields": ("results_link", "attribution_days", "platform_campaigns")}),
        ("Who", {"fields": ("audiences", "exclusions", "holdout_percent")}),
        ("Timing and caps", {"fields": ("min_delay_minutes", "max_age_hours", "email_per_day", "email_per_campaign",
                                        "max_landings_without_purchase", "email_reminder_minutes")}),
        ("Ads channel", {"fields": ("ads_channel", "ad_impressions_cap", "ad_cap_days"),
                         "description": "One platform audience per variant and platform channel, kept in step by each "
                                        "refresh and sync. The platform decides each impression: set the cap shown on "
                                        "the ad set that targets the audience."}),
        ("Picks and product sets", {"fields": ("picks_per_person", "picks_summary", "product_set_status")}),
        ("Incentive", {"fields": ("incentives", "incentive_kind", "incentive_amount", "incentive_currency",
                                  "incentive_min_order", "incentive_valid_days")}),
        ("Creatives", {"fields": ("creatives_preview",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return with_activity_counts(super().get_queryset(request).prefetch_related("audiences").annotate(
            n_members=_count(CampaignMember), n_assigned=_count(Assignment),
            n_holdout=_count(Assignment, variant__isnull=True)))

    @admin.display(description="status")
    def effective(self, obj: Campaign) -> str:
        return obj.effective_status(timezone.now())

    @admin.display(description="audiences")
    def audience_names(self, obj: Campaign) -> str:
        return ", ".join(a.name for a in obj.audiences.all()) or "—"

    @admin.display(description="members", ordering="n_members")
    def member_count(self, obj: Campaign) -> int:
        return obj.n_members

    @admin.display(description="hold-out (target)")
    def holdout_share(self, obj: Campaign) -> str:
        if not obj.n_assigned:
            return f"— ({obj.holdout_percent}%)"
        return f"{obj.n_holdout / obj.n_assigned:.1%} ({obj.holdout_percent}%)"

    @admin.display(description="targeted", ordering="n_targeted")
    def targeted(self, obj: Campaign) -> int:
        return obj.n_targeted

    @admin.display(description="codes (used)")
    def codes(self, obj: Campaign) -> str:
        return f"{obj.n_codes} ({obj.n_redeemed})"

    @admin.display(description="emails", ordering="n_emails")
    def emails(self, obj: Campaign) -> int:
        return obj.n_emails

    @admin.display(description="activity")
    def activity(self, obj: Campaign) -> str:
        return format_html('<a href="{}">Activity</a>', reverse("admin:socialshop_campaign_activity", args=[obj.pk]))

    @admin.display(description="activity")
    def activity_link(self, obj: Campaign | None) -> str:
        if obj is None or obj.pk is None:
            return "Shown once the campaign is saved."
        return format_html('<a href="{}">Members by state, codes, emails and landings</a>',
                           reverse("admin:socialshop_campaign_activity", args=[obj.pk]))

    def get_urls(self) -> list[Any]:
        return [path("<int:pk>/activity/", self.admin_site.admin_view(self.activity_view), name="socialshop_campaign_activity"),
                *super().get_urls()]

    def activity_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Members per state for each variant and the hold-out, codes, emails, landings and a chart (view permission)."""
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        activity = campaign_activity(campaign)
        states = list(MemberState)
        context = {
            **self.admin_site.each_context(request), "opts": self.model._meta, "campaign": campaign, "activity": activity,
            "title": f"Activity: {campaign.name}", "status": campaign.effective_status(timezone.now()),
            "states": states, "days": CHART_DAYS,
            "rows": [(arm, [arm.states[s.value] for s in states]) for arm in (*activity.arms, activity.total)],
            "state_chart": bar_chart({arm.name: {s.value: arm.states[s.value] for s in states} for arm in activity.arms},
                                     title="Members per state, by variant and hold-out", y_label="members", x_label="arm"),
            "day_chart": line_chart(activity.per_day, title=f"Per day, last {CHART_DAYS} days", y_label="count",
                                    x_label="day (UTC)"),
        }
        return TemplateResponse(request, "socialshop/admin/campaign_activity.html", context)

    @admin.display(description="incentive status")
    def incentives(self, obj: Campaign) -> str:
        return incentive_message(obj) or "Codes are issued through the store's discount adapter."

    @admin.display(description="platform audiences")
    def ads_channel(self, obj: Campaign) -> str:
        rows = channel_summary(obj) if obj.pk else []
        if not rows:
            return "No platform channel: add a platform slug (meta, pinterest, tiktok, google) to the channels."
        header = format_html("<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
                             "platform", "variant", "audience to target (id)", "members", "last sync", "minimum",
                             "frequency cap to set")
        body = format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}<br><code>{}</code></td><td>{}</td><td>{}<br>{}</td>"
                                    "<td>{}</td><td>{}</td></tr>", (
            (r.platform, r.variant, r.audience, r.remote_id or "not on the platform yet", r.size, r.state,
             f"{r.last_sync_at:%Y-%m-%d %H:%M}" if r.last_sync_at else "", f"{r.min_size:,}", r.frequency_cap)
            for r in rows))
        return format_html('<table class="ss-ads-channel">{}{}</table>', header, body)

    @admin.display(description="picks")
    def picks_summary(self, obj: Campaign) -> str:
        if not obj.pk:
            return "—"
        rows = MemberPick.objects.filter(campaign=obj).values("reason").annotate(n=Count("pk")).order_by("reason")
        by_reason = {r["reason"]: r["n"] for r in rows}
        if not by_reason:
            return "No picks yet: they are computed at each refresh from what members viewed and carted."
        persons = MemberPick.objects.filter(campaign=obj, rank=1).count()
        parts = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in by_reason.items())
        return f"{sum(by_reason.values())} picks for {persons} members ({parts})."

    @admin.display(description="product sets")
    def product_set_status(self, obj: Campaign) -> str:
        sets = obj.product_sets or {}
        if not sets:
            return "None yet: made for each platform channel at the next refresh, or with the action."
        colours = {SetStatus.OK: "#15803d", SetStatus.ERROR: "#b91c1c"}
        return format_html_join(mark_safe("<br>"), '<b>{}</b>: <span style="color:{}">{}</span> {} {}', (
            (slug, colours.get(s.get("status"), "#4b5563"), s.get("status", ""),
             f"set {s['id']} ({s.get('label_field')} = {s.get('value')})" if s.get("id") else "", s.get("message", ""))
            for slug, s in sorted(sets.items())))

    def save_model(self, request: HttpRequest, obj: Campaign, form: object, change: bool) -> None:
        super().save_model(request, obj, form, change)
        message = incentive_message(obj)
        if obj.has_incentive and message:
            self.message_user(request, message, messages.WARNING)

    @admin.action(description="Refresh targeting now", permissions=["refresh"])
    def refresh_now(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        for campaign in queryset:
            try:
                stats = refresh_campaign(campaign)
            except JobLocked:
                self.message_user(request, f"{campaign.slug}: a refresh is already running.", messages.WARNING)
                continue
            targeted = stats.states.get("targeted", 0)
            self.message_user(request, f"{campaign.slug}: {stats.assigned} newly assigned, {targeted} targeted now."
                              + (f" {stats.message}" if stats.message else ""))

    @admin.action(description="Create or update product sets on the platforms now", permissions=["refresh"])
    def sync_sets_now(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        for campaign in queryset:
            results = sync_product_sets(campaign, force=True)
            failed = {slug: r for slug, r in results.items() if r.get("status") == SetStatus.ERROR}
            if not results:
                self.message_user(request, f"{campaign.slug}: not running or no platform channel; nothing to do.", messages.WARNING)
            for slug, result in results.items():
                level = messages.ERROR if slug in failed else (messages.SUCCESS if result.get("status") == SetStatus.OK else messages.WARNING)
                self.message_user(request, f"{campaign.slug} on {slug}: {result.get('status')} {result.get('message', '')}".strip(), level)

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("socialshop.refresh_campaign")

    @admin.display(description="ad creatives")
    def creatives_preview(self, obj: Campaign) -> str:
        return preview_html(obj)

    @admin.action(description="Render ad creatives now", permissions=["change"])
    def render_ads_now(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        from socialshop.core.jobs import ran_in_process, run_task
        from socialshop.tasks import render_ads

        for campaign in queryset:
            result = run_task(render_ads, campaign.slug)
            if not ran_in_process(result):
                self.message_user(request, f"{campaign.slug}: rendering queued; the campaign page shows the result.")
                continue
            summary = result.get()
            level = messages.SUCCESS if summary.get("status") == "ok" else messages.WARNING
            self.message_user(request, f"{campaign.slug}: {summary.get('message') or summary.get('status')}", level)

@admin.register(EmailSend)
class EmailSendAdmin(admin.ModelAdmin):
    """Every abandoned-cart email claimed or sent (campaigns/email.py): its status, and why the last try failed."""

    list_display = ("person", "campaign", "number", "status", "sent_at", "opened_at", "attempts", "error", "code")
    list_filter = ("status", "campaign")
    search_fields = ("person", "code")
    date_hierarchy = "created_at"
    list_select_related = ("campaign",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
