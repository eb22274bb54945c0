"""A real Celery worker draining the outbox is killed mid-batch: nothing is lost, nothing is sent twice."""
from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from socialshop.core.jobs import run_task
from socialshop.tasks import forward_events as forward_events_task
from socialshop.tracking.forwarding import forward_events
from socialshop.tracking.models import Delivery, Event
from socialshop.tracking.outbox import create_deliveries
from tests.conftest import WorkerProcess, wait_for
from tests.fakes.platforms import FakePlatforms


@pytest.fixture
def api_base_env(fake_server: FakePlatforms, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker subprocess runs the demo settings; SOCIALSHOP_API_BASE points its platforms at the fake."""
    monkeypatch.setenv("SOCIALSHOP_API_BASE", fake_server.url)
    yield


@pytest.mark.worker
def test_worker_killed_mid_drain_loses_nothing_and_sends_nothing_twice(
    api_base_env: None, celery_worker_process: WorkerProcess, fake: FakePlatforms,
    make_event: Callable[..., Event], settings: Any,
) -> None:
    # Same credentials and test codes as the worker's demo settings, so both sides' sends land alike.
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings("meta", test_codes=True), "RUN_TASKS": "celery"}
    events = [make_event() for _ in range(30)]
    create_deliveries()
    fake.hang("meta", seconds=20)  # the worker's request never gets an answer
    run_task(forward_events_task, "meta")
    wait_for(lambda: fake.hanging == 1, what="the worker's request to reach the fake", timeout=60)
    assert Delivery.objects.filter(status="sending").count() == 30
    for pid in celery_worker_process.child_pids():
        os.kill(pid, signal.SIGKILL)  # the pool process dies mid-batch
    time.sleep(1.5)
    assert Delivery.objects.filter(status="sent").count() == 0
    # The next run (beat, a minute later) takes the batch over once its lease has expired.
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "FORWARD_LEASE_SECONDS": 1, "RUN_TASKS": "inline"}
    assert forward_events(platform="meta")["meta"].sent == 30
    sent = Counter(ev["event_id"] for ev in fake.test_events["meta"])
    assert set(sent) == {e.event_id for e in events} and set(sent.values()) == {1}
    assert Delivery.objects.filter(status="sent").count() == 30
