"""The audience tasks and their periodic jobs: ``socialshop_run_due`` (and beat) rebuild due audiences
every 5 minutes and sync every 15; a missing audience is an answer, not a crash."""
from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from socialshop.audiences.models import Audience, AudienceBuild, BuildStatus, Destination, RuleKind
from socialshop.core.jobs import BEAT_SCHEDULE, PERIODIC_JOBS
from socialshop.tasks import build_audience, build_due_audiences, sync_audiences
from socialshop.tracking.models import Event

pytestmark = pytest.mark.django_db


def _visit(visitor: str) -> None:
    now = timezone.now()
    Event.objects.create(event_id=f"t-{visitor}", name="PageView", visitor_id=visitor, occurred_at=now - timedelta(hours=1),
                         received_at=now, source="browser", may_share=True)


def _with_meta_uploads(settings: Any) -> None:
    platforms = settings.SOCIALSHOP["PLATFORMS"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {**platforms, "meta": {**platforms["meta"], "ad_account_id": "act_1"}}}


def test_the_audience_jobs_are_periodic_every_5_and_15_minutes() -> None:
    jobs = {job.task: job.every for job in PERIODIC_JOBS}
    assert jobs["socialshop.build_due_audiences"] == 300.0 and jobs["socialshop.sync_audiences"] == 900.0
    assert {"socialshop.build_due_audiences", "socialshop.sync_audiences"} <= {e["task"] for e in BEAT_SCHEDULE.values()}


def test_run_due_rebuilds_due_audiences_and_syncs_them(settings: Any) -> None:
    _with_meta_uploads(settings)
    _visit("v-1")
    due = Audience.objects.create(name="Visitors", slug="visitors", kind=RuleKind.VISITORS)
    fresh = Audience.objects.create(name="Fresh", slug="fresh", kind=RuleKind.VISITORS, last_built_at=timezone.now())
    off = Audience.objects.create(name="Off", slug="off", kind=RuleKind.VISITORS, enabled=False)
    out = StringIO()
    call_command("socialshop_run_due", stdout=out)
    lines = out.getvalue()
    assert "socialshop-build-audiences: ran" in lines and "socialshop-sync-audiences: ran" in lines
    assert AudienceBuild.objects.get(audience=due).status == BuildStatus.SUCCEEDED
    assert not AudienceBuild.objects.filter(audience__in=[fresh, off]).exists()
    due.refresh_from_db()
    assert due.size == 1
    # The sync ran for every enabled audience: too small for Meta, so recorded and not uploaded.
    assert Destination.objects.get(audience=due, platform="meta").state.endswith("not uploaded")
    assert not Destination.objects.filter(audience=off).exists()


def test_build_due_audiences_returns_the_slugs_it_started() -> None:
    Audience.objects.create(name="B", slug="b", kind=RuleKind.VISITORS)
    Audience.objects.create(name="A", slug="a", kind=RuleKind.VISITORS)
    assert build_due_audiences.apply().get() == ["a", "b"]
    assert build_due_audiences.apply().get() == []


def test_tasks_answer_for_a_missing_audience() -> None:
    assert build_audience.apply(args=["nope"]).get() == {"slug": "nope", "status": "missing"}
    assert sync_audiences.apply(args=[None, "nope"]).get() == {"status": "missing", "audience": "nope"}


def test_sync_task_for_one_audience_and_platform(settings: Any) -> None:
    _with_meta_uploads(settings)
    one = Audience.objects.create(name="One", slug="one", kind=RuleKind.VISITORS)
    Audience.objects.create(name="Two", slug="two", kind=RuleKind.VISITORS)
    result = sync_audiences.apply(kwargs={"platform": "meta", "audience": "one"}).get()
    assert result["status"] == "synced" and [r["platform"] for r in result["results"]] == ["meta"]
    assert list(Destination.objects.values_list("audience__slug", flat=True)) == [one.slug]
