"""Admin for plumbing: worker heartbeats and job locks (read-only; they show whether jobs run)."""
from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from socialshop.core.models import Heartbeat, JobLock


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by socialshop itself: visible, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("name", "seen_at", "detail")


@admin.register(JobLock)
class JobLockAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "expires_at", "created_at")
