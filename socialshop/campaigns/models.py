"""Campaigns (issue #16): the ``Campaign`` with its ``Variant``s, each person's stable ``Assignment``
(a variant or the hold-out), their computed ``CampaignMember`` state, the ``Touch``es channels record
and the discount codes issued (``IssuedCode``).

Targeting (assignment, states, who to reach now) is campaigns/targeting.py; codes and the host's
discount adapter are campaigns/incentives.py; the landing link is campaigns/views.py.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

# The channel name that is not a platform slug; every other channel is a platform from the registry.
EMAIL = "email"


def default_reminders() -> list[int]:
    """Abandoned-cart reminders after the qualifying action, in minutes: 1 h and 24 h."""
    return [60, 1440]


def new_salt() -> str:
    """A random per-campaign salt: assignments hash ``salt + person``, so campaigns split independently."""
    return secrets.token_hex(16)


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"


class IncentiveKind(models.TextChoices):
    NONE = "none", "No incentive"
    PERCENT = "percent", "Percent off the order"
    FIXED = "fixed", "Fixed amount off the order"
    FREE_SHIPPING = "free_shipping", "Free shipping"


class MemberState(models.TextChoices):
    WAITING = "waiting", "Waiting for the minimum delay"
    TARGETED = "targeted", "Targeted"
    CAPPED = "capped", "Capped (landed too often without buying)"
    CONVERTED = "converted", "Converted (purchased)"
    EXPIRED = "expired", "Too long since the action"
    LEFT = "left", "Left the audiences"


class Campaign(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True, help_text="Also the utm_campaign of the campaign's links.")
    audiences = models.ManyToManyField(
        "socialshop.Audience", related_name="campaigns", help_text="Current members of any of these are in the campaign.")
    exclusions = models.ManyToManyField(
        "socialshop.Audience", related_name="excluded_from_campaigns", blank=True,
        help_text="Current members of these are left out (for example recent purchasers).")
    channels = models.JSONField(
        default=list, blank=True, help_text='Platform slugs and/or "email": where the campaign reaches people.')
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Empty: as soon as it is set running.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Nobody is targeted from this time on. Empty: no end.")
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT,
        help_text="What the owner chose; the effective status also follows the start and end times.")
    min_delay_minutes = models.PositiveIntegerField(
        default=60, help_text="Minutes after the qualifying action before the person is targeted.")
    max_age_hours = models.PositiveIntegerField(
        default=72, validators=[MinValueValidator(1)], help_text="Hours after the qualifying action after which the person is no longer targeted.")
    email_per_day = models.PositiveSmallIntegerField(
        default=1, help_text="Emails a person may get per day across all campaigns (counted from touches).")
    email_per_campaign = models.PositiveSmallIntegerField(default=3, help_text="Emails a person may get from this campaign.")
    max_landings_without_purchase = models.PositiveSmallIntegerField(
        default=5, help_text="Landings from the campaign's links without a purchase after which the person is capped (0: no cap).")
    email_reminder_minutes = models.JSONField(
        default=default_reminders, blank=True,
        help_text="Minutes after the action for each abandoned-cart email, e.g. [60, 1440]: one email per entry; a later "
                  "one also waits its gap after the previous email (campaigns/email.py).")
    ad_impressions_cap = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(90)],
        help_text="Ads: impressions per person per ad_cap_days to set on each platform's ad set (the platform enforces it; 0: none).")
    ad_cap_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(90)], help_text="Ads: the cap's interval in days.")
    holdout_percent = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(90)], help_text="Share of members held out (never reached) to measure lift.")
    salt = models.CharField(max_length=32, default=new_salt, editable=False, help_text="Random per campaign; keys the assignment hash.")
    incentive_kind = models.CharField(max_length=16, choices=IncentiveKind.choices, default=IncentiveKind.NONE)
    incentive_amount = models.DecimalField(
        max_digits=10, decimal_places=2, default=Decimal("0"), help_text="Percent (0-100) or amount in the currency; unused for free shipping.")
    incentive_valid_days = models.PositiveSmallIntegerField(default=7, validators=[MinValueValidator(1)], help_text="Days a code stays valid after it is issued.")
    incentive_min_order = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="Smallest order total the code applies to (empty: any).")
    incentive_currency = models.CharField(max_length=3, blank=True, default="", help_text="ISO 4217; empty: SOCIALSHOP['CURRENCY'].")
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    picks_per_person = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Products picked per member (viewed or carted, topped up with related products); 1-20.")
    product_sets = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text="Per platform slug: the product set made there for this campaign (id, filter, status, message).")
    attribution_days = models.PositiveSmallIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(90)],
        help_text="Days after a member's exposure (hold-out: assignment) in which their purchases count as conversions.")
    platform_campaigns = models.JSONField(
        default=dict, blank=True,
        help_text='The ad campaign on each platform, for its reports: {"meta": "<campaign id>", ...}. '
                  "Meta and Google fall back to the ad campaign named like this campaign's slug.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "name"]
        permissions = [("refresh_campaign", "Can refresh campaign targeting"),
                       ("export_campaign_results", "Can export campaign results (CSV)")]

    def __str__(self) -> str:
        return self.name

    def effective_status(self, now: datetime | None = None) -> str:
        """The status at ``now``: draft and paused as chosen; scheduled before ``starts_at``; ended from ``ends_at``."""
        now = now or timezone.now()
        if self.status in (CampaignStatus.DRAFT, CampaignStatus.PAUSED, CampaignStatus.ENDED):
            return self.status
        if self.ends_at is not None and now >= self.ends_at:
            return CampaignStatus.ENDED
        if self.starts_at is not None and now < self.starts_at:
            return CampaignStatus.SCHEDULED
        return CampaignStatus.RUNNING if self.status == CampaignStatus.RUNNING else CampaignStatus.SCHEDULED

    @property
    def has_incentive(self) -> bool:
        return self.incentive_kind != IncentiveKind.NONE

    def clean(self) -> None:
        """Channels are "email" or platform slugs; the incentive's amount fits its kind; the end follows the start."""
        from django.core.exceptions import ValidationError

        from socialshop.platforms import REGISTRY

        errors: dict[str, str] = {}
        known = {EMAIL, *REGISTRY}
        channels = self.channels
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            errors["channels"] = f'{channels!r} is not a list of channel names such as ["email", "meta"]'
        elif set(channels) - known:
            errors["channels"] = f"unknown channels {sorted(set(channels) - known)}; use {', '.join(sorted(known))}"
        amount = self.incentive_amount if self.incentive_amount is not None else Decimal("0")
        if self.incentive_kind == IncentiveKind.PERCENT and not Decimal("0") < amount <= Decimal("100"):
            errors["incentive_amount"] = f"a percent discount must be above 0 and at most 100, not {amount}"
        elif self.incentive_kind == IncentiveKind.FIXED and amount <= 0:
            errors["incentive_amount"] = f"a fixed discount must be above 0, not {amount}"
        if self.incentive_currency and not (len(self.incentive_currency) == 3 and self.incentive_currency.isalpha()
                                            and self.incentive_currency.isupper()):
            errors["incentive_currency"] = f"{self.incentive_currency!r} is not a 3-letter ISO 4217 code such as 'EUR'"
        reminders = self.email_reminder_minutes
        if not isinstance(reminders, list) or not all(isinstance(m, int) and not isinstance(m, bool) and m >= 0 for m in reminders) \
                or reminders != sorted(reminders) or len(reminders) > 10:
            errors["email_reminder_minutes"] = f"{reminders!r} is not a rising list of at most 10 minute counts such as [60, 1440]"
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "the end must come after the start"
        refs = self.platform_campaigns
        if not isinstance(refs, dict) or not all(isinstance(k, str) and isinstance(v, (str, int)) and not isinstance(v, bool)
                                                 and str(v).strip() for k, v in refs.items()):
            errors["platform_campaigns"] = f'{refs!r} is not a dict of platform slug to campaign id such as {{"meta": "120210000000"}}'
        elif set(refs) - set(REGISTRY):
            errors["platform_campaigns"] = f"unknown platforms {sorted(set(refs) - set(REGISTRY))}; use {', '.join(REGISTRY)}"
        if errors:
            raise ValidationError(errors)


