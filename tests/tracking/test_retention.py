"""Retention at a constant cost per row (socialshop/tracking/retention.py): batches with a moving lower
bound, deliveries deleted with their events, orphaned deliveries never sent, the command and admin."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from socialshop.core.jobs import single_flight
from socialshop.exceptions import ConfigurationError, JobLocked
from socialshop.tracking.forwarding import forward_events
from socialshop.tracking.models import Delivery, Event, Interest, PurgeRun
from socialshop.tracking.outbox import create_deliveries
from socialshop.tracking.retention import event_names, purge_old_events
from socialshop.tracking.store import store_events
from tests.factories import UserFactory
from tests.fakes.platforms import FakePlatforms
from tests.platforms.conftest import fake, fake_server, make_event  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def _history(count: int, *, age_days: float, prefix: str, name: str = "PageView") -> list[str]:
    """``count`` events ``age_days`` old, one second apart (distinct times); returns their event ids."""
    base = timezone.now() - timedelta(days=age_days)
    rows = [{"event_id": f"{prefix}{i}", "name": name, "occurred_at": base - timedelta(seconds=i),
             "received_at": base - timedelta(seconds=i)} for i in range(count)]
    store_events(rows)
    return [r["event_id"] for r in rows]


def test_purge_deletes_only_events_past_retention_of_every_name_in_bounded_batches(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EVENT_RETENTION_DAYS": 30}
    _history(25, age_days=31, prefix="old")
    _history(7, age_days=40, prefix="oldcart", name="AddToCart")
    keep = _history(5, age_days=29, prefix="new") + _history(3, age_days=1, prefix="newcart", name="AddToCart")
    first = purge_old_events(batch_size=10, max_batches=2)
    assert (first.deleted, first.batches, first.complete) == (17, 2, False)  # AddToCart (7), then 10 PageViews
    second = purge_old_events(batch_size=10)
    assert (second.deleted, second.complete) == (15, True)
    assert sorted(Event.objects.values_list("event_id", flat=True)) == sorted(keep)
    runs = list(PurgeRun.objects.order_by("started_at").values_list("deleted", "complete"))
    assert runs == [(17, False), (15, True)]


def test_each_batch_starts_after_the_previous_one_and_never_rescans_deleted_rows(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EVENT_RETENTION_DAYS": 30}
    _history(30, age_days=31, prefix="old")
    with CaptureQueriesContext(connection) as queries:
        result = purge_old_events(batch_size=10)
    assert result.deleted == 30 and result.batches == 4  # the last one finds the name's end
    lookups = [q["sql"] for q in queries.captured_queries if "SELECT occurred_at" in q["sql"]]
    assert len(lookups) == 4
    assert "occurred_at >" not in lookups[0]
    assert all("occurred_at >" in sql for sql in lookups[1:])  # a moving lower bound, not LIMIT over the dead rows


def test_purge_deletes_the_deliveries_of_purged_events_and_keeps_the_others(
    fake: FakePlatforms, make_event: Callable[..., Event], settings: Any,  # noqa: F811
) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EVENT_RETENTION_DAYS": 5}
    old = make_event(occurred_at=timezone.now() - timedelta(days=6), received_at=timezone.now() - timedelta(days=6))
    new = make_event()
    Delivery.objects.create(event=old, platform="meta", status="sent")
    create_deliveries()
    assert Delivery.objects.filter(event=new).count() == 4
    assert Delivery.objects.filter(event=old).count() == 4  # one sent, three skipped (outside the window)
    result = purge_old_events()
    assert (result.deleted, result.deliveries_deleted) == (1, 4)
    assert set(Delivery.objects.values_list("event_id", flat=True)) == {new.pk}
    assert not Event.objects.filter(pk=old.pk).exists()


def test_a_delivery_whose_event_is_gone_is_deleted_not_sent(
    fake: FakePlatforms, make_event: Callable[..., Event], settings: Any,  # noqa: F811
) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings("meta")}
    gone, kept = make_event(), make_event()
    create_deliveries()
    with connection.cursor() as cursor:  # retention raced the outbox: no database constraint stops this
        cursor.execute(f"DELETE FROM {Event._meta.db_table} WHERE id = %s", [gone.pk])
    result = forward_events()["meta"]
    assert result.sent == 1
    assert fake.event_ids("meta") == [kept.event_id]
    assert list(Delivery.objects.values_list("event_id", "status")) == [(kept.pk, "sent")]


def test_purge_drops_interest_rows_made_only_of_purged_events(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EVENT_RETENTION_DAYS": 30}
    now = timezone.now()
    Interest.objects.create(visitor_id="v1", product_id="p1", last_viewed_at=now - timedelta(days=40),
                            updated_at=now - timedelta(days=40))
    Interest.objects.create(visitor_id="v1", product_id="p2", last_viewed_at=now - timedelta(days=40),
                            last_carted_at=now - timedelta(days=2), updated_at=now - timedelta(days=2))
    assert purge_old_events().interest_deleted == 1
    assert list(Interest.objects.values_list("product_id", flat=True)) == ["p2"]


def test_purge_refuses_bad_arguments_and_a_second_run_at_once() -> None:
    with pytest.raises(ConfigurationError, match="days = 0"):
        purge_old_events(days=0)
    with pytest.raises(ConfigurationError, match="batch_size"):
        purge_old_events(batch_size=0)
    with single_flight("socialshop.purge_events"), pytest.raises(JobLocked):
        purge_old_events()


def test_event_names_lists_each_stored_name_once() -> None:
    _history(3, age_days=1, prefix="a", name="Search")
    _history(2, age_days=1, prefix="b", name="AddToCart")
    assert event_names() == ["AddToCart", "Search"]


def test_purge_command_prints_progress_and_a_summary_and_takes_days() -> None:
    _history(12, age_days=10, prefix="old")
    _history(2, age_days=1, prefix="new")
    out = StringIO()
    call_command("socialshop_purge_events", "--days", "5", "--batch-size", "5", "--every", "1", stdout=out)
    text = out.getvalue()
    assert "1 batches, 5 events deleted (now at PageView)" in text
    assert "deleted 12 events older than" in text and "in 3 batches" in text and ": done" in text
    assert Event.objects.count() == 2


def test_purge_command_fails_clearly_on_bad_input() -> None:
    with pytest.raises(CommandError, match="retention days = 0"):
        call_command("socialshop_purge_events", "--days", "0")
    with pytest.raises(CommandError, match="--max-batches = 0"):
        call_command("socialshop_purge_events", "--max-batches", "0")
    with single_flight("socialshop.purge_events"), pytest.raises(CommandError, match="another retention run"):
        call_command("socialshop_purge_events")


def test_purge_task_returns_how_many_it_deleted() -> None:
    from socialshop.tasks import purge_events

    _history(3, age_days=181, prefix="t")
    assert purge_events.apply().get() == 3


def test_events_admin_shows_the_last_retention_run() -> None:
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    assert "Retention: never run yet" in client.get("/admin/socialshop/event/").content.decode()
    _history(4, age_days=200, prefix="old")
    purge_old_events()
    page = client.get("/admin/socialshop/event/").content.decode()
    assert "4 events and 0 deliveries deleted" in page


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_collector_answers_while_a_large_purge_runs(settings: Any) -> None:
    """Small batches and short transactions: a collect request is served between purge batches."""
    import threading
    import time

    from tests.tracking.conftest import make_event as collect_event, post_events

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EVENT_RETENTION_DAYS": 30, "COLLECT_RATE_LIMIT_PER_MINUTE": 10 ** 6}
    base = timezone.now() - timedelta(days=40)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Event._meta.db_table} (event_id, name, occurred_at, received_at, source, visitor_id, session_id, "
            f"may_share, gpc, url, referrer, content_ids, contents, currency, order_id, search_string, post_id, tag_id, "
            f"click_ids, utm, browser_ids, user_data, user_agent, ip, properties, created_at, updated_at) "
            f"SELECT 'bulk' || g, 'PageView', %s - g * interval '1 second', %s, 'simulated', '', '', false, false, '', '', "
            f"'[]', '[]', '', '', '', '', '', '{{}}', '{{}}', '{{}}', '{{}}', '', '', '{{}}', %s, %s "
            f"FROM generate_series(1, 60000) g", [base, base, base, base])
    done = threading.Event()
    answered: list[float] = []

    def purge() -> None:
        try:
            purge_old_events(batch_size=2000)
        finally:
            connection.close()
            done.set()

    worker = threading.Thread(target=purge)
    worker.start()
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0")
    client.cookies["ss_consent"] = "ag.dg.o0"
    while not done.is_set():
        started = time.monotonic()
        response = post_events(client, [collect_event()])
        assert response.status_code == 200 and response.json()["accepted"] == 1
        answered.append(time.monotonic() - started)
    worker.join()
    assert answered and max(answered) < 2.0
    assert not Event.objects.filter(event_id__startswith="bulk").exists()


def test_a_run_waits_between_batches_at_least_as_long_as_the_last_batch_took(
    settings: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The purge backs off by itself on a busy database: a slow batch earns a longer wait than ``pause``;
    ``pause=0`` runs the batches back to back."""
    import threading
    import time

    from socialshop.tracking import retention

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EVENT_RETENTION_DAYS": 30}
    real_delete = retention._delete_slice

    def slow_delete(*args: Any) -> tuple[int, int]:
        until = time.monotonic() + 0.04  # a batch on a loaded database: 40 ms
        result = real_delete(*args)
        while time.monotonic() < until:
            pass
        return result

    waits: list[float] = []
    this_thread, real_sleep = threading.get_ident(), time.sleep

    def sleep(seconds: float) -> None:
        # ``time.sleep`` is the module's, shared by every thread: the collector's buffer thread, started by an
        # earlier test, keeps sleeping its interval (5 s) and must neither count here nor spin.
        if threading.get_ident() == this_thread:
            waits.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(retention, "_delete_slice", slow_delete)
    monkeypatch.setattr(retention.time, "sleep", sleep)
    _history(25, age_days=31, prefix="old")
    result = purge_old_events(batch_size=10, pause=0.01)
    assert result.deleted == 25 and result.batches == 3
    assert len(waits) == 2 and all(w >= 0.04 for w in waits)  # not the 0.01 s pause: the batch's own time
    _history(25, age_days=31, prefix="again")
    waits.clear()
    assert purge_old_events(batch_size=10, pause=0).deleted == 25
    assert waits == []
