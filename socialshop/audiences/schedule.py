"""Which audiences are due for a rebuild, and rebuilding one by slug (the tasks and run_due call these)."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import Audience, RuleKind
from socialshop.exceptions import JobLocked


def due_audiences() -> list[str]:
    """Slugs of enabled audiences never built or built longer ago than their interval (one query)."""
    now = timezone.now()
    # Compared in Python: SQLite cannot multiply an interval in SQL, and a store has tens of audiences, not millions.
    # A campaign's ad audiences are rebuilt by the campaign's refresh, not on a schedule.
    rows = Audience.objects.filter(enabled=True).exclude(kind=RuleKind.CAMPAIGN).order_by("slug").values_list("slug", "last_built_at", "rebuild_every_minutes")
    return [slug for slug, built, every in rows if built is None or built <= now - timedelta(minutes=every)]


def build_by_slug(slug: str) -> dict[str, object]:
    """Rebuild one audience; a second run while one is going answers "already running"."""
    audience = Audience.objects.get(slug=slug)
    try:
        build = build_audience(audience)
    except JobLocked:
        return {"slug": slug, "status": "already running"}
    return {"slug": slug, "status": build.status, "size": build.size, "added": build.added, "removed": build.removed,
            "error": build.error}
