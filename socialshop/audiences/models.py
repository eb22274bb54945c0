"""Retargeting audiences: the rule (``Audience``), its membership with joined and left times
(``AudienceMember``), each build (``AudienceBuild``), the visitor -> customer links (``VisitorLink``),
the stored hashes per visitor and account (``IdentityHash``) and the scratch rows a build writes in SQL (``AudienceCandidate``).

Rules become SQL in audiences/rules.py; audiences/builder.py runs a build. Uploads are
audiences/sync.py over the platforms' audience capabilities.
"""
from __future__ import annotations

from django.db import models

from socialshop.platforms.models import OutboxRow


class RuleKind(models.TextChoices):
    VISITORS = "visitors", "All visitors"
    VIEWERS = "viewers", "Viewers of products or categories"
    CART_ABANDONERS = "cart_abandoners", "Cart abandoners"
    CHECKOUT_ABANDONERS = "checkout_abandoners", "Checkout abandoners"
    POST_ENGAGERS = "post_engagers", "Shoppable post engagers"
    PURCHASERS = "purchasers", "Past purchasers (recency, frequency, value)"
    CUSTOMER_LIST = "customer_list", "Customer list (CSV)"
    LOOKALIKE_SEED = "lookalike_seed", "Lookalike seed (best customers by value)"
    CAMPAIGN = "campaign", "Campaign ad audience (kept by its campaign)"


class BuildStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Audience(models.Model):
    name = models.CharField(max_length=120, help_text="Shown in admin and, neutral, as the platform audience's name.")
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=24, choices=RuleKind.choices)
    params = models.JSONField(
        default=dict, blank=True,
        help_text="The rule's settings for its kind (products, categories, actions, delays, RFM bounds); see docs/audiences.md.",
    )
    lookback_days = models.PositiveSmallIntegerField(default=30, help_text="Only actions within this many days count.")
    include = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="included_in",
        help_text="Members of these audiences are added (union).",
    )
    exclude = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="excluded_from",
        help_text="Members of these audiences are left out (for example recent purchasers).",
    )
    exclude_purchasers_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Leave out anyone who purchased within this many days (empty: nobody).",
    )
    enabled = models.BooleanField(default=True, help_text="Disabled audiences are neither rebuilt on schedule nor synced.")
    rebuild_every_minutes = models.PositiveIntegerField(default=60, help_text="Scheduled rebuild interval.")
    size = models.PositiveIntegerField(default=0, help_text="Members after the last successful build.")
    last_built_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("build_audience", "Can build audience"), ("export_audience", "Can export audience (hashed)")]

    def __str__(self) -> str:
        return self.name


class VisitorLink(models.Model):
    """A visitor id known to belong to a customer: one person across devices.

    ``person`` is ``u:<account id>`` once the visitor signed in, else ``h:<hashed email>`` once they
    checked out as a guest (the SHA-256 the store already keeps in ``Event.user_data``, never the address).
    """

    visitor_id = models.CharField(max_length=40, unique=True)
    person = models.CharField(max_length=80, help_text="u:<account id> or h:<SHA-256 of the normalised email>.")
    user_id = models.BigIntegerField(null=True, blank=True, help_text="The account, when the visitor signed in.")
    linked_at = models.DateTimeField(help_text="When the visitor was first seen as this customer.")

    class Meta:
        indexes = [models.Index(fields=["person"], name="ss_visitorlink_person")]


class IdentityHash(models.Model):
    """The stored SHA-256 identifiers of one visitor or account, kept from the event store: one row per subject.

    ``subject`` is ``v:<visitor id>`` or ``u:<account id>``. Each key's column holds the newest hash of that
    key as ``<event time, 20 digits><event row id, 19 digits><hash>``, so the newer of two is the greater
    string and a merge needs no timestamps decoded (audiences/identity.py folds new events in and reads
    them; docs/audiences.md, "Identity and hashing"). Only hashes: raw values never reach these tables.
    """

    subject = models.CharField(max_length=80, unique=True, help_text="v:<visitor id> or u:<account id>.")
    em = models.CharField(max_length=120, null=True, blank=True)
    em_google = models.CharField(max_length=120, null=True, blank=True)
    ph = models.CharField(max_length=120, null=True, blank=True)
    ph_e164 = models.CharField(max_length=120, null=True, blank=True)
    fn = models.CharField(max_length=120, null=True, blank=True)
    ln = models.CharField(max_length=120, null=True, blank=True)
    ct = models.CharField(max_length=120, null=True, blank=True)
    st = models.CharField(max_length=120, null=True, blank=True)
    zp = models.CharField(max_length=120, null=True, blank=True)
    country = models.CharField(max_length=120, null=True, blank=True)
    external_id = models.CharField(max_length=120, null=True, blank=True)
    occurred_at = models.DateTimeField(help_text="The newest event that gave this subject a hash.")


