"""The event store (``Event``), the outbox of per-platform deliveries (``Delivery``), and what is
derived from events: per-visitor product interest (``Interest``), read cursors and retention runs.

Events are laid out for set-based SQL by visitor, name and time (audiences, picks): see the
indexes. Collecting is ``tracking/collector.py``; forwarding is ``tracking/forwarding.py``.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models

# DeliveryStatus lives with the engine's row fields; tracking code and tests read it from here too.
from socialshop.platforms.models import DeliveryStatus, OutboxRow  # noqa: F401


class TimeIndex(models.Index):
    """A time-column index: BRIN on PostgreSQL, a B-tree elsewhere.

    Events arrive in time order, so a BRIN index (the range of times per block range) finds a
    time range almost as well as a B-tree while costing next to nothing per insert and a few
    pages in all; the collector inserts tens of thousands of rows a second into this table.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            using = " USING brin"
        return super().create_sql(model, schema_editor, using=using, **kwargs)


class EventName(models.TextChoices):
    PAGE_VIEW = "PageView"
    VIEW_CONTENT = "ViewContent"
    SEARCH = "Search"
    ADD_TO_CART = "AddToCart"
    ADD_TO_WISHLIST = "AddToWishlist"
    INITIATE_CHECKOUT = "InitiateCheckout"
    ADD_PAYMENT_INFO = "AddPaymentInfo"
    PURCHASE = "Purchase"
    LEAD = "Lead"
    COMPLETE_REGISTRATION = "CompleteRegistration"
    POST_VIEW = "PostView"
    POST_CLICK = "PostClick"
    POST_CLOSEUP = "PostCloseup"
    POST_SAVE = "PostSave"
    POST_LIKE = "PostLike"
    POST_SHARE = "PostShare"
    POST_COMMENT = "PostComment"


class EventSource(models.TextChoices):
    BROWSER = "browser", "Browser tag"
    PIXEL = "pixel", "No-JS pixel"
    SERVER = "server", "Server call"
    SIMULATED = "simulated", "Simulated traffic"


