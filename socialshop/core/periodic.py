"""Periodic jobs without Celery beat: run the due ones once (``socialshop_run_due``), record every
run (beat's or ours) in ``JobRun``, and say which jobs are late. The job list is ``PERIODIC_JOBS``
in core/jobs.py; the deploy check is in checks.py; Celery's task signals feed ``record_*`` (core/receivers.py).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from socialshop.core.jobs import PERIODIC_JOBS, PeriodicJob, single_flight
from socialshop.core.models import JobRun
from socialshop.exceptions import ConfigurationError, JobLocked

logger = logging.getLogger(__name__)

# A job is late when it has not succeeded for its interval plus one more interval, and at least this
# much more: one beat tick or cron minute may slip and a run may take a while without that being news.
MIN_GRACE_SECONDS = 120.0


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What ``run_due`` did with one job: ``status`` is "ran", "failed", "not due" or "running"."""

    job: str
    status: str
    detail: str
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class OverdueJob:
    """A periodic job that has not run successfully for longer than its interval (plus grace)."""

    job: PeriodicJob
    last_success: datetime | None
    reason: str

    @property
    def message(self) -> str:
        """One line for admin and the deploy check."""
        return f"periodic job {self.job.name!r} ({self.job.task}, every {_span(self.job.every)}) {self.reason}"


def job_for_task(task_name: str) -> PeriodicJob | None:
    """The periodic job that runs ``task_name``, or None for a task that is not periodic."""
    return next((job for job in PERIODIC_JOBS if job.task == task_name), None)


def record_started(job: PeriodicJob) -> None:
    """Note that a run of ``job`` starts now."""
    now = timezone.now()
    if not JobRun.objects.filter(name=job.name).update(started_at=now, updated_at=now):
        JobRun.objects.get_or_create(name=job.name, defaults={"started_at": now})


def record_finished(job: PeriodicJob, *, ok: bool, detail: str) -> None:
    """Note that the run of ``job`` ended now, and how."""
    now = timezone.now()
    fields: dict[str, Any] = {"finished_at": now, "ok": ok, "detail": detail[:500], "updated_at": now}
    if ok:
        fields["succeeded_at"] = now
    if not JobRun.objects.filter(name=job.name).update(**fields):
        JobRun.objects.get_or_create(name=job.name, defaults={"started_at": now, **fields})


def is_due(job: PeriodicJob, run: JobRun | None, *, now: datetime) -> bool:
    """True when ``job`` has never started or its last start is (about) one interval ago.

    Up to half the interval (at most 30 s) early counts as due: cron starts us once a minute and the
    jobs before this one take varying time, so a 60 s job must not slip to every other minute.
    """
    if run is None:
        return True
    early = min(job.every / 2, 30.0)
    return run.started_at <= now - timedelta(seconds=job.every - early)


def run_due(*, progress: Callable[[JobOutcome], None] | None = None) -> list[JobOutcome]:
    """Run once, in this process, each periodic job that is due; returns what happened to each.

    Each job is taken under its own single-flight lock and its due-ness is read again inside it, so
    two runs at once (or a run next to Celery beat) run each job once. Work a job hands on (a feed
    build from ``build_due_feeds``) goes where ``RUN_TASKS`` says. The tasks must be registered:
    callers import ``socialshop.tasks`` first.
    """
    from celery import current_app

    outcomes = []
    for job in PERIODIC_JOBS:
        task = current_app.tasks.get(job.task)
        if task is None:
            raise ConfigurationError(f"periodic job {job.name!r}: Celery task {job.task!r} is not registered")
        outcome = _run_if_due(job, task)
        outcomes.append(outcome)
        if progress:
            progress(outcome)
    return outcomes


def _run_if_due(job: PeriodicJob, task: Any) -> JobOutcome:
    try:
        with single_flight(f"socialshop.periodic:{job.name}"):
            run = JobRun.objects.filter(name=job.name).first()
            now = timezone.now()
            if not is_due(job, run, now=now):
                return JobOutcome(job.name, "not due", f"last started {_ago(run.started_at, now)}")  # type: ignore[union-attr]
            started = time.monotonic()
            result = task.apply(throw=False)  # Celery's task signals record the run (core/receivers.py)
            seconds = time.monotonic() - started
            if result.failed():
                exc = result.result
                return JobOutcome(job.name, "failed", f"{type(exc).__name__}: {exc}", seconds)
            return JobOutcome(job.name, "ran", _short(result.result), seconds)
    except JobLocked:
        return JobOutcome(job.name, "running", "already running in another process")


def recording_since() -> datetime | None:
    """When socialshop began recording job runs (its JobRun migration was applied), if known."""
    from django.db.migrations.recorder import MigrationRecorder

    row = (MigrationRecorder(connection).migration_qs.filter(app="socialshop", name__endswith="_jobrun")
           .order_by("applied").first())
    return row.applied if row else None


def overdue_jobs(*, now: datetime | None = None) -> list[OverdueJob]:
    """The periodic jobs that have not succeeded for longer than their interval (plus grace), in PERIODIC_JOBS order.

    A run that started within that window and is still going is not late. A job that has never
    run counts from when recording began, so a fresh install is not late before its first tick.
    """
    now = now or timezone.now()
    runs = {run.name: run for run in JobRun.objects.filter(name__in=[job.name for job in PERIODIC_JOBS])}
    since: datetime | None = None
    late = []
    for job in PERIODIC_JOBS:
        run = runs.get(job.name)
        limit = now - timedelta(seconds=job.every + max(job.every, MIN_GRACE_SECONDS))
        if run and run.succeeded_at and run.succeeded_at >= limit:
            continue
        if run and run.started_at >= limit and (run.finished_at is None or run.finished_at < run.started_at):
            continue  # running now
        if run is None or run.succeeded_at is None:
            since = since or recording_since()
            if since is None or since >= limit:
                continue  # too early to tell
        late.append(OverdueJob(job=job, last_success=run.succeeded_at if run else None, reason=_reason(run, now)))
    return late


def _reason(run: JobRun | None, now: datetime) -> str:
    if run is None:
        return "has never run: is Celery beat or cron (manage.py socialshop_run_due) running?"
    if run.finished_at and not run.ok:
        when = f"last succeeded {_ago(run.succeeded_at, now)}" if run.succeeded_at else "has never succeeded"
        return f"{when}; its last run failed {_ago(run.finished_at, now)}: {run.detail}"
    if run.succeeded_at is None:
        return f"has never finished a run (last started {_ago(run.started_at, now)})"
    return f"last ran {_ago(run.succeeded_at, now)}: is Celery beat or cron (manage.py socialshop_run_due) running?"


def _span(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 172800:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    return f"{_span(max((now - moment).total_seconds(), 0))} ago"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
