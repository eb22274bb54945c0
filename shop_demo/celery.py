"""The demo project's Celery app (socialshop never creates one; the project does).

Beat runs socialshop's periodic jobs (``socialshop.core.jobs.BEAT_SCHEDULE``) next to any of ours.
"""
from __future__ import annotations

import os

from celery import Celery

from socialshop.core.jobs import BEAT_SCHEDULE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_demo.settings")

app = Celery("shop_demo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.beat_schedule = {**BEAT_SCHEDULE}
app.autodiscover_tasks(["socialshop"])
