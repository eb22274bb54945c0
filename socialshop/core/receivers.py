"""Celery task signals -> ``JobRun``: every run of a periodic job is recorded, whether Celery beat's
worker or ``socialshop_run_due`` ran it (core/periodic.py). Connected from ``SocialshopConfig.ready``.
"""
from __future__ import annotations

from typing import Any

from celery import signals, states

from socialshop.core.periodic import job_for_task, record_finished, record_started


def _periodic_job(task: Any, args: Any, kwargs: Any) -> Any:
    # Only the periodic form (no arguments, as beat sends it): `forward_events(platform="meta")` run
    # by hand is not the periodic job's run.
    if args or kwargs:
        return None
    return job_for_task(getattr(task, "name", "") or "")


def on_task_prerun(sender: Any = None, task: Any = None, args: Any = None, kwargs: Any = None, **extra: Any) -> None:
    """A periodic job's task starts: note its start."""
    job = _periodic_job(task or sender, args, kwargs)
    if job:
        record_started(job)


def on_task_postrun(sender: Any = None, task: Any = None, args: Any = None, kwargs: Any = None,
                    retval: Any = None, state: str | None = None, **extra: Any) -> None:
    """A periodic job's task ended: note the outcome."""
    job = _periodic_job(task or sender, args, kwargs)
    if job:
        ok = state == states.SUCCESS
        detail = repr(retval) if ok else f"{type(retval).__name__}: {retval}"
        record_finished(job, ok=ok, detail=detail)


def connect() -> None:
    """Connect the receivers (idempotent: each has a dispatch uid)."""
    signals.task_prerun.connect(on_task_prerun, weak=False, dispatch_uid="socialshop.core.periodic.prerun")
    signals.task_postrun.connect(on_task_postrun, weak=False, dispatch_uid="socialshop.core.periodic.postrun")
