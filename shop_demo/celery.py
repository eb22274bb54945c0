"""The demo project's Celery app (socialshop never creates one; the project does)."""
from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop_demo.settings")

app = Celery("shop_demo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["socialshop"])
