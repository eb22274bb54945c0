"""Background-job plumbing: Celery task defaults, a database single-flight lock, and dispatch.

Tasks themselves live in ``socialshop/tasks.py``; the beat schedule they run on is ``BEAT_SCHEDULE``.
"""
from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from socialshop.conf import app_settings
from socialshop.exceptions import ConfigurationError, JobLocked

logger = logging.getLogger(__name__)

# Options every socialshop task is declared with. acks_late + reject_on_worker_lost puts a task
# back on the queue when the worker process dies mid-run, so a killed worker loses no work; the
# tasks are written to be idempotent so that a second delivery is harmless.
TASK_DEFAULTS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}

# Periodic runs for Celery beat. A project merges it into its app's schedule:
#   app.conf.beat_schedule = {**socialshop.core.jobs.BEAT_SCHEDULE, **app.conf.beat_schedule}
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "socialshop-heartbeat": {"task": "socialshop.record_heartbeat", "schedule": 300.0},
    "socialshop-purge-events": {"task": "socialshop.purge_events", "schedule": 3600.0},
    "socialshop-update-interest": {"task": "socialshop.update_interest", "schedule": 300.0},
    "socialshop-create-deliveries": {"task": "socialshop.create_deliveries", "schedule": 30.0},
    "socialshop-forward-events": {"task": "socialshop.forward_events", "schedule": 60.0},
    "socialshop-build-feeds": {"task": "socialshop.build_due_feeds", "schedule": 300.0},
}


@contextmanager
def single_flight(name: str, *, seconds: int | None = None) -> Iterator[str]:
    """Hold the database lock ``name`` for the duration of the block.

    Yields the owner token. Raises ``JobLocked`` when another live run holds the lock. A lock
    whose holder died is taken over once it expires (``JOB_LOCK_SECONDS``).
    """
    from socialshop.core.models import JobLock

    ttl = seconds if seconds is not None else int(app_settings.JOB_LOCK_SECONDS)
    owner = secrets.token_hex(16)
    now = timezone.now()
    expires = now + timedelta(seconds=ttl)
    try:
        with transaction.atomic():
            JobLock.objects.create(name=name[:200], owner=owner, expires_at=expires)
    except IntegrityError:
        taken = JobLock.objects.filter(name=name[:200], expires_at__lt=now).update(
            owner=owner, expires_at=expires
        )
        if not taken:
            raise JobLocked(f"job {name!r} is already running") from None
    try:
        yield owner
    finally:
        JobLock.objects.filter(name=name[:200], owner=owner).delete()


def celery_app_configured() -> bool:
    """True when the host project created a Celery app (not Celery's implicit fallback)."""
    from celery import _state

    fallback = _state.default_app
    return any(app is not fallback for app in _state._get_active_apps())


def run_task(task: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a socialshop task the way ``RUN_TASKS`` says: enqueue it, or run it in this process.

    Returns the Celery ``AsyncResult`` (enqueued) or ``EagerResult`` (in process).
    """
    mode = app_settings.RUN_TASKS
    if mode == "celery" or (mode == "auto" and celery_app_configured()):
        return task.apply_async(args=args, kwargs=kwargs)
    if mode in ("inline", "auto"):
        return task.apply(args=args, kwargs=kwargs, throw=True)
    raise ConfigurationError(f"SOCIALSHOP['RUN_TASKS'] is {mode!r}; use 'auto', 'celery' or 'inline'")


@contextmanager
def bulk_work(gen0_threshold: int = 100_000) -> Iterator[None]:
    """Fewer garbage-collector passes while a job streams many short-lived records.

    A feed build or an event import allocates millions of tuples and dicts that live for one
    chunk; with the default threshold (700 allocations) the collector runs thousands of times
    per build, each pass also walking the chunk still in use: about a quarter of a build's time.
    Raising the young-generation threshold for the duration keeps collection on (cycles are still
    freed, memory stays bounded) but rarer; the previous thresholds are restored on exit.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], gen0_threshold), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
