"""Making outbox deliveries (socialshop/tracking/outbox.py): pending, or skipped with the reason."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from socialshop.privacy.models import ConsentRecord
from socialshop.tracking.models import Delivery, Event
from socialshop.tracking.forwarding import forward_events
from socialshop.tracking.outbox import create_deliveries
from tests.fakes.platforms import FakePlatforms


def statuses(event: Event) -> dict[str, tuple[str, str]]:
    return {d.platform: (d.status, d.reason) for d in event.deliveries.all()}


def test_shareable_event_gets_one_delivery_per_platform_even_when_run_twice(fake: FakePlatforms, make_event: Callable[..., Event]) -> None:
    event = make_event()
    first = create_deliveries()
    second = create_deliveries()
    assert first.pending == {"meta": 1, "google": 1, "pinterest": 1, "tiktok": 1}
    assert second.total == 0
    assert {p: s for p, (s, _) in statuses(event).items()} == {p: "pending" for p in ("meta", "google", "pinterest", "tiktok")}


def test_event_without_sharing_consent_gets_no_delivery(fake: FakePlatforms, make_event: Callable[..., Event]) -> None:
    make_event(may_share=False)
    create_deliveries()
    assert Delivery.objects.count() == 0


def test_gpc_event_is_skipped_with_the_reason(fake: FakePlatforms, make_event: Callable[..., Event]) -> None:
    event = make_event(gpc=True)
    create_deliveries()
    assert all(s == "skipped" and r.startswith("GPC") for s, r in statuses(event).values())


def test_stale_event_is_skipped_as_outside_the_time_window(fake: FakePlatforms, make_event: Callable[..., Event]) -> None:
    event = make_event(occurred_at=timezone.now() - timedelta(days=4))
    create_deliveries()
    got = statuses(event)
    assert got["google"][0] == "skipped" and got["google"][1].startswith("outside time window")  # GA4: 72 h
    assert got["meta"][0] == "pending"  # Meta: 7 days


def test_unmapped_event_is_skipped_as_not_mapped(fake: FakePlatforms, make_event: Callable[..., Event]) -> None:
    event = make_event(name="PostLike", order_id="")
    create_deliveries()
    assert all(s == "skipped" and r.startswith("not mapped") for s, r in statuses(event).values())


def test_opted_out_visitor_is_skipped(fake: FakePlatforms, make_event: Callable[..., Event]) -> None:
    event = make_event()
    ConsentRecord.objects.create(visitor_id=event.visitor_id, ads="granted", opted_out=True)
    create_deliveries()
    assert all(s == "skipped" and r.startswith("opted out") for s, r in statuses(event).values())


def test_simulated_traffic_is_never_sent(fake: FakePlatforms, make_event: Callable[..., Event]) -> None:
    event = make_event(source="simulated")
    create_deliveries()
    forward_events()
    assert statuses(event) == {}  # no outbox rows at all: a demo's 100,000 simulated events cost nothing
    assert all(event.event_id not in fake.event_ids(slug) for slug in ("meta", "google", "pinterest", "tiktok"))


def test_browser_or_pixel_purchase_gets_no_delivery(fake: FakePlatforms, make_event: Callable[..., Event]) -> None:
    browser, pixel = make_event(source="browser"), make_event(source="pixel")
    confirmed = make_event(source="server")
    create_deliveries()
    assert statuses(browser) == statuses(pixel) == {}
    assert len(statuses(confirmed)) == 4


def test_pending_delivery_of_an_unconfirmed_purchase_is_skipped_not_sent(fake: FakePlatforms,
                                                                        make_event: Callable[..., Event]) -> None:
    event = make_event(source="browser", value="1000000000.00")
    Delivery.objects.create(event=event, platform="meta")  # made before unconfirmed Purchases were excluded
    forward_events(platform="meta")
    assert statuses(event)["meta"][0] == "skipped" and statuses(event)["meta"][1].startswith("unconfirmed purchase")
    assert fake.event_ids("meta") == []
