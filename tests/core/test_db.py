"""``writing()``: a read-then-write transaction beside another process's write waits for it instead of
failing with "database is locked" on SQLite in its default (deferred) transaction mode, which is how a
new Django project and tests/settings.py open SQLite. CI's second pass runs the same on PostgreSQL."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from socialshop.core.db import writing
from socialshop.core.models import JobLock

HOLD_SECONDS = 0.6


def _hold_the_write_lock(holding: threading.Event, release: threading.Event) -> None:
    """Another writer (a worker, cron's run): writes a row and keeps its transaction open a while."""
    try:
        with transaction.atomic():
            JobLock.objects.create(name="other-writer", owner="t", expires_at=timezone.now() + timedelta(minutes=1))
            holding.set()
            release.wait(HOLD_SECONDS)
    finally:
        connections.close_all()


def _read_then_write(block) -> int:
    with block():
        seen = JobLock.objects.count()
        JobLock.objects.create(name=f"reader-{seen}", owner="r", expires_at=timezone.now() + timedelta(minutes=1))
    return seen


@pytest.mark.django_db(transaction=True)
def test_a_read_then_write_waits_for_another_writer_and_reads_what_it_wrote():
    holding, release = threading.Event(), threading.Event()
    other = threading.Thread(target=_hold_the_write_lock, args=(holding, release))
    other.start()
    try:
        assert holding.wait(10)
        seen = _read_then_write(writing)  # waits for the other transaction's commit
    finally:
        release.set()
        other.join(10)

    assert set(JobLock.objects.values_list("name", flat=True)) == {"other-writer", f"reader-{seen}"}
    if connection.vendor == "sqlite":  # it took the lock before reading, so it read the other's row
        assert seen == 1


@pytest.mark.django_db(transaction=True)
def test_without_it_sqlite_refuses_the_same_transaction_which_is_why_it_exists():
    reading, written = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def reader() -> None:  # reads first, then another process writes, then it writes
        try:
            with transaction.atomic():
                JobLock.objects.count()
                reading.set()
                written.wait(10)
                JobLock.objects.create(name="late-reader", owner="r", expires_at=timezone.now() + timedelta(minutes=1))
        except OperationalError as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=reader)
    thread.start()
    assert reading.wait(10)
    with transaction.atomic():  # the other writer: holds the write lock until the reader is done
        JobLock.objects.create(name="other-writer", owner="t", expires_at=timezone.now() + timedelta(minutes=1))
        written.set()
        thread.join(30)

    if connection.vendor == "sqlite":
        assert [str(exc) for exc in failures] == ["database is locked"]
        assert list(JobLock.objects.values_list("name", flat=True)) == ["other-writer"]
    else:  # PostgreSQL: row versions, no database-wide lock; both rows are written
        assert failures == []
        assert set(JobLock.objects.values_list("name", flat=True)) == {"other-writer", "late-reader"}


def test_inside_an_outer_transaction_it_is_a_savepoint_that_takes_no_lock_of_its_own(db):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        with writing():
            JobLock.objects.count()
    assert not [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert any("COUNT(*)" in q["sql"] for q in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_outermost_on_sqlite_it_opens_with_a_write_that_changes_nothing():
    with CaptureQueriesContext(connection) as queries, writing():
        JobLock.objects.count()
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert updates == ([f'UPDATE "{JobLock._meta.db_table}" SET name = name WHERE 1 = 0'] if connection.vendor == "sqlite" else [])
