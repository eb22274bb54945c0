"""Exactly once: two workers sending the same reminders at the same moment send each email once (the claim
row's unique constraint decides), on SQLite and on PostgreSQL; a run that died mid-send is never repeated."""
from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connection

from shop_demo.store.contacts import DemoContactAdapter
from socialshop.campaigns.email import send_cart_reminders
from socialshop.campaigns.models import EmailSend, EmailSendStatus, Touch
from socialshop.campaigns.targeting import refresh_campaign
from tests.campaigns.conftest import MIN, NOW
from tests.campaigns.test_email import customer, email_campaign


def _race(monkeypatch: pytest.MonkeyPatch, persons: int) -> tuple[list[Any], list[Exception]]:
    """Two runs that both read the same due persons (a barrier in the adapter), then claim and send at once."""
    campaign = email_campaign()
    for _ in range(persons):
        customer(campaign.audiences.get())
    refresh_campaign(campaign, now=NOW)
    barrier = threading.Barrier(2, timeout=30)
    original = DemoContactAdapter.contacts

    def contacts_in_step(self: Any, keys: Any) -> Any:
        found = original(self, keys)
        barrier.wait()  # both workers have decided who is due before either claims
        return found

    monkeypatch.setattr(DemoContactAdapter, "contacts", contacts_in_step)
    results: list[Any] = []
    errors: list[Exception] = []

    def worker() -> None:
        try:
            results.append(send_cart_reminders(now=NOW))
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors


def _check_once(results: list[Any], errors: list[Exception], persons: int) -> None:
    assert not errors, errors
    assert sum(r.sent for r in results) == persons
    assert sum(r.skipped.get("in_progress", 0) for r in results) == persons  # the loser saw each claim taken
    assert len(mail.outbox) == persons and len({m.to[0] for m in mail.outbox}) == persons
    assert EmailSend.objects.filter(status=EmailSendStatus.SENT).count() == persons == Touch.objects.count()


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_reminder_once(monkeypatch: pytest.MonkeyPatch) -> None:
    results, errors = _race(monkeypatch, 5)
    _check_once(results, errors, 5)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_on_postgres_send_each_reminder_once(monkeypatch: pytest.MonkeyPatch) -> None:
    results, errors = _race(monkeypatch, 12)
    _check_once(results, errors, 12)


@pytest.mark.django_db
def test_an_email_claimed_by_a_run_that_died_is_never_sent_again() -> None:
    campaign = email_campaign()
    user, _ = customer(campaign.audiences.get())
    refresh_campaign(campaign, now=NOW)
    # A worker claimed the first reminder and was killed before it could record the outcome.
    EmailSend.objects.create(campaign=campaign, person=f"u:{user.pk}", number=1, claim="dead-worker", attempts=1)
    result = send_cart_reminders(now=NOW + 5 * MIN)
    assert result.sent == 0 and result.skipped == {"in_progress": 1} and mail.outbox == []
