"""Plumbing models: the database lock that makes a job single-flight across processes."""
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
