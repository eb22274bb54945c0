"""docs/adding-a-platform.md, followed for a fake platform (tests/acme) with a new capability kind.

It checks the recipe's promises: one registry line adds the platform, `manage.py check` names a
capability's missing key, events go through the shared engine, the new capability has its own
host and queue, and a refused credential halts only the capability it belongs to.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from socialshop.exceptions import UnsupportedFeature
from socialshop.platforms import REGISTRY, browser_config, configured_platforms, get_platform
from socialshop.platforms.delivery import drain
from socialshop.platforms.models import PlatformStatus
from socialshop.tracking.forwarding import forward_events
from socialshop.tracking.models import Delivery, Event
from socialshop.tracking.outbox import create_deliveries
from tests.acme.models import ProductUpdate
from tests.acme.platform import UPDATE_QUEUE, AcmePlatform
from tests.acme.server import AcmeServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[AcmeServer]:
    """Acme registered (one line, as the recipe says) and configured against its stand-in server."""
    server = AcmeServer()
    monkeypatch.setitem(REGISTRY, "acme", AcmePlatform)
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"acme": {
        "api_base": server.url, "product_updates_api_base": server.url, "events_token": "acme-events-token",
        "catalog_token": "acme-catalog-token", "tag_id": "ACME-1",
    }}}
    yield server
    server.stop()


def deadline() -> float:
    return time.monotonic() + 30


def test_a_registered_platform_is_configured_checked_and_tagged(acme: AcmeServer) -> None:
    call_command("check")  # no error for the complete entry
    assert set(configured_platforms()) == {"acme"}
    assert set(configured_platforms("product_updates")) == {"acme"}
    assert browser_config()["acme"] == {"tag_id": "ACME-1", "script_url": "https://tag.acme.example/acme.js",
                                        "events": {"PageView": "page", "Purchase": "buy"}}
    with pytest.raises(UnsupportedFeature, match="Acme does not support audiences"):
        get_platform("acme").capability("audiences")


def test_check_names_the_missing_key_of_an_opted_in_capability(acme: AcmeServer, settings: Any) -> None:
    entry = {**settings.SOCIALSHOP["PLATFORMS"]["acme"], "catalog_token": ""}
    # Without its own key the opt-in capability is off, and nothing is missing.
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"acme": entry}}
    call_command("check")
    assert not get_platform("acme").is_active("product_updates")
    # A required key of an always-on capability is named with the capability that needs it.
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"acme": {**entry, "events_token": ""}}}
    with pytest.raises(SystemCheckError, match=r"\['acme'\]\['events_token'\] is missing .*Acme server events need it"):
        call_command("check")


def test_events_and_the_new_capability_go_out_through_the_shared_engine(acme: AcmeServer, make_event: Callable[..., Event]) -> None:
    events = [make_event(name="AddToCart") for _ in range(60)]
    create_deliveries()
    assert forward_events()["acme"].sent == 60
    assert sorted(r["id"] for r in acme.received["/v1/events"]) == sorted(e.event_id for e in events)
    ProductUpdate.objects.bulk_create([ProductUpdate(platform="acme", product_id=f"SKU-{n}") for n in range(120)])
    result = drain(get_platform("acme"), UPDATE_QUEUE, deadline=deadline())
    assert (result.sent, result.batches) == (120, 3)  # Acme's 50-item limit
    assert len(acme.received["/catalog/v1/updates"]) == 120
    assert set(ProductUpdate.objects.values_list("status", flat=True)) == {"sent"}


def test_a_refused_credential_halts_only_its_own_capability(acme: AcmeServer, make_event: Callable[..., Event], settings: Any) -> None:
    ProductUpdate.objects.bulk_create([ProductUpdate(platform="acme", product_id=f"SKU-{n}") for n in range(3)])
    acme.fail("/catalog/v1/updates", 401)
    updates = drain(get_platform("acme"), UPDATE_QUEUE, deadline=deadline())
    assert updates.stopped.startswith("credentials refused")
    assert set(ProductUpdate.objects.values_list("status", flat=True)) == {"pending"}  # nothing lost
    # Events of the same platform keep flowing while product updates are halted.
    make_event(name="Purchase")
    create_deliveries()
    assert forward_events()["acme"].sent == 1
    halted = dict(PlatformStatus.objects.filter(slug="acme").values_list("capability", "halted_at"))
    assert halted["product_updates"] is not None and halted["events"] is None
    # The halt holds while the same credentials are set, even once the server would answer...
    acme.heal()
    assert drain(get_platform("acme"), UPDATE_QUEUE, deadline=deadline()).stopped.startswith("halted")
    # ...and lifts when the capability's own credentials change.
    entry = settings.SOCIALSHOP["PLATFORMS"]["acme"]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {"acme": {**entry, "catalog_token": "acme-catalog-token-2"}}}
    assert drain(get_platform("acme"), UPDATE_QUEUE, deadline=deadline()).sent == 3
    assert Delivery.objects.get().status == "sent"


def test_a_bad_record_in_a_refused_batch_is_isolated(acme: AcmeServer) -> None:
    ProductUpdate.objects.bulk_create([ProductUpdate(platform="acme", product_id=f"SKU-{n}") for n in range(4)])
    original = UPDATE_QUEUE.send

    def refuse_sku_2(capability: Any, records: list[Any]) -> Any:
        if "SKU-2" in records:
            from socialshop.platforms.http import PlatformAPIError

            raise PlatformAPIError("Acme", "SKU-2 is not in the catalogue", status=400)
        return original(capability, records)

    UPDATE_QUEUE.send = refuse_sku_2  # type: ignore[method-assign]
    try:
        result = drain(get_platform("acme"), UPDATE_QUEUE, deadline=deadline())
    finally:
        UPDATE_QUEUE.send = original  # type: ignore[method-assign]
    assert (result.sent, result.failed) == (3, 1)
    failed = ProductUpdate.objects.get(status="failed")
    assert failed.product_id == "SKU-2" and "not in the catalogue" in failed.reason
