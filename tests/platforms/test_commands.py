"""socialshop_forward_events and socialshop_send_test_event against the fake server."""
from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from socialshop.platforms.models import PlatformStatus
from socialshop.tracking.models import Delivery, Event
from tests.fakes.platforms import FakePlatforms


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_forward_command_makes_deliveries_and_sends_them(fake: FakePlatforms, make_event: Callable[..., Event]) -> None:
    make_event()
    output = run("socialshop_forward_events", "--platform", "meta")
    assert "meta: 1 sent, 0 failed" in output
    assert output.strip().splitlines()[-1] == "forwarded 1 events to 1 platform(s)"
    assert Delivery.objects.get().status == "sent"


def test_forward_command_fails_when_credentials_are_refused(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    platforms = fake.settings("tiktok")
    platforms["tiktok"]["access_token"] = "revoked"
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": platforms}
    make_event()
    with pytest.raises(CommandError, match="credentials refused by tiktok"):
        run("socialshop_forward_events")


@pytest.mark.parametrize("slug", ["meta", "google", "pinterest", "tiktok"])
def test_send_test_event_prints_the_platforms_answer(slug: str, fake: FakePlatforms, settings: Any, db: None) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings(test_codes=True)}
    output = run("socialshop_send_test_event", slug)
    assert "HTTP 200" in output and f"{slug} accepted the test event" in output
    assert len(fake.test_events[slug]) == 1 and fake.received[slug] == []
    assert PlatformStatus.objects.get(slug=slug).test_event_at is not None


def test_send_test_event_without_test_code_names_the_key(fake: FakePlatforms, db: None) -> None:
    with pytest.raises(CommandError, match=r"SOCIALSHOP\['PLATFORMS'\]\['meta'\]\['test_event_code'\]"):
        run("socialshop_send_test_event", "meta")


def test_send_test_event_reports_the_platforms_refusal(fake: FakePlatforms, settings: Any, db: None) -> None:
    fake.fail("pinterest", 400, body={"code": 1, "message": "Invalid ad account id"})
    with pytest.raises(CommandError, match="Invalid ad account id"):
        run("socialshop_send_test_event", "pinterest")
    assert "Invalid ad account id" in PlatformStatus.objects.get(slug="pinterest").last_error


def test_tasks_make_deliveries_then_forward_them(fake: FakePlatforms, make_event: Callable[..., Event], settings: Any) -> None:
    from socialshop.core.jobs import BEAT_SCHEDULE
    from socialshop.tasks import create_deliveries, forward_events

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake.settings("meta", "tiktok")}
    make_event()
    assert create_deliveries.apply().get() == {"pending": {"meta": 1, "tiktok": 1}, "skipped": {"meta": 0, "tiktok": 0}}
    result = forward_events.apply(kwargs={"platform": "tiktok"}).get()
    assert result["tiktok"]["sent"] == 1
    tasks = {entry["task"] for entry in BEAT_SCHEDULE.values()}
    assert {"socialshop.create_deliveries", "socialshop.forward_events"} <= tasks
