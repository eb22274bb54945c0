"""Which audiences are due for a rebuild, and rebuilding one by slug (the tasks and run_due call these)."""
from __future__ import annotations

from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import Audience
from socialshop.exceptions import JobLocked


def due_audiences() -> list[str]:
    """Slugs of enabled audiences never built or built longer ago than their interval (one query)."""
    now = timezone.now()
    audiences = Audience.objects.filter(enabled=True).filter(
        Q(last_built_at__isnull=True) | Q(last_built_at__lte=now - F("rebuild_every_minutes") * timedelta(minutes=1)))
    return list(audiences.order_by("slug").values_list("slug", flat=True))


def build_by_slug(slug: str) -> dict[str, object]:
    """Rebuild one audience; a second run while one is going answers "already running"."""
    audience = Audience.objects.get(slug=slug)
    try:
        build = build_audience(audience)
    except JobLocked:
        return {"slug": slug, "status": "already running"}
    return {"slug": slug, "status": build.status, "size": build.size, "added": build.added, "removed": build.removed,
            "error": build.error}
