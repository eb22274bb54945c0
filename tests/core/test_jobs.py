"""Background jobs: single-flight locks, dispatch modes, and a real worker on Redis."""
from __future__ import annotations

import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from socialshop.core.jobs import run_task, single_flight
from socialshop.core.models import Heartbeat, JobLock
from socialshop.exceptions import ConfigurationError, JobLocked
from socialshop.tasks import record_heartbeat
from tests.conftest import wait_for


@pytest.mark.django_db
def test_single_flight_refuses_a_second_holder_and_releases_after():
    with single_flight("feeds:google"):
        with pytest.raises(JobLocked, match="feeds:google"):
            with single_flight("feeds:google"):
                pass
    assert not JobLock.objects.filter(name="feeds:google").exists()
    with single_flight("feeds:google"):
        assert JobLock.objects.filter(name="feeds:google").count() == 1


@pytest.mark.django_db
def test_single_flight_takes_over_a_lock_whose_holder_died():
    JobLock.objects.create(name="stale", owner="dead-worker", expires_at=timezone.now() - timedelta(seconds=1))
    with single_flight("stale") as owner:
        assert JobLock.objects.get(name="stale").owner == owner


@pytest.mark.django_db
def test_inline_mode_runs_the_task_in_process(settings):
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "RUN_TASKS": "inline"}
    result = run_task(record_heartbeat, "inline-test")
    assert "pid" in result.get()
    assert Heartbeat.objects.get(name="inline-test").detail.endswith(str(os.getpid()))


def test_unknown_run_mode_is_a_configuration_error(settings):
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "RUN_TASKS": "threads"}
    with pytest.raises(ConfigurationError, match="RUN_TASKS"):
        run_task(record_heartbeat)


@pytest.mark.worker
def test_a_real_worker_runs_the_heartbeat_task(celery_worker_process):
    run_task(record_heartbeat, "worker-test")
    beat = wait_for(lambda: Heartbeat.objects.filter(name="worker-test").first(), what="the heartbeat row")
    assert str(os.getpid()) not in beat.detail  # it ran in the worker, not here
    wait_for(lambda: "socialshop.record_heartbeat" in celery_worker_process.log() and "succeeded" in celery_worker_process.log(),
             what="the task in the worker log")


@pytest.mark.worker
def test_a_task_whose_worker_process_is_killed_is_run_again(celery_worker_process, tmp_path: Path):
    from tests.core.worker_tasks import slow_then_done

    run_task(slow_then_done, str(tmp_path))
    started = wait_for(lambda: (tmp_path / "started-1").exists() and (tmp_path / "started-1").read_text(), what="first attempt")
    os.kill(int(started), signal.SIGKILL)  # the pool process dies mid-task
    wait_for(lambda: (tmp_path / "done").exists(), timeout=60, what="the redelivered task to finish")
    assert (tmp_path / "done").read_text() == "2"
