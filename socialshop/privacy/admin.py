"""Admin for consent records: read-only (visitors change their choice at /socialshop/privacy/)."""
from __future__ import annotations

from django.contrib import admin

from socialshop.core.admin import InternalAdmin, ReadOnlyAdmin
from socialshop.privacy.models import ConsentRecord


@admin.register(ConsentRecord)
class ConsentRecordAdmin(InternalAdmin, ReadOnlyAdmin):
    list_display = ("visitor_id", "analytics", "ads", "gpc", "opted_out", "user", "updated_at")
    list_filter = ("analytics", "ads", "gpc", "opted_out")
    search_fields = ("=visitor_id",)
    ordering = ("-updated_at",)
    show_full_result_count = False
