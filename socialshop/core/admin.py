"""Admin for plumbing: worker heartbeats, job locks and periodic job runs (read-only; they show whether
jobs run; late periodic jobs from core/periodic.py ``overdue_jobs`` are a warning on these lists), and the
bases other admins share: ``ReadOnlyAdmin`` for rows socialshop writes, ``InternalAdmin`` for internals
kept out of the marketer's app list (still reachable from the overview's "socialshop internals")."""
from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from socialshop.core.models import Heartbeat, JobLock, JobRun
from socialshop.core.periodic import overdue_jobs


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


class LateJobsNote(ReadOnlyAdmin):
    """A list that also warns about periodic jobs that have not run for longer than their interval."""

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        for late in overdue_jobs():
            self.message_user(request, f"{late.message}. Run Celery beat, or cron every minute: "
                                       "python manage.py socialshop_run_due", messages.WARNING)
        return super().changelist_view(request, extra_context)


@admin.register(Heartbeat)
class HeartbeatAdmin(InternalAdmin, LateJobsNote):
    list_display = ("name", "seen_at", "detail")

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(JobLock)
class JobLockAdmin(InternalAdmin, ReadOnlyAdmin):
    list_display = ("name", "owner", "expires_at", "created_at")


@admin.register(JobRun)
class JobRunAdmin(InternalAdmin, LateJobsNote):
    list_display = ("name", "started_at", "succeeded_at", "ok", "detail")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).order_by("name")
