"""Background-job plumbing: Celery task defaults, a database single-flight lock, and dispatch.

Tasks themselves live in ``socialshop/tasks.py``; the periodic ones are ``PERIODIC_JOBS`` (beat runs
them from ``BEAT_SCHEDULE``; ``core/periodic.py`` runs the due ones without beat and records each run).
"""
from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class PeriodicJob:
    """One periodic job: its name (the beat entry), the task it runs with no arguments, and how often."""

    name: str
    task: str
    every: float  # seconds between runs


# Every periodic job, one line each (audiences, syncs and reminders join here). Celery beat runs
# them through BEAT_SCHEDULE; a store without beat runs `manage.py socialshop_run_due` from cron
# every minute (core/periodic.py). Either way each run is recorded in JobRun, which the deploy
# check and admin read to say when a job has not run for longer than its interval.
PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("socialshop-heartbeat", "socialshop.record_heartbeat", 300.0),
    PeriodicJob("socialshop-purge-events", "socialshop.purge_events", 3600.0),
    PeriodicJob("socialshop-update-interest", "socialshop.update_interest", 300.0),
    PeriodicJob("socialshop-create-deliveries", "socialshop.create_deliveries", 30.0),
    PeriodicJob("socialshop-forward-events", "socialshop.forward_events", 60.0),
    PeriodicJob("socialshop-build-feeds", "socialshop.build_due_feeds", 300.0),
    PeriodicJob("socialshop-build-audiences", "socialshop.build_due_audiences", 300.0),
    PeriodicJob("socialshop-sync-audiences", "socialshop.sync_audiences", 900.0),
    PeriodicJob("socialshop-refresh-campaigns", "socialshop.refresh_campaigns", 300.0),  # before the reminders
    PeriodicJob("socialshop-send-cart-reminders", "socialshop.send_cart_reminders", 300.0),
    PeriodicJob("socialshop-pull-campaign-reports", "socialshop.pull_campaign_reports", 3600.0),
)

# Periodic runs for Celery beat. A project merges it into its app's schedule:
#   app.conf.beat_schedule = {**socialshop.core.jobs.BEAT_SCHEDULE, **app.conf.beat_schedule}
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {job.name: {"task": job.task, "schedule": job.every} for job in PERIODIC_JOBS}


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


def _is_celery_fallback(app: Any) -> bool:
    """True for the app Celery makes by itself the first time ``current_app`` is used with no app.

    ``celery._state._get_current_app`` builds it as ``Celery("default", fixups=[],
    set_as_current=False)``. An app the project creates has its own main name, Celery's built-in
    fixups and ``set_as_current=True``; note that the Django fixup makes the project's app the
    default app (``_state.default_app``), so "is the default app" says nothing about who made it.
    """
    return app.main == "default" and not app.set_as_current and not app.fixups


def host_celery_app() -> Any | None:
    """The Celery app the host project created (``proj/celery.py``), or None when there is none."""
    from celery import _state

    apps = [app for app in list(_state._get_active_apps()) if not _is_celery_fallback(app)]
    if not apps:
        return None
    current = _state._tls.current_app or _state.default_app
    return current if current in apps else apps[0]


def celery_app_configured() -> bool:
    """True when the host project created a Celery app (not Celery's implicit fallback)."""
    return host_celery_app() is not None


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


def ran_in_process(result: Any) -> bool:
    """True when ``run_task`` ran the task here (its outcome is known), False when it was queued.

    Ask this instead of ``result.ready()``: a queued task's state needs a result backend, and a
    project that follows Celery's Django guide has none (``ready()`` then raises).
    """
    from celery.result import EagerResult

    return isinstance(result, EagerResult)


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