class AudienceMember(models.Model):
    """One person's stay in an audience: open while ``left_at`` is empty; history is kept."""

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="members")
    person = models.CharField(
        max_length=80, help_text="u:<account id>, h:<hashed email>, v:<visitor id> or l:<list entry id>: one person across devices.",
    )
    visitor_id = models.CharField(max_length=40, blank=True, default="", help_text="The visitor whose action qualified.")
    user_id = models.BigIntegerField(null=True, blank=True, help_text="The customer, when known.")
    qualified_at = models.DateTimeField(null=True, blank=True, help_text="When the qualifying action happened.")
    reason = models.CharField(max_length=200, blank=True, default="", help_text="The action that qualified, in plain words.")
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["audience", "person"], condition=models.Q(left_at__isnull=True),
                                    name="ss_member_open_once"),
        ]
        indexes = [
            models.Index(fields=["audience", "left_at", "person"], name="ss_member_current"),
            models.Index(fields=["audience", "joined_at"], name="ss_member_joined"),
            models.Index(fields=["audience", "left_at"], name="ss_member_left", condition=models.Q(left_at__isnull=False)),
            models.Index(fields=["person"], name="ss_member_person"),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.audience_id}"


class AudienceCandidate(models.Model):
    """Scratch rows of one build: the rule's result before it is compared with the membership."""

    build = models.ForeignKey("AudienceBuild", on_delete=models.CASCADE, related_name="+")
    person = models.CharField(max_length=80)
    visitor_id = models.CharField(max_length=40, blank=True, default="")
    user_id = models.BigIntegerField(null=True, blank=True)
    qualified_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["build", "person"], name="ss_candidate_person")]


class AudienceBuild(models.Model):
    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="builds")
    status = models.CharField(max_length=10, choices=BuildStatus.choices, default=BuildStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    size = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["audience", "-started_at"], name="ss_audbuild_recent")]

    def __str__(self) -> str:
        return f"{self.audience_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class Destination(models.Model):
    """One audience on one platform: the list we keep in step, its pixel-based twin and lookalike."""

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="destinations")
    platform = models.CharField(max_length=20, help_text="Platform slug from the registry.")
    remote_id = models.CharField(max_length=100, blank=True, default="", help_text="The platform's id of the customer list.")
    twin_id = models.CharField(max_length=100, blank=True, default="", help_text="The platform's id of the website (pixel) twin.")
    lookalike_id = models.CharField(max_length=100, blank=True, default="", help_text="The platform's id of the lookalike.")
    synced_until = models.DateTimeField(
        null=True, blank=True, help_text="Membership changes up to this time are queued for upload (the diff's watermark).",
    )
    last_sync_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=200, blank=True, default="", help_text="What the last sync did or why it did not upload.")
    last_result = models.JSONField(default=dict, blank=True, help_text="Per-batch counts of the last sync, as the platform said.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["audience", "platform"], name="ss_destination_once")]

    def __str__(self) -> str:
        return f"{self.audience_id} → {self.platform}"


class ChangeOp(models.TextChoices):
    ADD = "add", "Add"
    REMOVE = "remove", "Remove"


class AudienceChange(OutboxRow):
    """One member to add to or remove from one destination, sent by the delivery engine (audiences/sync.py)."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="changes")
    person = models.CharField(max_length=80)
    visitor_id = models.CharField(max_length=40, blank=True, default="")
    user_id = models.BigIntegerField(null=True, blank=True)
    op = models.CharField(max_length=6, choices=ChangeOp.choices)
    hashes = models.JSONField(
        null=True, blank=True,
        help_text="An add's SHA-256 identifiers, read with the diff that queued it (empty: looked up when sent).",
    )

    class Meta:
        indexes = [
            models.Index(fields=["platform", "status", "next_attempt_at"], name="ss_change_queue"),
            models.Index(fields=["destination", "person", "status"], name="ss_change_person"),
        ]


class DestinationMember(models.Model):
    """Who is on the platform's list now, as far as socialshop sent: the other side of the sync's diff.

    ``hashes`` are the identifiers that were sent (SHA-256 only), so a removal sends exactly what the
    add did, whatever the event store has kept since. ``matched`` is False for a member skipped
    because the platform takes none of their identifiers (re-checked daily).
    """

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="uploaded")
    person = models.CharField(max_length=80)
    hashes = models.JSONField(default=dict, blank=True)
    matched = models.BooleanField(default=True)
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["destination", "person"], name="ss_destmember_once")]


class CustomerListEntry(models.Model):
    """One row of an uploaded customer list, hashed on import; the raw values are never stored."""

    audience = models.ForeignKey(Audience, on_delete=models.CASCADE, related_name="list_entries")
    line = models.PositiveIntegerField(help_text="Line number in the uploaded file.")
    hashes = models.JSONField(default=dict, help_text="SHA-256 identifiers under privacy/hashing.py's keys.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["audience", "line"], name="ss_listentry_line")]
