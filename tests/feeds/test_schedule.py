"""Scheduled builds: which feeds are due, and the Celery tasks (inline here; a real worker below)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from socialshop.core.jobs import BEAT_SCHEDULE
from socialshop.feeds.models import BuildStatus, FeedBuild
from socialshop.feeds.schedule import due_feeds
from socialshop.tasks import build_due_feeds, build_feed
from tests.conftest import wait_for
from tests.feeds.conftest import make_feed, make_product

pytestmark = pytest.mark.django_db


def test_beat_runs_the_due_feeds_task():
    assert any(entry["task"] == "socialshop.build_due_feeds" for entry in BEAT_SCHEDULE.values())


def test_due_feeds_are_enabled_feeds_whose_interval_has_passed():
    never = make_feed("google", "xml", slug="never")
    recent = make_feed("meta", "csv", slug="recent", build_interval_minutes=60)
    stale = make_feed("pinterest", "tsv", slug="stale", build_interval_minutes=60)
    make_feed("tiktok", "csv", slug="off", enabled=False)
    now = timezone.now()
    FeedBuild.objects.create(feed=recent, started_at=now - timedelta(minutes=20), status=BuildStatus.PUBLISHED)
    FeedBuild.objects.create(feed=stale, started_at=now - timedelta(minutes=61), status=BuildStatus.PUBLISHED)

    assert due_feeds(now=now) == [never.slug, stale.slug]


def test_build_due_feeds_task_builds_each_due_feed(feed_storage_dir):
    make_product()
    feed = make_feed()

    slugs = build_due_feeds.apply().get()

    assert slugs == [feed.slug]
    assert feed.builds.get().status == BuildStatus.PUBLISHED
    assert build_due_feeds.apply().get() == []


def test_build_feed_task_reports_a_missing_feed_without_raising():
    assert build_feed.apply(args=["gone"]).get() == {"feed": "gone", "status": "missing"}


@pytest.mark.worker
def test_a_real_worker_builds_the_feed(celery_worker_process, feed_storage_dir, settings):
    from socialshop.core.jobs import run_task

    make_product()
    feed = make_feed()

    run_task(build_feed, feed.slug)

    wait_for(lambda: feed.builds.filter(status=BuildStatus.PUBLISHED).exists(), timeout=60, what="the worker's build")
