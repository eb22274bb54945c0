"""Fixtures for platform and forwarding tests: the fake platform server and event rows to forward."""
from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from socialshop.platforms.events import ServerEvent
from socialshop.privacy.hashing import hash_user_data
from socialshop.tracking.models import Event
from tests.fakes.platforms import FakePlatforms

_seq = itertools.count(1)


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakePlatforms]:
    server = FakePlatforms().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server: FakePlatforms, settings: Any) -> FakePlatforms:
    """The fake server, emptied, with every platform of SOCIALSHOP['PLATFORMS'] pointed at it."""
    fake_server.received.clear()
    fake_server.test_events.clear()
    fake_server.requests.clear()
    fake_server.faults.clear()
    fake_server.beacons.clear()
    fake_server.hanging = 0
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": fake_server.settings(), "FORWARD_BACKOFF_SECONDS": 30}
    return fake_server


def server_event(**overrides: Any) -> ServerEvent:
    """A Purchase with hashed user data, browser ids and a fresh event_id, as the forwarder builds them."""
    n = next(_seq)
    values: dict[str, Any] = {
        "event_id": f"ev-{n}-{time.monotonic_ns()}", "name": "Purchase", "time": int(time.time()) - 60,
        "url": "https://shop.example.com/checkout/done", "referrer": "https://shop.example.com/cart",
        "visitor_id": f"visitor-{n}", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (test)",
        "content_ids": ("SKU-1",), "contents": ({"id": "SKU-1", "quantity": 2, "item_price": "10.00"},),
        "value": "20.00", "currency": "USD", "order_id": f"order-{n}", "source": "server",
        "user_data": hash_user_data({"email": "Jane@Example.com", "phone": "+1 650 555 1212", "country": "US",
                                     "external_id": "cust-1"}),
        "click_ids": {"fbclid": "AbCdEf", "epik": "dj0yJnU9", "ttclid": "E.C.P.abc"},
        "browser_ids": {"fbp": "fb.1.1596403881668.1116446470", "ttp": "ttp-cookie", "ga": "123.456"},
    }
    values.update(overrides)
    from decimal import Decimal

    if isinstance(values["value"], str):
        values["value"] = Decimal(values["value"])
    return ServerEvent(**values)


@pytest.fixture
def make_event(db: None) -> Callable[..., Event]:
    """Store an Event row (shareable Purchase by default); keyword arguments override fields."""

    def make(**overrides: Any) -> Event:
        n = next(_seq)
        now = timezone.now()
        fields: dict[str, Any] = {
            "event_id": f"row-{n}-{time.monotonic_ns()}", "name": "Purchase", "occurred_at": now - timedelta(minutes=1),
            "received_at": now, "source": "server", "visitor_id": f"visitor-{n}", "may_share": True,
            "url": "https://shop.example.com/done", "content_ids": ["SKU-1"],
            "contents": [{"id": "SKU-1", "quantity": 1, "item_price": "10.00"}], "value": "10.00", "currency": "USD",
            "order_id": f"order-{n}", "user_agent": "Mozilla/5.0 (test)", "ip": "203.0.113.0",
            "user_data": hash_user_data({"email": f"buyer{n}@example.com"}),
            "browser_ids": {"ga": f"{n}.1"},
        }
        fields.update(overrides)
        return Event.objects.create(**fields)

    return make
