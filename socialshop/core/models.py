"""Plumbing models: the database lock that makes a job single-flight, heartbeats, periodic job runs."""
from __future__ import annotations

from django.db import models


class JobLock(models.Model):
    name = models.CharField(max_length=200, unique=True, help_text="Job name plus its arguments.")
    owner = models.CharField(max_length=64, help_text="Random token of the run that holds the lock.")
    expires_at = models.DateTimeField(help_text="After this moment another run may take the lock over.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "job lock"

    def __str__(self) -> str:
        return self.name


class Heartbeat(models.Model):
    name = models.CharField(max_length=100, unique=True, help_text="Which process reported, e.g. 'worker'.")
    seen_at = models.DateTimeField(help_text="When it last reported.")
    detail = models.CharField(max_length=200, blank=True, help_text="Host name and process id.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "heartbeat"

    def __str__(self) -> str:
        return f"{self.name} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class JobRun(models.Model):
    """The last run of one periodic job, whoever ran it (Celery beat's worker or ``socialshop_run_due``)."""

    name = models.CharField(max_length=100, unique=True, help_text="The periodic job, as named in PERIODIC_JOBS (core/jobs.py).")
    started_at = models.DateTimeField(help_text="When its last run started.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When its last run ended, whatever the outcome.")
    succeeded_at = models.DateTimeField(null=True, blank=True, help_text="When its last successful run ended.")
    ok = models.BooleanField(default=True, help_text="Whether the last run that ended succeeded.")
    detail = models.CharField(max_length=500, blank=True, help_text="What the last run returned, or its error.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "periodic job run"

    def __str__(self) -> str:
        return self.name
