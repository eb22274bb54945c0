"""``socialshop.render_ads`` on a real Celery worker over Redis: enqueued by slug, the ads land in storage and
in the database; a duplicate delivery draws nothing new."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from socialshop.campaigns.models import Creative, CreativeRun
from socialshop.core.jobs import run_task
from socialshop.tasks import render_ads
from tests.campaigns.test_creatives_builder import campaign_with_members, files_of, product, viewed, viewer
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_renders_a_campaign_and_a_repeat_changes_nothing(celery_worker_process: Any, settings: Any) -> None:
    # The worker subprocess reads tests/settings.py's MEDIA_ROOT, not a per-test folder.
    settings.MEDIA_ROOT = str(Path(os.environ["SOCIALSHOP_TEST_TMP"]) / "media")
    campaign = campaign_with_members(variants=(("A", 1),))
    viewed(viewer(0), product("Worker shirt"))
    run_task(render_ads, campaign.slug)
    wait_for(lambda: CreativeRun.objects.filter(campaign=campaign, finished_at__isnull=False).exists(),
             what=f"a render run from the worker; log: {celery_worker_process.log()[-2000:]}", timeout=120)
    run = CreativeRun.objects.get(campaign=campaign)
    assert run.ok and run.rendered == 3, run.message
    first = files_of(campaign)
    assert len(first) == 3 and Creative.objects.filter(campaign=campaign).count() == 3
    run_task(render_ads, campaign.slug)  # a second delivery
    wait_for(lambda: CreativeRun.objects.filter(campaign=campaign, finished_at__isnull=False).count() == 2,
             what="the second run", timeout=120)
    second = CreativeRun.objects.filter(campaign=campaign).order_by("-started_at").first()
    assert (second.rendered, second.unchanged) == (0, 3) and files_of(campaign) == first
    assert "socialshop.render_ads" in celery_worker_process.log()
