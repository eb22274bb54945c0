"""Run inside a host project (cwd tests/hostproj): ask socialshop whether it sees the project's
Celery app, then press admin "Build now" and POST the API build, and print what happened as JSON.

``python probe.py`` uses DJANGO_SETTINGS_MODULE (proj.settings, plainproj.settings, shop_demo.settings).
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from socialshop.core.jobs import celery_app_configured, host_celery_app  # noqa: E402


def main() -> dict:
    """The facts the tests assert on."""
    facts: dict = {"configured": celery_app_configured(), "app": getattr(host_celery_app(), "main", None)}
    if "--detect-only" in sys.argv:
        return facts
    from socialshop.feeds.models import Feed, FeedBuild

    call_command("migrate", verbosity=0)
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    feed = Feed.objects.create(name="Google", slug="google", platform="google", file_format="xml", token="t")
    client = Client()
    client.force_login(admin)
    broker = Path(os.environ.get("HOSTPROJ_BROKER_DIR", "/tmp/hostproj-broker"))
    broker.mkdir(parents=True, exist_ok=True)  # the filesystem transport needs its folder

    started = time.monotonic()
    api = client.post(f"/socialshop/api/feeds/{feed.pk}/build/", {}, content_type="application/json")
    facts["api"] = {"status": api.status_code, "body": api.json(), "seconds": round(time.monotonic() - started, 3)}
    facts["builds_after_api"] = FeedBuild.objects.count()
    facts["queued_after_api"] = len(list(broker.glob("*.msg")))

    page = client.post("/admin/socialshop/feed/", {"action": "build_now", "_selected_action": [feed.pk]})
    facts["admin_status"] = page.status_code
    facts["builds_after_admin"] = FeedBuild.objects.count()
    facts["queued_after_admin"] = len(list(broker.glob("*.msg")))
    return facts


if __name__ == "__main__":
    print(json.dumps(main()))
