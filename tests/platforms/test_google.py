"""GA4 Measurement Protocol payloads (socialshop/platforms/google/events.py) as the fake server receives them."""
from __future__ import annotations

import time

from socialshop.platforms import get_platform
from tests.fakes.platforms import FakePlatforms
from tests.platforms.conftest import server_event


def test_google_groups_requests_by_client_id_within_25_events(fake: FakePlatforms) -> None:
    platform = get_platform("google").events
    events = [server_event(browser_ids={"ga": "1.1"}) for _ in range(30)] + [server_event(browser_ids={"ga": "2.2"})]
    batches = platform.batches(events)
    assert [len(b) for b in batches] == [25, 5, 1]
    for batch in batches:
        platform.send_events(batch)
    assert [ev["client_id"] for ev in fake.received["google"]].count("1.1") == 30
    purchase = fake.received["google"][0]
    assert purchase["name"] == "purchase" and purchase["params"]["transaction_id"]


def test_google_skips_browser_events_that_gtag_already_sent(fake: FakePlatforms) -> None:
    reason = get_platform("google").events.skip_reason(server_event(source="browser"), now=time.time())
    assert reason.startswith("reported in the browser by gtag")


def test_google_falls_back_to_the_visitor_id_as_client_id(fake: FakePlatforms) -> None:
    get_platform("google").events.send_events([server_event(browser_ids={}, visitor_id="v-42")])
    assert fake.received["google"][0]["client_id"] == "v-42"
