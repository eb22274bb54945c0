"""Fixtures for tracking tests: a fresh rate limiter, a browser-like client, event builders."""
from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from socialshop.tracking.collector import rate_limiter

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"


@pytest.fixture(autouse=True)
def _fresh_rate_limiter() -> Iterator[None]:
    rate_limiter.reset()
    yield
    rate_limiter.reset()


def make_event(name: str = "PageView", **fields: Any) -> dict[str, Any]:
    """A valid EVENT dict with a new event_id, now as its time."""
    return {"event_id": uuid.uuid4().hex, "name": name, "time": time.time(), "url": "http://testserver/", **fields}


def post_events(client: Client, events: list[Any], **extra: Any) -> Any:
    """POST a collect body as sendBeacon does (text/plain)."""
    return client.post("/socialshop/collect/", json.dumps({"events": events}), content_type="text/plain", **extra)


@pytest.fixture
def shopper() -> Client:
    """A browser-like client that has not answered the consent banner."""
    return Client(HTTP_USER_AGENT=UA)


@pytest.fixture
def consented() -> Client:
    """A browser-like client that accepted analytics and ads."""
    client = Client(HTTP_USER_AGENT=UA)
    client.cookies["ss_consent"] = "ag.dg.o0"
    return client
