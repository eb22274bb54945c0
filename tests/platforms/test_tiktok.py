"""TikTok Events API payloads (socialshop/platforms/tiktok/events.py) as the fake server receives them."""
from __future__ import annotations

import hashlib
import time

import pytest

from socialshop.platforms import get_platform
from socialshop.platforms.http import PlatformAPIError
from tests.fakes.platforms import FakePlatforms
from tests.platforms.conftest import server_event


def test_tiktok_event_hashes_phone_in_e164_and_maps_purchase(fake: FakePlatforms) -> None:
    event = server_event()
    get_platform("tiktok").events.send_events([event])
    [sent] = fake.received["tiktok"]
    assert sent["event"] == "CompletePayment" and sent["event_id"] == event.event_id
    assert sent["user"]["phone"] == hashlib.sha256(b"+16505551212").hexdigest()  # TikTok: E.164 with '+'
    assert sent["user"]["ttclid"] == "E.C.P.abc" and sent["user"]["ttp"] == "ttp-cookie"
    assert sent["properties"]["contents"][0] == {"content_id": "SKU-1", "content_type": "product", "quantity": 2, "price": 10.0}


def test_tiktok_error_in_a_200_body_is_raised(fake: FakePlatforms) -> None:
    fake.fail("tiktok", 200, body={"code": 40002, "message": "Invalid param: event", "request_id": "x"})
    with pytest.raises(PlatformAPIError) as info:
        get_platform("tiktok").events.send_events([server_event()])
    assert not info.value.retryable and "Invalid param: event" in info.value.message


def test_tiktok_page_view_is_left_to_the_browser(fake: FakePlatforms) -> None:
    assert get_platform("tiktok").events.skip_reason(server_event(name="PageView"), now=time.time()).startswith("not mapped")
