"""When feeds are rebuilt: which feeds are due (beat), and a build by slug for tasks and commands.

The Celery tasks are ``socialshop.build_due_feeds`` and ``socialshop.build_feed`` in
``socialshop/tasks.py``; the beat entry is in ``socialshop/core/jobs.py``.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone

from socialshop.exceptions import JobLocked
from socialshop.feeds.builder import build_feed
from socialshop.feeds.models import Feed

MIN_INTERVAL_MINUTES = 15  # platforms fetch hourly at most (Meta) or daily (Pinterest)


def due_feeds(*, now: datetime | None = None) -> list[str]:
    """Slugs of enabled feeds whose last build started ``build_interval_minutes`` ago or more."""
    now = now or timezone.now()
    due = []
    feeds = Feed.objects.filter(enabled=True).annotate(last_started=Max("builds__started_at")).order_by("slug")
    for feed in feeds:
        interval = timedelta(minutes=max(MIN_INTERVAL_MINUTES, feed.build_interval_minutes))
        if feed.last_started is None or feed.last_started <= now - interval:
            due.append(feed.slug)
    return due


def build_by_slug(slug: str, *, force: bool = False, allow_empty: bool = False) -> dict[str, Any]:
    """Build one feed; a summary dict for a task result. A build already running is reported, not raised."""
    feed = Feed.objects.filter(slug=slug).first()
    if feed is None:
        return {"feed": slug, "status": "missing"}
    try:
        build = build_feed(feed, force=force, allow_empty=allow_empty)
    except JobLocked:
        return {"feed": slug, "status": "already_running"}
    return {
        "feed": slug, "build": build.pk, "status": build.status, "written": build.items_written,
        "skipped": build.items_skipped, "warnings": build.items_warned, "message": build.message,
    }
