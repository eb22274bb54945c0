"""Acme: server events, a browser tag and a product-updates capability on its own host.

Written as docs/adding-a-platform.md says, to check that recipe; facts here are Acme's (made up).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from socialshop.platforms.base import Capability, Platform
from socialshop.platforms.browser import BrowserTag
from socialshop.platforms.delivery import Queue
from socialshop.platforms.events import EventsCapability, SendResult, ServerEvent
from socialshop.platforms.http import ApiCall
from tests.acme.models import ProductUpdate


class AcmeEvents(EventsCapability):
    """Acme's conversions endpoint: POST /v1/events with a bearer token."""

    event_names: ClassVar[dict[str, str]] = {"ViewContent": "view", "AddToCart": "cart", "Purchase": "buy"}
    required_settings: ClassVar[tuple[str, ...]] = ("events_token",)
    batch_limit: ClassVar[int] = 50  # Acme: at most 50 items a request
    max_event_age: ClassVar[int] = 24 * 3600  # Acme: a day

    def send_events(self, events: Sequence[ServerEvent], *, test: bool = False) -> SendResult:
        body = {"data": [{"id": e.event_id, "name": self.event_names[e.name], "time": e.time} for e in events]}
        status, answer = self.call(ApiCall("POST", "/v1/events", headers={"Authorization": f"Bearer {self.setting('events_token')}"},
                                           body=body))
        return SendResult(self.slug, int(answer["accepted"]), answer, status)


class AcmeTag(BrowserTag):
    browser_event_names: ClassVar[dict[str, str]] = {"PageView": "page", "Purchase": "buy"}
    default_script_url: ClassVar[str] = "https://tag.acme.example/acme.js"
    browser_id_setting: ClassVar[str] = "tag_id"


class ProductUpdates(Capability):
    """A new capability kind: tell Acme which products changed. Opt-in, on its own host."""

    kind: ClassVar[str] = "product_updates"
    label: ClassVar[str] = "product updates"
    required_settings: ClassVar[tuple[str, ...]] = ("catalog_token",)
    opt_in: ClassVar[bool] = True
    default_api_base: ClassVar[str] = "https://catalog.acme.example"
    batch_limit: ClassVar[int] = 50

    def send_updates(self, product_ids: Sequence[str]) -> SendResult:
        status, answer = self.call(ApiCall("POST", "/catalog/v1/updates", body={"data": list(product_ids)},
                                           headers={"Authorization": f"Bearer {self.setting('catalog_token')}"}))
        return SendResult(self.slug, int(answer["accepted"]), answer, status)


class UpdateQueue(Queue):
    """Rows of ``ProductUpdate`` as records of the product-updates capability."""

    kind: ClassVar[str] = "product_updates"
    model: ClassVar[type[ProductUpdate]] = ProductUpdate

    def prepare(self, capability: Capability, rows: Sequence[Any], *, now: float) -> tuple[list[tuple[Any, Any]], dict[str, list[int]]]:
        return [(row, row.product_id) for row in rows], {}

    def key(self, record: str) -> str:
        return record

    def send(self, capability: Capability, records: list[Any]) -> SendResult:
        assert isinstance(capability, ProductUpdates)
        return capability.send_updates(records)


UPDATE_QUEUE = UpdateQueue()


class AcmePlatform(Platform):
    slug: ClassVar[str] = "acme"
    name: ClassVar[str] = "Acme"
    default_api_base: ClassVar[str] = "https://api.acme.example"
    capabilities: ClassVar[dict[str, type[Capability]]] = {
        "events": AcmeEvents, "browser_tag": AcmeTag, "product_updates": ProductUpdates,
    }
