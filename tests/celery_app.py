"""The Celery app a test worker subprocess runs (the project creates apps; socialshop never does)."""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

app = Celery("socialshop_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["socialshop", "tests.core"], related_name="worker_tasks", force=True)
app.autodiscover_tasks(["socialshop"], force=True)
