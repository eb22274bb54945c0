"""Worker liveness: a periodic task records when a worker last ran one (shown in admin)."""
from __future__ import annotations

import logging
import os
import socket

from django.utils import timezone

from socialshop.core.db import writing

logger = logging.getLogger(__name__)


def record_heartbeat(name: str = "worker") -> str:
    """Store that ``name`` is alive now; returns the detail string it stored."""
    from socialshop.core.models import Heartbeat

    detail = f"{socket.gethostname()} pid {os.getpid()}"
    with writing():  # update_or_create reads, then writes: take the write lock first (core/db.py)
        Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now(), "detail": detail})
    logger.info("socialshop heartbeat from %s (%s)", name, detail)
    return detail
