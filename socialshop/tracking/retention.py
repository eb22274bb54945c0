"""Retention: delete events older than ``EVENT_RETENTION_DAYS`` in small batches.

Each batch is its own short statement (ids first, then a delete by primary key), so the table is
never locked for long and a run can stop anywhere. Scheduled by ``socialshop.purge_events``.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.utils import timezone

from socialshop.conf import app_settings
from socialshop.tracking.models import Event

logger = logging.getLogger(__name__)


def purge_old_events(*, batch_size: int = 5000, max_batches: int | None = None, pause: float = 0.0) -> int:
    """Delete events whose ``occurred_at`` is older than the retention age; returns how many.

    ``max_batches`` bounds one run (the next run continues); ``pause`` seconds between batches
    leave room for the collector's inserts on a busy database.
    """
    cutoff = timezone.now() - timedelta(days=int(app_settings.EVENT_RETENTION_DAYS))
    deleted = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        ids = list(Event.objects.filter(occurred_at__lt=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        Event.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        batches += 1
        if len(ids) < batch_size:
            break
        if pause:
            time.sleep(pause)
    if deleted:
        logger.info("deleted %d events older than %s", deleted, cutoff.isoformat())
    return deleted
