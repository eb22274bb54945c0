"""Per-platform set-up and health (``PlatformStatus``): last success, last error, credential halt, test event.

Written by tracking/forwarding.py and platforms/status.py; shown by platforms/admin.py.
"""
from __future__ import annotations

from django.db import models


class PlatformStatus(models.Model):
    slug = models.CharField(max_length=20, unique=True, help_text="Platform slug from the registry.")
    last_success_at = models.DateTimeField(null=True, blank=True, help_text="Last time the platform accepted a batch.")
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="", help_text="The platform's last error message.")
    halted_at = models.DateTimeField(
        null=True, blank=True, help_text="Forwarding stopped here because the credentials were refused.",
    )
    halted_fingerprint = models.CharField(
        max_length=64, blank=True, default="",
        help_text="Digest of the credentials that were refused; forwarding resumes once they change.",
    )
    test_event_at = models.DateTimeField(null=True, blank=True, help_text="Last test event the platform accepted.")
    test_event_response = models.TextField(blank=True, default="", help_text="The platform's answer to that test event.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "platform status"
        verbose_name_plural = "platform statuses"

    def __str__(self) -> str:
        return self.slug
