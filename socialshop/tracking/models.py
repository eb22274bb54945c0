"""The event store (``Event``) and the outbox of per-platform deliveries (``Delivery``).

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
        help_text="Customer identifiers already normalised and SHA-256 hashed (platforms/hashing.py); never raw PII.",
    )
    user_agent = models.CharField(max_length=512, blank=True, default="")
    ip = models.CharField(max_length=64, blank=True, default="", help_text="Truncated or hashed, as IP_HANDLING says.")
    properties = models.JSONField(default=dict, blank=True, help_text="Custom data from socialshop.track().")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "event"
        indexes = [
            # Audiences: "visitors who did NAME between T1 and T2", then group by visitor.
            models.Index(fields=["name", "occurred_at", "visitor_id"], name="ss_event_name_time"),
            # Picks and journeys: one visitor's events in time order.
            models.Index(fields=["visitor_id", "occurred_at"], name="ss_event_visitor_time"),
            # Retention deletes and time charts (BRIN on PostgreSQL: cheap for the collector's inserts).
            TimeIndex(fields=["occurred_at"], name="ss_event_time"),
            models.Index(fields=["order_id"], name="ss_event_order", condition=~models.Q(order_id="")),
            models.Index(fields=["post_id", "name"], name="ss_event_post", condition=~models.Q(post_id="")),
            # A deleted user's events (SET_NULL); partial, so anonymous traffic never updates it.
            models.Index(fields=["user"], name="ss_event_user", condition=models.Q(user__isnull=False)),
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

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")

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
