"""Draining the outbox (socialshop/tracking/forwarding.py) against the fake platform server, with faults."""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from socialshop.platforms.models import PlatformStatus
from socialshop.privacy.models import ConsentRecord
from socialshop.platforms.delivery import claim_batch
from socialshop.tracking.forwarding import EVENT_QUEUE, forward_events, retry_deliveries
from socialshop.tracking.models import Delivery, Event
from socialshop.tracking.outbox import create_deliveries
from tests.fakes.platforms import FakePlatforms


def only(settings: Any, fake: FakePlatforms, *slugs: str, **extra: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings(*slugs), **extra}


def queued(make_event: Callable[..., Event], n: int, **fields: Any) -> list[Event]:
    events = [make_event(**fields) for _ in range(n)]
    create_deliveries()
    return events


def status_counts() -> Counter:  # type: ignore[type-arg]
    return Counter(Delivery.objects.values_list("status", flat=True))


def test_drain_sends_every_pending_delivery_once(fake: FakePlatforms, make_event: Callable[..., Event]) -> None:
    events = queued(make_event, 5)
    results = forward_events()
    assert {slug: r.sent for slug, r in results.items()} == {"meta": 5, "google": 5, "pinterest": 5, "tiktok": 5}
    for slug in ("meta", "pinterest", "tiktok"):
        assert sorted(fake.event_ids(slug)) == sorted(e.event_id for e in events)
    assert status_counts() == {"sent": 20}
    assert forward_events()["meta"].sent == 0  # nothing is sent twice
    assert PlatformStatus.objects.get(slug="meta").last_success_at is not None


