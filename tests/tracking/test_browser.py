"""End to end in headless Chromium: walk the demo store (product, cart, checkout, pay) once with
consent accepted and once rejected; assert exactly which events and cookies exist."""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from socialshop.tracking.models import Event
from tests.conftest import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
# pixels.js belongs to the platforms engineer; a stand-in records what the tag shares with it.
# It keeps what it got in sessionStorage so that the list spans the pages of the walk.
PIXELS_STUB = """window.__pixels = {loaded: true, events: JSON.parse(sessionStorage.getItem("pixels") || "[]")};
window.socialshop.on("event", function (e) {
  window.__pixels.events.push(e.name + ":" + e.event_id);
  sessionStorage.setItem("pixels", JSON.stringify(window.__pixels.events));
});"""
STORE_COOKIES = {"sessionid", "csrftoken"}  # the store's own (cart, forms), not tracking
EXPECTED_NAMES = {"PageView": 5, "ViewContent": 1, "AddToCart": 1, "InitiateCheckout": 1, "Purchase": 1}


@pytest.fixture
def store(settings: Any) -> Any:
    from shop_demo.store.models import Product
    from shop_demo.store.seed import seed_store

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "COLLECT_BUFFER_MS": 0}
    seed_store(products=8, customers=1)
    return Product.objects.filter(is_active=True, variants__stock__gt=2).first()


def _page(browser: Any, live_server: Any) -> tuple[Any, Any]:
    context = browser.new_context(user_agent=UA, base_url=live_server.url)

    # Only what must be changed is intercepted: intercepted keepalive requests (the tag's beacons
    # on page hide) would be dropped at navigation, so the store's own requests go straight through.
    context.route("**/static/socialshop/pixels.js",
                  lambda route: route.fulfill(status=200, content_type="application/javascript", body=PIXELS_STUB))
    context.route(re.compile(r"^(?!" + re.escape(live_server.url) + ")"), lambda route: route.abort())
    page = context.new_page()
    return context, page


def _walk(page: Any, product: Any, choice: str) -> dict[str, Any]:
    """Product page -> consent choice -> add to cart -> checkout -> pay; returns observations."""
    page.goto(product.get_absolute_url())
    seen: dict[str, Any] = {"cookies_before_choice": {c["name"] for c in page.context.cookies()}}
    seen["pixels_before_choice"] = page.evaluate("!!window.__pixels")
    page.click(f"[data-socialshop-{choice}]")
    page.wait_for_selector("[data-socialshop-banner]", state="hidden")
    page.wait_for_function("document.cookie.indexOf('ss_consent=') >= 0")
    page.wait_for_timeout(300)
    page.click("[data-add-button]")
    page.wait_for_url("**/cart/")
    page.click("a.button[href='/checkout/']")
    page.wait_for_url("**/checkout/")
    for name, value in {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "phone": "+1 650 555 1212",
                        "address": "1 Main St", "city": "Austin", "postcode": "78701"}.items():
        page.fill(f"[name={name}]", value)
    page.click("form.form [type=submit]")
    page.wait_for_selector("button.pay")
    page.click("button.pay")
    page.wait_for_selector(".confirm")
    page.wait_for_timeout(1500)  # the tag's batch timer (1 s) sends the confirmation page's events
    seen["pixels"] = page.evaluate("window.__pixels || null")
    seen["consent"] = page.evaluate("window.socialshop.consent()")
    page.goto("/socialshop/privacy/")  # leaving the page flushes anything left (pagehide beacon)
    seen["cookies"] = {c["name"]: c["value"] for c in page.context.cookies()}
    return seen


def _events() -> list[Event]:
    return list(Event.objects.order_by("occurred_at", "id"))


def _wait_for_walk() -> None:
    try:
        wait_for(lambda: Counter(e.name for e in _events()) == EXPECTED_NAMES, timeout=15, what="the walk's events")
    except pytest.fail.Exception:
        found = [(e.name, e.source, e.url) for e in _events()]
        pytest.fail(f"expected {EXPECTED_NAMES}, stored {found}")


def test_walk_with_consent_accepted_records_identified_shareable_events(browser: Any, live_server: Any, store: Any) -> None:
    context, page = _page(browser, live_server)
    seen = _walk(page, store, "accept")
    _wait_for_walk()
    events = _events()
    cookies = seen["cookies"]
    context.close()

    assert not any(name.startswith("ss_") for name in seen["cookies_before_choice"])
    assert seen["pixels_before_choice"] is False  # never before consent
    assert set(cookies) == {"ss_consent", "ss_vid", "ss_sid"} | STORE_COOKIES
    assert cookies["ss_consent"] == "ag.dg.o0"
    assert seen["consent"]["ads"] is True and seen["consent"]["analytics"] is True
    assert {e.visitor_id for e in events} == {cookies["ss_vid"]}
    assert all(e.may_share and not e.gpc and e.ip and e.user_agent for e in events)
    purchase = next(e for e in events if e.name == "Purchase")
    assert purchase.source == "server" and purchase.order_id and len(purchase.user_data["em"]) == 64
    assert "ann@example.com" not in str(purchase.user_data)
    assert next(e for e in events if e.name == "AddToCart").source == "server"
    assert next(e for e in events if e.name == "ViewContent").content_ids
    shared = [entry.split(":")[0] for entry in seen["pixels"]["events"]]
    assert seen["pixels"]["loaded"] is True
    assert {"PageView", "ViewContent", "AddToCart", "InitiateCheckout", "Purchase"} <= set(shared)
    assert f"Purchase:{purchase.event_id}" in seen["pixels"]["events"]  # same id both sides: platform dedup


def test_walk_with_consent_rejected_records_only_anonymous_events(browser: Any, live_server: Any, store: Any) -> None:
    context, page = _page(browser, live_server)
    seen = _walk(page, store, "reject")
    _wait_for_walk()
    events = _events()
    cookies = seen["cookies"]
    context.close()

    assert set(cookies) == {"ss_consent"} | STORE_COOKIES
    assert cookies["ss_consent"] == "ad.dd.o0"
    assert seen["pixels"] is None  # the platforms' script never loaded
    assert seen["consent"]["ads"] is False and seen["consent"]["analytics"] is False
    for event in events:
        assert (event.visitor_id, event.session_id, event.ip, event.user_agent) == ("", "", "", "")
        assert event.user_id is None and event.user_data == {} and event.click_ids == {} and event.browser_ids == {}
        assert event.may_share is False
        assert "?" not in event.url
    assert next(e for e in events if e.name == "Purchase").order_id  # counted once per order, anonymously
