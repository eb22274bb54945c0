"""A real Celery worker draining the outbox is killed mid-batch, or its broker loses the queue: nothing is
lost, nothing is sent twice (the outbox state lives in the database, not in the broker)."""
from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from socialshop.core.jobs import run_task
from socialshop.tasks import forward_events as forward_events_task
from socialshop.tracking.forwarding import forward_events
from socialshop.tracking.models import Delivery, Event
from socialshop.tracking.outbox import create_deliveries
from tests.conftest import REDIS_URL, WorkerProcess, wait_for
from tests.fakes.platforms import FakePlatforms


@pytest.fixture
def api_base_env(fake_server: FakePlatforms, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker subprocess runs the demo settings; SOCIALSHOP_API_BASE points its platforms at the fake."""
    monkeypatch.setenv("SOCIALSHOP_API_BASE", fake_server.url)
    yield


def drain_killed_mid_batch(worker: WorkerProcess, fake: FakePlatforms, make_event: Callable[..., Event], settings: Any,
                           *, wipe_broker: bool) -> list[Event]:
    """Queue 30 deliveries, let the worker's request hang, then kill its pool process (and wipe the broker)."""
    # Same credentials and test codes as the worker's demo settings, so both sides' sends land alike.
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings("meta", test_codes=True), "RUN_TASKS": "celery"}
    events = [make_event() for _ in range(30)]
    create_deliveries()
    fake.hang("meta", seconds=20)  # the worker's request never gets an answer
    run_task(forward_events_task, "meta")
    wait_for(lambda: fake.hanging == 1, what="the worker's request to reach the fake", timeout=60)
    assert Delivery.objects.filter(status="sending").count() == 30
    if wipe_broker:
        redis.Redis.from_url(REDIS_URL).flushdb()  # the broker loses every message, the running task's too
    for pid in worker.child_pids():
        os.kill(pid, signal.SIGKILL)  # the pool process dies mid-batch
    time.sleep(1.5)
    assert Delivery.objects.filter(status="sent").count() == 0
    return events


def finish_and_check(fake: FakePlatforms, events: list[Event], settings: Any) -> None:
    """The next run (beat, a minute later) takes the batch over once its lease expired: each event once."""
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "FORWARD_LEASE_SECONDS": 1, "RUN_TASKS": "inline"}
    assert forward_events(platform="meta")["meta"].sent == 30
    sent = Counter(ev["event_id"] for ev in fake.test_events["meta"])
    assert set(sent) == {e.event_id for e in events} and set(sent.values()) == {1}
    assert Delivery.objects.filter(status="sent").count() == 30


@pytest.mark.worker
def test_worker_killed_mid_drain_loses_nothing_and_sends_nothing_twice(
    api_base_env: None, celery_worker_process: WorkerProcess, fake: FakePlatforms,
    make_event: Callable[..., Event], settings: Any,
) -> None:
    events = drain_killed_mid_batch(celery_worker_process, fake, make_event, settings, wipe_broker=False)
    finish_and_check(fake, events, settings)


@pytest.mark.worker
def test_broker_lost_mid_drain_loses_nothing_and_sends_nothing_twice(
    api_base_env: None, celery_worker_process: WorkerProcess, fake: FakePlatforms,
    make_event: Callable[..., Event], settings: Any,
) -> None:
    events = drain_killed_mid_batch(celery_worker_process, fake, make_event, settings, wipe_broker=True)
    finish_and_check(fake, events, settings)
