"""Retention purge, simulated traffic, and the read-only events admin with its chart."""
from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from socialshop.privacy.models import ConsentRecord
from socialshop.tracking.models import Event
from socialshop.tracking.retention import purge_old_events
from socialshop.tracking.store import store_events
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def _rows(count: int, *, age_days: float, prefix: str) -> list[dict]:
    when = timezone.now() - timedelta(days=age_days)
    return [{"event_id": f"{prefix}{i}", "name": "PageView", "occurred_at": when - timedelta(seconds=i),
             "received_at": when} for i in range(count)]


def test_purge_deletes_only_events_past_retention_in_batches(settings: object) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EVENT_RETENTION_DAYS": 30}
    store_events(_rows(25, age_days=31, prefix="old"))
    store_events(_rows(5, age_days=29, prefix="new"))
    assert purge_old_events(batch_size=10, max_batches=2).deleted == 20
    assert purge_old_events(batch_size=10).deleted == 5
    assert sorted(Event.objects.values_list("event_id", flat=True)) == [f"new{i}" for i in range(5)]


def test_purge_task_runs_the_purge(settings: object) -> None:
    from socialshop.tasks import purge_events

    store_events(_rows(3, age_days=181, prefix="t"))
    assert purge_events.apply().get() == 3


def test_simulate_command_stores_a_funnel_with_consent_mix() -> None:
    for _ in range(5):
        ProductFactory()
    out = StringIO()
    call_command("socialshop_simulate", "--visitors", "400", "--days", "3", "--seed", "3", stdout=out)
    assert "400 visitors over 3 days" in out.getvalue()
    counts = {name: Event.objects.filter(name=name).count() for name in ("PageView", "ViewContent", "AddToCart", "Purchase")}
    assert counts["PageView"] > counts["ViewContent"] > counts["AddToCart"] > counts["Purchase"] > 0
    assert Event.objects.filter(visitor_id="").exists()  # visitors who rejected consent: anonymous
    assert Event.objects.filter(may_share=True).exclude(click_ids={}).exists()  # social click ids
    assert not Event.objects.filter(visitor_id="", may_share=True).exists()
    assert ConsentRecord.objects.count() == Event.objects.exclude(visitor_id="").values("visitor_id").distinct().count()
    assert set(Event.objects.values_list("source", flat=True)) == {"simulated"}


def test_simulate_command_fails_clearly_on_empty_catalog() -> None:
    with pytest.raises(CommandError, match="no products"):
        call_command("socialshop_simulate", "--visitors", "5", "--days", "1")


def test_event_admin_is_read_only_escapes_fields_and_shows_chart() -> None:
    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    now = timezone.now()
    store_events([{"event_id": "x1", "name": "Search", "occurred_at": now, "received_at": now,
                   "url": "http://testserver/<script>alert(1)</script>"}])
    client = Client()
    client.force_login(admin_user)
    page = client.get("/admin/socialshop/event/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert 'class="ss-chart"' in page and "Events per hour" in page
    assert client.get("/admin/socialshop/event/add/").status_code == 403
    assert client.get("/admin/socialshop/event/?name__exact=Search").status_code == 200