def test_429_with_retry_after_puts_deliveries_back_until_then(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    only(settings, fake, "meta")
    queued(make_event, 3)
    fake.fail("meta", 429, retry_after="120")
    result = forward_events()["meta"]
    assert result.sent == 0 and result.retried == 3 and result.stopped.startswith("retry later")
    rows = list(Delivery.objects.all())
    assert all(r.status == "pending" and r.attempts == 1 and r.error_status == 429 for r in rows)
    wait = rows[0].next_attempt_at - timezone.now()
    assert timedelta(seconds=110) < wait <= timedelta(seconds=120)
    assert forward_events()["meta"].sent == 0  # not due yet: no request made
    assert len(fake.requests) == 1
    Delivery.objects.update(next_attempt_at=timezone.now())
    assert forward_events()["meta"].sent == 3


def test_500_backs_off_exponentially_then_fails_after_max_attempts(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    only(settings, fake, "tiktok", FORWARD_MAX_ATTEMPTS=3, FORWARD_BACKOFF_SECONDS=10)
    queued(make_event, 1)
    delays = []
    for _ in range(3):
        fake.fail("tiktok", 500)
        Delivery.objects.filter(status="pending").update(next_attempt_at=None)
        before = timezone.now()
        forward_events()
        row = Delivery.objects.get()
        if row.status == "pending":
            delays.append((row.next_attempt_at - before).total_seconds())
    assert row.status == "failed" and row.attempts == 3 and row.error_status == 500
    assert 5 <= delays[0] <= 10.5 and 10 <= delays[1] <= 20.5  # base 10 s, doubled, equal jitter
    assert fake.received["tiktok"] == []


def test_401_stops_forwarding_keeps_deliveries_and_resumes_with_new_credentials(
    fake: FakePlatforms, make_event: Callable[..., Event], settings: Any,
) -> None:
    revoked = fake.settings("pinterest")
    revoked["pinterest"]["access_token"] = "revoked-token"
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": revoked}
    queued(make_event, 2)
    result = forward_events()["pinterest"]
    assert result.stopped.startswith("credentials refused")
    assert status_counts() == {"pending": 2}
    status = PlatformStatus.objects.get(slug="pinterest")
    assert status.halted_at and "Authentication failed" in status.last_error
    assert forward_events()["pinterest"].stopped.startswith("halted")
    assert len(fake.requests) == 1  # halted: the platform is not called again
    only(settings, fake, "pinterest")  # the shop owner puts in a valid token
    assert forward_events()["pinterest"].sent == 2
    assert PlatformStatus.objects.get(slug="pinterest").halted_at is None


def test_401_status_from_the_platform_halts_too(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    only(settings, fake, "meta")
    queued(make_event, 1)
    fake.fail("meta", 401)
    assert forward_events()["meta"].stopped.startswith("credentials refused")
    from socialshop.platforms.status import resume

    assert resume([PlatformStatus.objects.get(slug="meta", capability="events").pk]) == 1  # admin's resume action
    assert forward_events()["meta"].sent == 1


def test_400_with_an_error_body_fails_only_the_bad_event(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    only(settings, fake, "meta")
    good = queued(make_event, 3)
    bad = make_event(currency="")  # Meta refuses a value without a currency, and the whole batch with it
    create_deliveries()
    result = forward_events()["meta"]
    assert result.sent == 3 and result.failed == 1
    failed = Delivery.objects.get(status="failed")
    assert failed.event_id == bad.pk and "custom_data.value needs a number and a currency" in failed.reason
    assert failed.error_status == 400
    assert sorted(fake.event_ids("meta")) == sorted(e.event_id for e in good)


def test_platform_that_never_answers_is_retried_later(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings("meta", timeout=0.5)}
    queued(make_event, 2)
    fake.hang("meta", seconds=3)
    result = forward_events()["meta"]
    assert result.retried == 2
    row = Delivery.objects.first()
    assert row.status == "pending" and row.reason.startswith("no answer within")


def test_opt_out_while_pending_skips_the_delivery(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    only(settings, fake, "meta")
    [event] = queued(make_event, 1)
    ConsentRecord.objects.create(visitor_id=event.visitor_id, ads="granted", opted_out=True)
    forward_events()
    row = Delivery.objects.get()
    assert row.status == "skipped" and row.reason.startswith("opted out")
    assert fake.received["meta"] == []


def test_event_gone_stale_while_pending_is_skipped(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    only(settings, fake, "meta")
    [event] = queued(make_event, 1)
    Event.objects.filter(pk=event.pk).update(occurred_at=timezone.now() - timedelta(days=8))
    forward_events()
    row = Delivery.objects.get()
    assert row.status == "skipped" and row.reason.startswith("outside time window")


def test_claims_of_two_workers_are_disjoint(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    only(settings, fake, "meta")
    queued(make_event, 6)
    token_a, rows_a = claim_batch(EVENT_QUEUE, "meta", size=4, lease_seconds=300)
    token_b, rows_b = claim_batch(EVENT_QUEUE, "meta", size=4, lease_seconds=300)
    assert len(rows_a) == 4 and len(rows_b) == 2
    assert not {r.pk for r in rows_a} & {r.pk for r in rows_b}


def test_batch_abandoned_by_a_dead_worker_is_sent_once_after_the_lease(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    only(settings, fake, "meta", FORWARD_LEASE_SECONDS=60)
    events = queued(make_event, 3)
    claim_batch(EVENT_QUEUE, "meta", size=10, lease_seconds=60)  # a worker claims, then dies before sending
    assert forward_events()["meta"].sent == 0  # still leased
    Delivery.objects.update(claimed_at=timezone.now() - timedelta(seconds=61))
    assert forward_events()["meta"].sent == 3
    assert sorted(fake.event_ids("meta")) == sorted(e.event_id for e in events)


def test_retry_action_requeues_failed_deliveries(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    only(settings, fake, "meta")
    queued(make_event, 1)
    fake.fail("meta", 400, body={"error": {"message": "Invalid parameter", "code": 100}})
    forward_events()
    assert retry_deliveries(list(Delivery.objects.values_list("pk", flat=True))) == 1
    assert forward_events()["meta"].sent == 1


def _drain_in_thread(results: list, errors: list) -> None:  # type: ignore[type-arg]
    try:
        results.append(forward_events(platform="meta", claim_size=25)["meta"].sent)
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_at_once_send_each_event_once(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    only(settings, fake, "meta")
    events = queued(make_event, 200)
    results: list[int] = []
    errors: list[Exception] = []
    threads = [threading.Thread(target=_drain_in_thread, args=(results, errors)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(results) == 200
    ids = fake.event_ids("meta")
    assert len(ids) == 200 and set(ids) == {e.event_id for e in events}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_skip_locked_claims_keep_concurrent_drains_exclusive(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    test_two_workers_draining_at_once_send_each_event_once(fake, make_event, settings)