class Variant(models.Model):
    """One arm of the campaign's A/B test: its share (weight) and the creative's texts."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="variants")
    name = models.CharField(max_length=60)
    weight = models.PositiveIntegerField(default=1, help_text="Relative share of the non-held-out members (0: no new members).")
    subject = models.CharField(max_length=200, blank=True, default="", help_text="Email subject.")
    headline = models.CharField(max_length=200, blank=True, default="", help_text="Headline of the creative.")
    body = models.TextField(blank=True, default="", help_text="Body text of the creative template.")
    incentive_from_message = models.PositiveSmallIntegerField(
        null=True, blank=True, default=1, validators=[MinValueValidator(1)],
        help_text="The message from which this variant offers the campaign's code (2: from the second email). Empty: never.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "pk"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="ss_variant_name_once")]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.name}"

    @property
    def offers_incentive(self) -> bool:
        return self.incentive_from_message is not None


class Assignment(models.Model):
    """A person's place in the campaign, drawn once and kept: a variant, or the hold-out (``variant`` empty)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="assignments")
    person = models.CharField(max_length=80, help_text="u:<account>, h:<hashed email>, v:<visitor> or l:<list row>.")
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments",
                                help_text="Empty: held out (never reached; the baseline for lift).")
    bucket = models.FloatField(help_text="sha256(salt + person) as a number in [0, 1): what decided the variant.")
    qualified_at = models.DateTimeField(help_text="The qualifying action when the person was assigned; purchases from then on convert.")
    assigned_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "person"], name="ss_assignment_once")]
        indexes = [models.Index(fields=["campaign", "variant"], name="ss_assignment_variant")]

    def __str__(self) -> str:
        return f"{self.person} in {self.campaign_id}: {self.variant_id or 'hold-out'}"


