"""socialshop sees the host project's Celery app (Celery's Django guide layout), and runs inline without one.

Each case runs in a subprocess: which Celery apps exist is process-wide state set at import time.
The host projects live in tests/hostproj/ (``proj``: the guide's layout; ``plainproj``: no Celery app).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOSTPROJ = ROOT / "tests" / "hostproj"

DETECT = """
import os, django
django.setup()
from socialshop.core.jobs import celery_app_configured, host_celery_app
before = celery_app_configured()
{then}
print(before, celery_app_configured(), getattr(host_celery_app(), "main", None))
"""


def run_in_host(settings: str, *args: str, code: str | None = None, tmp_path: Path) -> str:
    """Run tests/hostproj/probe.py (or ``code``) in a fresh interpreter under ``settings``; its last line."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings, "PYTHONPATH": str(ROOT),
           "HOSTPROJ_DB": str(tmp_path / "db.sqlite3"), "HOSTPROJ_BROKER_DIR": str(tmp_path / "broker"),
           "HOSTPROJ_MEDIA": str(tmp_path / "media")}
    env.pop("CELERY_BROKER_URL", None)
    command = [sys.executable, "-c", code] if code else [sys.executable, "probe.py", *args]
    out = subprocess.run(command, cwd=HOSTPROJ, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1]


def test_the_guides_project_app_is_detected_although_the_django_fixup_made_it_the_default(tmp_path: Path):
    line = run_in_host("proj.settings", code=DETECT.format(then="from celery import current_app; current_app.main"),
                       tmp_path=tmp_path)
    assert line == "True True proj"


def test_the_demo_stores_app_is_detected(tmp_path: Path):
    facts = json.loads(run_in_host("shop_demo.settings", "--detect-only", tmp_path=tmp_path))
    assert facts == {"configured": True, "app": "shop_demo"}


def test_a_project_without_a_celery_app_is_not_fooled_by_celerys_fallback_app(tmp_path: Path):
    # Using current_app makes Celery create its implicit "default" app; that is not the project's.
    then = "import socialshop.tasks; from celery import current_app; current_app.main"
    assert run_in_host("plainproj.settings", code=DETECT.format(then=then), tmp_path=tmp_path) == "False False None"


def test_a_project_that_creates_an_app_later_is_detected_then(tmp_path: Path):
    then = "from celery import Celery; app = Celery('host')"
    assert run_in_host("plainproj.settings", code=DETECT.format(then=then), tmp_path=tmp_path) == "False True host"


def test_the_guides_project_queues_api_and_admin_builds_and_answers_at_once(tmp_path: Path):
    facts = json.loads(run_in_host("proj.settings", tmp_path=tmp_path))

    assert facts["configured"] is True
    assert facts["api"]["status"] == 202
    assert facts["api"]["body"]["status"] == "queued"  # and no 500 although the guide's app has no result backend
    assert facts["builds_after_api"] == 0 and facts["queued_after_api"] == 1
    assert facts["admin_status"] == 302
    assert facts["builds_after_admin"] == 0 and facts["queued_after_admin"] == 2


def test_a_project_without_a_celery_app_builds_in_the_request(tmp_path: Path):
    facts = json.loads(run_in_host("plainproj.settings", tmp_path=tmp_path))

    assert facts["configured"] is False
    assert facts["api"]["status"] == 202 and facts["api"]["body"]["build"] == 1
    assert facts["builds_after_api"] == 1 and facts["queued_after_api"] == 0
    assert facts["builds_after_admin"] == 2 and facts["queued_after_admin"] == 0


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_auto_mode_with_a_real_worker_queues_the_api_and_admin_builds(celery_worker_process, admin_client, settings):
    from socialshop.feeds.models import BuildStatus
    from tests.conftest import wait_for
    from tests.feeds.conftest import make_feed, make_product

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "RUN_TASKS": "auto"}  # what a store runs with
    make_product()
    feed = make_feed()

    answer = admin_client.post(f"/socialshop/api/feeds/{feed.pk}/build/", {}, content_type="application/json")
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    wait_for(lambda: feed.builds.filter(status=BuildStatus.PUBLISHED).count() == 1, timeout=60, what="the worker's build")

    page = admin_client.post("/admin/socialshop/feed/", {"action": "build_now", "_selected_action": [feed.pk]})
    assert page.status_code == 302
    wait_for(lambda: feed.builds.count() == 2, timeout=60, what="the second build, from admin")
    assert celery_worker_process.log().count("socialshop.build_feed") >= 2


CHECKS = """
import django
django.setup()
from celery import Celery
from django.core.checks import run_checks
from django.test import override_settings
from django.conf import settings
{then}
with override_settings(SOCIALSHOP={{**settings.SOCIALSHOP, "RUN_TASKS": {mode!r}}}):
    print(sorted(m.id for m in run_checks() if m.id.startswith("socialshop.W10")))
"""


def test_checks_warn_when_work_would_go_to_a_celery_app_without_a_broker(tmp_path: Path):
    without_broker = "app = Celery('proj')  # not configured from Django settings"
    assert run_in_host("plainproj.settings", code=CHECKS.format(then=without_broker, mode="auto"), tmp_path=tmp_path) \
        == "['socialshop.W101']"
    assert run_in_host("plainproj.settings", code=CHECKS.format(then=without_broker, mode="inline"), tmp_path=tmp_path) \
        == "[]"
    assert run_in_host("proj.settings", code=CHECKS.format(then="", mode="auto"), tmp_path=tmp_path) == "[]"


def test_checks_warn_when_celery_mode_has_no_celery_app(tmp_path: Path):
    assert run_in_host("plainproj.settings", code=CHECKS.format(then="", mode="celery"), tmp_path=tmp_path) \
        == "['socialshop.W102']"
    assert run_in_host("plainproj.settings", code=CHECKS.format(then="", mode="auto"), tmp_path=tmp_path) == "[]"
