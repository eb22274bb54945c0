"""Consent records: one row per visitor (and per customer once known) holding their current choice."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ConsentChoice(models.TextChoices):
    GRANTED = "granted", "Granted"
    DENIED = "denied", "Denied"
    UNSET = "unset", "Not asked yet"


class ConsentRecord(models.Model):
    visitor_id = models.CharField(max_length=40, unique=True, help_text="First-party visitor id from the socialshop cookie.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="socialshop_consents", help_text="The customer, once the visitor signs in.",
    )
    analytics = models.CharField(max_length=8, choices=ConsentChoice.choices, default=ConsentChoice.UNSET,
                                 help_text="Measuring visits on this store.")
    ads = models.CharField(max_length=8, choices=ConsentChoice.choices, default=ConsentChoice.UNSET,
                           help_text="Sharing events with ad platforms and building retargeting audiences.")
    gpc = models.BooleanField(default=False, help_text="The browser sent Global Privacy Control (an opt-out of sharing).")
    opted_out = models.BooleanField(default=False, help_text="The visitor opted out of all tracking and sharing.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "consent record"
        indexes = [
            models.Index(fields=["updated_at"], name="ss_consent_updated"),
            # The refusals every audience build removes (audiences/rules.py exclude_opted_out), read from
            # the index alone instead of a scan of every visitor's record (about a tenth of them refuse).
            models.Index(fields=["visitor_id", "user"], name="ss_consent_refused", condition=Q(opted_out=True) | Q(gpc=True)),
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id}: analytics {self.analytics}, ads {self.ads}"

    @property
    def may_share(self) -> bool:
        """True when events of this visitor may go to ad platforms and audiences."""
        return self.ads == ConsentChoice.GRANTED and not self.gpc and not self.opted_out
