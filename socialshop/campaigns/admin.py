"""Campaign admin (basic): campaigns with their variants inline, effective status, audiences, members,
hold-out share and codes issued/redeemed; "refresh targeting now". Richer screens come later.

Targeting is campaigns/targeting.py; the incentive message comes from campaigns/incentives.py.
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from socialshop.campaigns.incentives import incentive_message
from socialshop.campaigns.models import Assignment, Campaign, CampaignMember, IssuedCode, MemberPick, Variant
from socialshop.campaigns.product_sets import SetStatus, sync_product_sets
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
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "effective", "audience_names", "member_count", "holdout_share", "codes")
    list_filter = ("status",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("audiences", "exclusions")
    readonly_fields = ("incentives", "last_refreshed_at", "picks_summary", "product_set_status")
    inlines = [VariantInline]
    actions = ["refresh_now", "sync_sets_now"]
    fieldsets = (
        (None, {"fields": ("name", "slug", "status", "starts_at", "ends_at", "channels", "last_refreshed_at")}),
        ("Who", {"fields": ("audiences", "exclusions", "holdout_percent")}),
        ("Timing and caps", {"fields": ("min_delay_minutes", "max_age_hours", "email_per_day", "email_per_campaign",
                                        "max_landings_without_purchase")}),
        ("Picks and product sets", {"fields": ("picks_per_person", "picks_summary", "product_set_status")}),
        ("Incentive", {"fields": ("incentives", "incentive_kind", "incentive_amount", "incentive_currency",
                                  "incentive_min_order", "incentive_valid_days")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return super().get_queryset(request).prefetch_related("audiences").annotate(
            n_members=_count(CampaignMember), n_assigned=_count(Assignment),
            n_holdout=_count(Assignment, variant__isnull=True), n_codes=_count(IssuedCode),
            n_redeemed=_count(IssuedCode, redeemed_at__isnull=False))

    @admin.display(description="status")
    def effective(self, obj: Campaign) -> str:
        return obj.effective_status(timezone.now())

    @admin.display(description="audiences")
    def audience_names(self, obj: Campaign) -> str:
        return ", ".join(a.name for a in obj.audiences.all()) or "—"

    @admin.display(description="members", ordering="n_members")
    def member_count(self, obj: Campaign) -> int:
        return obj.n_members

    @admin.display(description="hold-out")
    def holdout_share(self, obj: Campaign) -> str:
        if not obj.n_assigned:
            return f"— (target {obj.holdout_percent}%)"
        return f"{obj.n_holdout / obj.n_assigned:.1%} of {obj.n_assigned} (target {obj.holdout_percent}%)"

    @admin.display(description="codes issued / redeemed")
    def codes(self, obj: Campaign) -> str:
        return f"{obj.n_codes} / {obj.n_redeemed}"

    @admin.display(description="incentive status")
    def incentives(self, obj: Campaign) -> str:
        return incentive_message(obj) or "Codes are issued through the store's discount adapter."

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