class CampaignMember(models.Model):
    """A person's state in the campaign, recomputed in SQL by each refresh (campaigns/targeting.py)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    person = models.CharField(max_length=80)
    holdout = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=MemberState.choices)
    qualified_at = models.DateTimeField(null=True, blank=True, help_text="The latest qualifying action while in the audiences.")
    landings = models.PositiveIntegerField(default=0, help_text="Landings from the campaign's links since the action.")
    converted_at = models.DateTimeField(null=True, blank=True, help_text="The first purchase since the action.")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "person"], name="ss_campaignmember_once")]
        indexes = [models.Index(fields=["campaign", "state"], name="ss_campaignmember_state")]

    def __str__(self) -> str:
        return f"{self.person} in {self.campaign_id}: {self.state}"


class Touch(models.Model):
    """One message or impression a channel sent a person: caps count these across campaigns."""

    person = models.CharField(max_length=80)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="touches")
    channel = models.CharField(max_length=20, help_text='"email" or a platform slug.')
    at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["person", "channel", "at"], name="ss_touch_person"),
            models.Index(fields=["campaign", "person"], name="ss_touch_campaign"),
        ]


class IssuedCode(models.Model):
    """A discount code socialshop had the store issue to one person for one campaign (not personal data)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="codes")
    person = models.CharField(max_length=80)
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="codes")
    code = models.CharField(max_length=40, unique=True)
    expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    order_id = models.CharField(max_length=64, blank=True, default="", help_text="The store's order that used the code.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "person"], name="ss_issuedcode_once")]

    def __str__(self) -> str:
        return self.code


class Suppression(models.Model):
    """A person who must not be reached on a channel again (an unsubscribe); ``targeted_persons`` honours it."""

    person = models.CharField(max_length=80)
    channel = models.CharField(max_length=20, default=EMAIL, help_text='"email" or a platform slug.')
    reason = models.CharField(max_length=200, blank=True, default="", help_text="Why, in plain words (e.g. one-click unsubscribe).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "channel"], name="ss_suppression_once")]

    def __str__(self) -> str:
        return f"{self.person} on {self.channel}"


class AdAudience(models.Model):
    """The platform audience of one variant of a campaign on one platform channel (campaigns/ads.py).

    An ``Audience`` of kind ``campaign`` whose membership the campaign writes; the audiences package
    uploads it like any other audience, to this platform only (its ``params["platform"]``).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="ad_audiences")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="ad_audiences")
    platform = models.CharField(max_length=20, help_text="Platform slug from the registry.")
    audience = models.OneToOneField("socialshop.Audience", on_delete=models.CASCADE, related_name="campaign_link")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "variant", "platform"], name="ss_adaudience_once")]
        indexes = [models.Index(fields=["platform", "campaign"], name="ss_adaudience_platform")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.variant_id} on {self.platform}"


class PlatformReport(models.Model):
    """One day of a campaign's delivery as a platform reports it (campaigns/reports.py pulls these)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="platform_reports")
    platform = models.CharField(max_length=20, help_text="Platform slug from the registry.")
    day = models.DateField(help_text="The platform's reporting day.")
    impressions = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    spend = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, help_text="ISO 4217 of ``spend``.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "platform", "day"], name="ss_platformreport_once")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.platform} {self.day}"


class ReportPullStatus(models.TextChoices):
    OK = "ok", "Pulled"
    RETRYING = "retrying", "Will retry"
    FAILED = "failed", "Failed"


class ReportPull(models.Model):
    """The last report pull of one campaign from one platform: its outcome and when to try again."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="report_pulls")
    platform = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=ReportPullStatus.choices)
    rows = models.PositiveIntegerField(default=0, help_text="Days stored by the last successful pull.")
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="", help_text="The platform's words for the last failure.")
    retry_at = models.DateTimeField(null=True, blank=True, help_text="Not asked again before this time (Retry-After).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "platform"], name="ss_reportpull_once")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.platform}: {self.status}"


class CreativeSize(models.TextChoices):
    SQUARE = "square", "1080x1080 (feed)"
    STORY = "story", "1080x1920 (stories)"
    LANDSCAPE = "landscape", "1200x628 (link ads)"


class Creative(models.Model):
    """One rendered ad image of a product for a variant at one size (campaigns/creatives/builder.py)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="creatives")
    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="creatives")
    product_id = models.CharField(max_length=100, help_text="Catalog id, as in the feeds.")
    size = models.CharField(max_length=10, choices=CreativeSize.choices)
    file = models.FileField(max_length=300, help_text="Under socialshop/creatives/<campaign>/<variant>/ in default storage.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    fingerprint = models.CharField(max_length=64, help_text="Hash of everything drawn; an unchanged ad is not drawn again.")
    placeholder = models.BooleanField(default=False, help_text="The product had no usable image; a placeholder was drawn.")
    truncated = models.BooleanField(default=False, help_text="Some text was cut with an ellipsis to fit.")
    note = models.CharField(max_length=300, blank=True, default="", help_text="Why the product image was not used, if it was not.")
    rendered_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "variant", "product_id", "size"]
        constraints = [models.UniqueConstraint(fields=["campaign", "variant", "product_id", "size"], name="ss_creative_once")]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.variant_id}/{self.product_id}/{self.size}"


