"""Admin for plumbing: worker heartbeats and job locks (read-only; they show whether jobs run), and the
bases other admins share: ``ReadOnlyAdmin`` for rows socialshop writes, ``InternalAdmin`` for internals
kept out of the marketer's app list (still reachable from the overview's "socialshop internals")."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from socialshop.core.models import Heartbeat, JobLock


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by socialshop itself: visible, never edited by hand, never bulk-deleted (state would be lost)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class InternalAdmin(admin.ModelAdmin):
    """Plumbing a marketer does not use: hidden from the app list and sidebar, reachable by URL and from the overview."""

    internal = True

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(InternalAdmin, ReadOnlyAdmin):
    list_display = ("name", "seen_at", "detail")

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(JobLock)
class JobLockAdmin(InternalAdmin, ReadOnlyAdmin):
    list_display = ("name", "owner", "expires_at", "created_at")
