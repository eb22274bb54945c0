"""Outgoing work and platform health: ``OutboxRow`` (the fields every queued record shares, sent by
platforms/delivery.py) and ``PlatformStatus`` (last success, last error, credential halt, test event)
per platform and capability.

Event deliveries (tracking/models.py ``Delivery``) are one kind of ``OutboxRow``; admin shows status
in platforms/admin.py.
"""
from __future__ import annotations

from django.db import models


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class OutboxRow(models.Model):
    """What the delivery engine needs on a queued record: platform, state, attempts, lease and outcome."""

    platform = models.CharField(max_length=20, help_text="Platform slug from the registry.")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Not before this time (backoff).")
    claimed_by = models.CharField(max_length=64, blank=True, default="", help_text="Batch token of the worker sending it.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, default="", help_text="Why it was skipped, or the platform's error.")
    error_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status of the last error answer.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PlatformStatus(models.Model):
    slug = models.CharField(max_length=20, help_text="Platform slug from the registry.")
    capability = models.CharField(
        max_length=20, default="events",
        help_text="Capability kind (events, browser_tag, audiences...): each halts and recovers on its own.",
    )
    last_success_at = models.DateTimeField(null=True, blank=True, help_text="Last time the platform accepted a batch.")
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="", help_text="The platform's last error message.")
    halted_at = models.DateTimeField(
        null=True, blank=True, help_text="Sending stopped here because the credentials were refused.",
    )
    halted_fingerprint = models.CharField(
        max_length=64, blank=True, default="",
        help_text="Digest of the credentials that were refused; sending resumes once they change.",
    )
    test_event_at = models.DateTimeField(null=True, blank=True, help_text="Last test event the platform accepted.")
    test_event_response = models.TextField(blank=True, default="", help_text="The platform's answer to that test event.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "platform status"
        verbose_name_plural = "platform statuses"
        constraints = [models.UniqueConstraint(fields=["slug", "capability"], name="ss_platformstatus_once")]

    def __str__(self) -> str:
        return f"{self.slug} {self.capability}"
