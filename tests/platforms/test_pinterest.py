"""Pinterest Conversions API payloads (socialshop/platforms/pinterest.py) as the fake server receives them."""
from __future__ import annotations

import hashlib
import time

from socialshop.platforms import get_platform
from tests.fakes.platforms import FakePlatforms
from tests.platforms.conftest import server_event


def test_pinterest_event_uses_arrays_string_values_and_epik(fake: FakePlatforms) -> None:
    event = server_event()
    get_platform("pinterest").events.send_events([event])
    [sent] = fake.received["pinterest"]
    assert sent["event_name"] == "checkout" and sent["action_source"] == "web"
    assert sent["user_data"]["em"] == [hashlib.sha256(b"jane@example.com").hexdigest()]
    assert sent["user_data"]["click_id"] == "dj0yJnU9"
    assert sent["custom_data"]["value"] == "20.00"
    assert sent["custom_data"]["contents"][0]["item_price"] == "10.00"


def test_pinterest_needs_email_or_ip_and_user_agent(fake: FakePlatforms) -> None:
    platform = get_platform("pinterest").events
    bare = server_event(user_data={}, ip="")
    assert platform.skip_reason(bare, now=time.time()).startswith("no identifier")
    assert platform.skip_reason(server_event(user_data={}), now=time.time()) is None


def test_pinterest_rejected_rows_are_reported_per_event(fake: FakePlatforms) -> None:
    events = [server_event(), server_event()]
    fake.fail("pinterest", 200, body={
        "num_events_received": 2, "num_events_processed": 1,
        "events": [{"status": "processed"}, {"status": "failed", "error_message": "event_time too old"}],
    })
    result = get_platform("pinterest").events.send_events(events)
    assert result.sent == 1 and result.rejected == {events[1].event_id: "event_time too old"}