class Event(models.Model):
    # Unique through Meta.constraints (a plain unique index): ``unique=True`` would add a second,
    # LIKE-pattern index on PostgreSQL that no query uses and every insert pays for.
    event_id = models.CharField(max_length=64, help_text="Client-made id; the dedup key shared with the platforms.")
    name = models.CharField(max_length=32, choices=EventName.choices, help_text="Standard or social event name.")
    occurred_at = models.DateTimeField(help_text="When the visitor did it (the event's own time).")
    received_at = models.DateTimeField(help_text="When the store recorded it.")
    source = models.CharField(max_length=10, choices=EventSource.choices, default=EventSource.BROWSER)
    visitor_id = models.CharField(max_length=40, blank=True, default="", help_text="First-party visitor id; empty without consent.")
    session_id = models.CharField(max_length=40, blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, db_constraint=False, db_index=False,
        related_name="socialshop_events", help_text="The signed-in customer, when there was one.",
    )
    may_share = models.BooleanField(default=False, help_text="Consent allowed sharing with ad platforms when it was recorded.")
    gpc = models.BooleanField(default=False, help_text="Global Privacy Control was on.")
    url = models.TextField(blank=True, default="")
    referrer = models.TextField(blank=True, default="")
    content_ids = models.JSONField(default=list, blank=True, help_text="Catalog ids, as in the feeds.")
    contents = models.JSONField(default=list, blank=True, help_text="[{id, quantity, item_price}]")
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")
    order_id = models.CharField(max_length=64, blank=True, default="")
    search_string = models.CharField(max_length=256, blank=True, default="")
    post_id = models.CharField(max_length=64, blank=True, default="")
    tag_id = models.CharField(max_length=64, blank=True, default="")
    click_ids = models.JSONField(default=dict, blank=True, help_text="fbclid, gclid, epik, ttclid from the URL or cookies.")
    utm = models.JSONField(default=dict, blank=True, help_text="utm_source, utm_medium, utm_campaign, utm_term, utm_content.")
    browser_ids = models.JSONField(default=dict, blank=True, help_text="Platform browser ids (fbp, fbc, ttp, ga client id).")
    user_data = models.JSONField(
        default=dict, blank=True,
        help_text="Customer identifiers already normalised and SHA-256 hashed (privacy/hashing.py); never raw PII.",
    )
    user_agent = models.CharField(max_length=512, blank=True, default="")
    ip = models.CharField(max_length=64, blank=True, default="", help_text="Truncated or hashed, as IP_HANDLING says.")
    properties = models.JSONField(default=dict, blank=True, help_text="Custom data from socialshop.track().")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "event"
        indexes = [
            # Audiences, results and retention: "events named N between T1 and T2". INCLUDE carries every
            # column those reads take (audiences/rules.py: visitor, user, value, post, order), so on
            # PostgreSQL the cart-abandoner, engager, purchaser (RFM) and campaign-results reads are
            # index-only scans: 3-6x faster at 10M events. Insert cost: none measurable in
            # bench/collect.py (docs/scaling.md). Retention walks it per name with a moving lower bound
            # (tracking/retention.py). Other databases ignore ``include``.
            models.Index(fields=["name", "occurred_at"], name="ss_event_name_time_cov",
                         include=["visitor_id", "user", "value", "post_id", "order_id"]),
            # Picks and journeys: one visitor's events in time order.
            models.Index(fields=["visitor_id", "occurred_at"], name="ss_event_visitor_time"),
            # Retention deletes and time charts (BRIN on PostgreSQL: cheap for the collector's inserts).
            TimeIndex(fields=["occurred_at"], name="ss_event_time"),
            models.Index(fields=["order_id"], name="ss_event_order", condition=~models.Q(order_id="")),
            models.Index(fields=["post_id", "name"], name="ss_event_post", condition=~models.Q(post_id="")),
            # A deleted user's events (SET_NULL), and the visitor -> account links every audience build
            # refreshes (audiences/rules.py refresh_visitor_links): INCLUDE makes that an index-only scan
            # (it was 27k random heap reads, 0.6 s, per build at 1M events). Partial, so anonymous
            # traffic never updates it; a signed-in insert pays two more columns.
            models.Index(fields=["user"], name="ss_event_user_cov", condition=models.Q(user__isnull=False),
                         include=["visitor_id", "occurred_at"]),
            # Audience uploads: the hashed user data a visitor's or account's server events carry
            # (audiences/sync.py identifiers). Partial: only events with user data (server checkouts,
            # a few percent), so browser traffic never updates them; without them an upload read every
            # event of every member (7 s per 10,000 members at 3M events; bench/audiences.py).
            models.Index(fields=["visitor_id"], name="ss_event_hashed_visitor", condition=~models.Q(user_data={})),
            models.Index(fields=["user"], name="ss_event_hashed_user", condition=~models.Q(user_data={})),
        ]
        constraints = [
            # The dedup key: the collector's INSERT ... ON CONFLICT DO NOTHING relies on it.
            models.UniqueConstraint(fields=["event_id"], name="ss_event_event_id_unique"),
            # A purchase is recorded once per order, whichever side (browser or server) reports it first.
            models.UniqueConstraint(
                fields=["order_id"], condition=models.Q(name="Purchase") & ~models.Q(order_id=""),
                name="ss_event_one_purchase_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.event_id}"


class Delivery(OutboxRow):
    """One event's delivery to one platform's server-events capability (sent by tracking/forwarding.py)."""

    # No database constraint: PostgreSQL's per-row foreign-key trigger was ~85 % of retention's delete
    # time at 10M events, even with no deliveries. Retention deletes a batch's deliveries first, in the
    # same transaction (tracking/retention.py); a delivery whose event is gone anyway (a race with
    # retention) is deleted by the forwarding queue, never sent (tracking/forwarding.py).
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries", db_constraint=False)

    class Meta:
        verbose_name = "delivery"
        verbose_name_plural = "deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "platform"], name="ss_delivery_once_per_platform")]
        indexes = [
            models.Index(fields=["platform", "status", "next_attempt_at"], name="ss_delivery_queue"),
            models.Index(fields=["platform", "status", "updated_at"], name="ss_delivery_chart"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.platform}: {self.status}"


class Interest(models.Model):
    """One visitor's latest interest in one product, kept from events by tracking/interest.py.

    Picks and "viewed but not bought" read this small table instead of unnesting raw events.
    """

    visitor_id = models.CharField(max_length=40)
    product_id = models.CharField(max_length=100, help_text="Catalog id, as in the feeds.")
    last_viewed_at = models.DateTimeField(null=True, blank=True, help_text="Latest ViewContent of this product.")
    last_carted_at = models.DateTimeField(null=True, blank=True, help_text="Latest AddToCart of this product.")
    purchased_at = models.DateTimeField(null=True, blank=True, help_text="Latest Purchase including this product.")
    updated_at = models.DateTimeField(help_text="The latest of the three times: retention drops the row once it is past.")

    class Meta:
        verbose_name = "interest"
        constraints = [models.UniqueConstraint(fields=["visitor_id", "product_id"], name="ss_interest_once")]
        # Retention deletes "updated_at < cutoff" as an index range (tracking/retention.py).
        indexes = [models.Index(fields=["updated_at"], name="ss_interest_updated")]

    def __str__(self) -> str:
        return f"{self.visitor_id} / {self.product_id}"


class EventCursor(models.Model):
    """How far a derived table has read the event store: events with a larger id are still to read."""

    name = models.CharField(max_length=40, unique=True, help_text="The reader, e.g. 'interest'.")
    last_event_id = models.BigIntegerField(default=0, help_text="Every event up to this id has been read.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_event_id}"


class PurgeRun(models.Model):
    """One retention run (tracking/retention.py): what it deleted and whether it reached the cutoff."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    cutoff = models.DateTimeField(help_text="Events that occurred before this time were due.")
    deleted = models.BigIntegerField(default=0, help_text="Events deleted.")
    deliveries_deleted = models.BigIntegerField(default=0, help_text="Outbox deliveries of those events deleted.")
    batches = models.PositiveIntegerField(default=0)
    complete = models.BooleanField(default=False, help_text="Every due event is gone (not stopped by max_batches).")
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "retention run"
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"retention {self.started_at:%Y-%m-%d %H:%M}: {self.deleted} deleted"
