"""Periodic jobs without beat: ``socialshop_run_due`` runs the due ones once, records every run, and
late jobs show in ``check --deploy`` (socialshop.W100) and admin."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from socialshop.core.jobs import BEAT_SCHEDULE, PERIODIC_JOBS, single_flight
from socialshop.core.models import JobRun
from socialshop.core.periodic import is_due, overdue_jobs, recording_since
from socialshop.tasks import build_due_feeds, forward_events
from tests.conftest import ROOT, subprocess_env

JOBS = [job.name for job in PERIODIC_JOBS]


def run_due_command() -> str:
    out = StringIO()
    call_command("socialshop_run_due", stdout=out)
    return out.getvalue()


def statuses(output: str) -> dict[str, str]:
    """job name -> the status word(s) its progress line shows."""
    found = {}
    for line in output.splitlines():
        name, _, rest = line.partition(": ")
        if name in JOBS:
            found[name] = rest.split(" (")[0].split(" in ")[0]
    return found


def test_every_periodic_job_is_in_the_beat_schedule():
    assert {name: entry["task"] for name, entry in BEAT_SCHEDULE.items()} == {j.name: j.task for j in PERIODIC_JOBS}
    assert {"socialshop.build_due_feeds", "socialshop.forward_events", "socialshop.purge_events"} <= {j.task for j in PERIODIC_JOBS}


def test_a_job_is_due_when_never_run_or_about_one_interval_after_its_last_start():
    job = next(j for j in PERIODIC_JOBS if j.every == 300.0)
    now = timezone.now()
    assert is_due(job, None, now=now)
    assert not is_due(job, JobRun(name=job.name, started_at=now - timedelta(seconds=200)), now=now)
    assert is_due(job, JobRun(name=job.name, started_at=now - timedelta(seconds=299)), now=now)  # cron's minute may slip


@pytest.mark.django_db
def test_run_due_runs_each_due_job_once_prints_progress_and_a_summary():
    first = run_due_command()

    assert statuses(first) == {name: "ran" for name in JOBS}
    assert first.strip().splitlines()[-1] == f"periodic jobs: {len(JOBS)} ran, 0 failed, 0 already running elsewhere, 0 not due"
    assert set(JobRun.objects.filter(ok=True, succeeded_at__isnull=False).values_list("name", flat=True)) == set(JOBS)

    second = run_due_command()
    assert statuses(second) == {name: "not due" for name in JOBS}
    assert "0 ran" in second.splitlines()[-1] and f"{len(JOBS)} not due" in second.splitlines()[-1]


@pytest.mark.django_db
def test_run_due_runs_only_the_jobs_whose_interval_has_passed():
    run_due_command()
    long_ago = timezone.now() - timedelta(hours=2)
    JobRun.objects.filter(name__in=["socialshop-forward-events", "socialshop-purge-events"]).update(started_at=long_ago)

    again = statuses(run_due_command())

    assert {name for name, status in again.items() if status == "ran"} == {"socialshop-forward-events", "socialshop-purge-events"}
    assert JobRun.objects.get(name="socialshop-forward-events").started_at > long_ago


@pytest.mark.django_db
def test_a_job_held_by_another_run_is_skipped_not_run_twice():
    with single_flight("socialshop.periodic:socialshop-build-feeds"):
        output = run_due_command()
    assert statuses(output)["socialshop-build-feeds"] == "running"
    assert "1 already running elsewhere" in output.splitlines()[-1]
    assert not JobRun.objects.filter(name="socialshop-build-feeds").exists()


@pytest.mark.django_db(transaction=True)
def test_two_commands_at_once_run_each_job_exactly_once():
    env = subprocess_env()
    command = [sys.executable, "-m", "django", "socialshop_run_due"]
    procs = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [(out[-3000:], err[-2000:]) for out, err in outputs]

    per_process = [statuses(out) for out, _ in outputs]
    for name in JOBS:
        seen = sorted(statuses_[name] for statuses_ in per_process)
        assert seen.count("ran") == 1, (name, seen)
        assert set(seen) <= {"ran", "not due", "running"}


@pytest.mark.django_db
def test_a_failing_job_is_reported_and_the_command_exits_non_zero(settings):
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EVENT_RETENTION_DAYS": "soon"}  # purge_events raises
    out = StringIO()
    with pytest.raises(CommandError, match="socialshop-purge-events"):
        call_command("socialshop_run_due", stdout=out)

    assert statuses(out.getvalue())["socialshop-purge-events"] == "failed"
    assert f"{len(JOBS) - 1} ran, 1 failed" in out.getvalue()
    run = JobRun.objects.get(name="socialshop-purge-events")
    assert not run.ok and run.succeeded_at is None and "ValueError" in run.detail


@pytest.mark.django_db
def test_a_periodic_task_run_by_beat_is_recorded_but_a_run_with_arguments_is_not():
    build_due_feeds.apply()
    forward_events.apply(kwargs={"platform": "meta"})

    assert list(JobRun.objects.values_list("name", "ok")) == [("socialshop-build-feeds", True)]


@pytest.mark.django_db
def test_overdue_jobs_names_the_late_ones_and_why():
    run_due_command()
    now = timezone.now()
    assert overdue_jobs(now=now) == []

    JobRun.objects.filter(name="socialshop-forward-events").update(
        started_at=now - timedelta(minutes=10), succeeded_at=now - timedelta(minutes=10))
    JobRun.objects.filter(name="socialshop-build-feeds").update(  # started 1 min ago, still running: not late
        started_at=now - timedelta(minutes=1), finished_at=now - timedelta(hours=1), succeeded_at=now - timedelta(hours=1))
    JobRun.objects.filter(name="socialshop-purge-events").update(
        started_at=now - timedelta(hours=3, seconds=1), finished_at=now - timedelta(hours=3), succeeded_at=now - timedelta(hours=5), ok=False, detail="ValueError: boom")

    late = {item.job.name: item.message for item in overdue_jobs(now=now)}

    assert set(late) == {"socialshop-forward-events", "socialshop-purge-events"}
    assert "every 60 s" in late["socialshop-forward-events"] and "last ran 10 min ago" in late["socialshop-forward-events"]
    assert "last run failed 3 h ago: ValueError: boom" in late["socialshop-purge-events"]


@pytest.mark.django_db
def test_jobs_that_never_ran_are_late_only_once_their_interval_has_passed_since_install():
    installed = recording_since()
    assert installed is not None
    assert overdue_jobs(now=installed + timedelta(seconds=61)) == []
    late = overdue_jobs(now=installed + timedelta(hours=3))
    assert {item.job.name for item in late} == set(JOBS)
    assert all("has never run" in item.message for item in late)


@pytest.mark.django_db
def test_deploy_check_warns_about_each_late_job_and_is_quiet_when_they_run():
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    # "Just installed" means now, however long the suite ran before this test.
    MigrationRecorder(connection).migration_qs.filter(app="socialshop", name__endswith="_jobrun").update(applied=timezone.now())
    late_ids = [m for m in run_checks(include_deployment_checks=True) if m.id == "socialshop.W100"]
    JobRun.objects.create(name="socialshop-forward-events", started_at=timezone.now() - timedelta(hours=1),
                          succeeded_at=timezone.now() - timedelta(hours=1))
    warnings = [m for m in run_checks(include_deployment_checks=True) if m.id == "socialshop.W100"]

    assert late_ids == []  # just installed: nothing is late yet
    assert len(warnings) == 1
    assert "socialshop-forward-events" in warnings[0].msg and "socialshop_run_due" in warnings[0].hint
    assert not [m for m in run_checks() if m.id == "socialshop.W100"]  # a deploy check only

    run_due_command()
    assert not [m for m in run_checks(include_deployment_checks=True) if m.id == "socialshop.W100"]


@pytest.mark.django_db
def test_admin_lists_show_a_note_for_late_jobs(admin_client):
    JobRun.objects.create(name="socialshop-build-feeds", started_at=timezone.now() - timedelta(hours=2),
                          succeeded_at=timezone.now() - timedelta(hours=2))

    page = admin_client.get(reverse("admin:socialshop_jobrun_changelist")).content.decode()
    assert "socialshop-build-feeds" in page and "last ran 2 h ago" in page and "socialshop_run_due" in page

    run_due_command()
    page = admin_client.get(reverse("admin:socialshop_heartbeat_changelist")).content.decode()
    assert "last ran" not in page


@pytest.mark.worker
def test_a_periodic_task_run_by_a_real_worker_is_recorded(celery_worker_process):
    from socialshop.core.jobs import run_task
    from socialshop.tasks import purge_events
    from tests.conftest import wait_for

    run_task(purge_events)

    run = wait_for(lambda: JobRun.objects.filter(name="socialshop-purge-events", succeeded_at__isnull=False).first(),
                   timeout=60, what=f"the worker's JobRun row; log: {celery_worker_process.log()[-1500:]}")
    assert run.ok and run.detail == "0"
    late = overdue_jobs(now=run.succeeded_at + timedelta(minutes=30))
    assert "socialshop-purge-events" not in {item.job.name for item in late}
