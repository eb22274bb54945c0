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

from socialshop.campaigns.incentives import incentive_message
from socialshop.campaigns.models import Assignment, Campaign, CampaignMember, EmailSend, IssuedCode, Variant
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
    readonly_fields = ("incentives", "last_refreshed_at")
    inlines = [VariantInline]
    actions = ["refresh_now"]
    fieldsets = (
        (None, {"fields": ("name", "slug", "status", "starts_at", "ends_at", "channels", "last_refreshed_at")}),
        ("Who", {"fields": ("audiences", "exclusions", "holdout_percent")}),
        ("Timing and caps", {"fields": ("min_delay_minutes", "max_age_hours", "email_per_day", "email_per_campaign",
                                        "max_landings_without_purchase", "email_reminder_minutes")}),
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

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("socialshop.refresh_campaign")


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
