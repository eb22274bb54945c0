"""The forwarding admin: set-up status, charts, last errors with the platform's message, retry and resume."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client

from socialshop.platforms.models import PlatformStatus
from socialshop.tracking.forwarding import forward_events
from socialshop.tracking.models import Delivery, Event
from socialshop.tracking.outbox import create_deliveries
from tests.fakes.platforms import FakePlatforms


def test_status_page_shows_setup_charts_and_the_platforms_error(
    fake: FakePlatforms, make_event: Callable[..., Event], admin_client: Client, settings: Any,
) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings("meta", "tiktok")}
    make_event()
    make_event(currency="")  # Meta refuses it with a 400 and a message
    create_deliveries()
    forward_events()
    page = admin_client.get("/admin/socialshop/platformstatus/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Meta: deliveries per day" in html and "TikTok: deliveries per day" in html and "<svg" in html
    assert "custom_data.value needs a number and a currency" in html
    assert set(PlatformStatus.objects.values_list("slug", flat=True)) == {"meta", "tiktok"}


def test_retry_action_requeues_failed_deliveries(fake: FakePlatforms, make_event: Callable[..., Event], admin_client: Client, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings("meta")}
    make_event()
    create_deliveries()
    fake.fail("meta", 400)
    forward_events()
    failed = Delivery.objects.get(status="failed")
    page = admin_client.post("/admin/socialshop/delivery/", {"action": "retry_failed", "_selected_action": [failed.pk]}, follow=True)
    assert "1 failed deliveries queued again" in page.content.decode()
    assert Delivery.objects.get().status == "pending"


def test_test_event_action_records_set_up_status(fake: FakePlatforms, admin_client: Client, settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings("pinterest")}
    admin_client.get("/admin/socialshop/platformstatus/")
    row = PlatformStatus.objects.get(slug="pinterest")
    admin_client.post("/admin/socialshop/platformstatus/", {"action": "send_test_events", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.test_event_at is not None and "num_events_received" in row.test_event_response