class CreativeRun(models.Model):
    """One rendering of a campaign's creatives: what it drew, reused and could not draw, in words."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="creative_runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False, help_text="False while running and when it failed.")
    products = models.PositiveIntegerField(default=0)
    rendered = models.PositiveIntegerField(default=0, help_text="Images drawn and stored.")
    unchanged = models.PositiveIntegerField(default=0, help_text="Images already up to date.")
    placeholders = models.PositiveIntegerField(default=0, help_text="Images drawn with a placeholder for the product photo.")
    message = models.CharField(max_length=500, blank=True, default="", help_text="The summary, or why nothing was drawn.")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["campaign", "started_at"], name="ss_creativerun_campaign")]

    def __str__(self) -> str:
        return f"{self.campaign_id} at {self.started_at:%Y-%m-%d %H:%M}"


class EmailSendStatus(models.TextChoices):
    SENDING = "sending", "Claimed, being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (tried again next run)"


class EmailSend(models.Model):
    """One abandoned-cart email: claimed (inserted) before it is sent, so it goes out at most once.

    No address is kept: the host's contact adapter gives it at send time (campaigns/contacts.py).
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="email_sends")
    person = models.CharField(max_length=80)
    number = models.PositiveSmallIntegerField(help_text="1 for the first reminder, 2 for the second, ...")
    variant = models.ForeignKey(Variant, null=True, blank=True, on_delete=models.SET_NULL, related_name="email_sends")
    status = models.CharField(max_length=10, choices=EmailSendStatus.choices, default=EmailSendStatus.SENDING)
    claim = models.CharField(max_length=32, help_text="The run that holds (or last held) this email.")
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True, default="", help_text="Why the last attempt failed.")
    code = models.CharField(max_length=40, blank=True, default="", help_text="The discount code the email carried.")
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True, help_text="First load of the open pixel (EMAIL_OPEN_PIXEL).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "person", "number"], name="ss_emailsend_once")]
        indexes = [models.Index(fields=["claim"], name="ss_emailsend_claim"),
                   models.Index(fields=["campaign", "status"], name="ss_emailsend_status")]

    def __str__(self) -> str:
        return f"email {self.number} to {self.person} ({self.campaign_id}): {self.status}"


class PickReason(models.TextChoices):
    CARTED = "carted", "Added to cart"
    VIEWED = "viewed", "Viewed"
    BOUGHT_TOGETHER = "bought_together", "Bought together with a product they looked at"
    SAME_CATEGORY = "same_category", "Popular in the category of a product they looked at"


class MemberPick(models.Model):
    """One product picked for one campaign member, recomputed for the whole campaign by campaigns/picks.py."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="picks")
    person = models.CharField(max_length=80, help_text="The member's person key (u:, h:, v: or l:).")
    rank = models.PositiveSmallIntegerField(help_text="1 first: the most recent interest first, then related products.")
    product_id = models.CharField(max_length=100, help_text="Catalog id, as in the feeds.")
    reason = models.CharField(max_length=16, choices=PickReason.choices)
    created_at = models.DateTimeField(help_text="The refresh that picked it.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "person", "rank"], name="ss_memberpick_once")]

    def __str__(self) -> str:
        return f"{self.person} in {self.campaign_id}: #{self.rank} {self.product_id}"
