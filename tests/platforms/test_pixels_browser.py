"""pixels.js in headless Chromium: platform tags load only after ads consent, from the configured hosts,
and carry our event_id; with consent rejected or GPC on, no platform host is contacted."""
from __future__ import annotations

from typing import Any

import pytest

from tests.factories import ProductFactory
from tests.fakes import pixel_scripts
from tests.fakes.platforms import FakePlatforms

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUR_EVENTS = """() => new Promise(resolve => {
  const seen = [];
  window.socialshop.on("event", e => seen.push([e.name, e.event_id]));
  setTimeout(() => resolve(seen), 0);
})"""


@pytest.fixture
def shop(fake: FakePlatforms, settings: Any, live_server: Any) -> dict[str, Any]:
    urls = pixel_scripts.install(fake)
    platforms = fake.settings()
    for slug, url in urls.items():
        platforms[slug]["script_url"] = url
    platforms["google"]["ads_conversions"] = {"Purchase": "AW-1234567/buy"}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": platforms}
    product = ProductFactory()
    return {"url": live_server.url + product.get_absolute_url(), "fake": fake}


@pytest.fixture
def browser_contexts() -> Any:
    """Contexts opened by a test, closed before the live server and the test database go away."""
    opened: list[Any] = []
    yield opened
    for ctx in opened:
        ctx.close()


def open_page(browser: Any, url: str, fake: FakePlatforms, opened: list[Any], **context: Any) -> tuple[Any, list[str]]:
    ctx = browser.new_context(**context)
    opened.append(ctx)
    page = ctx.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(url)
    page.wait_for_function("() => window.socialshop && window.socialshop.version")
    return page, requested


def pump_until(page: Any, predicate: Any, *, what: str, timeout: float = 15.0) -> None:
    """Wait in the browser's event loop (so Playwright delivers request events) until ``predicate()``."""
    waited = 0.0
    while not predicate():
        if waited > timeout:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        page.wait_for_timeout(100)
        waited += 0.1


def platform_requests(requested: list[str], fake: FakePlatforms) -> list[str]:
    return [u for u in requested if u.startswith(fake.url)]


def test_accepted_consent_loads_every_tag_from_its_host_with_our_event_ids(browser: Any, shop: dict[str, Any], browser_contexts: list[Any]) -> None:
    fake: FakePlatforms = shop["fake"]
    page, requested = open_page(browser, shop["url"], fake, browser_contexts)
    page.wait_for_timeout(300)
    assert platform_requests(requested, fake) == []  # nothing before consent
    page.evaluate("() => window.socialshop.setConsent({analytics: true, ads: true})")
    pump_until(page, lambda: len({b["platform"] for b in fake.beacons}) == 4, what="a beacon from each stand-in tag")
    scripts = " ".join(platform_requests(requested, fake))
    for path in ("/en_US/fbevents.js", "/ct/core.js", "/i18n/pixel/events.js?sdkid=", "/gtag/js?id=G-"):
        assert path in scripts
    ours = dict(page.evaluate(OUR_EVENTS))
    view, page_view = ours["ViewContent"], ours["PageView"]

    def got(platform: str, name: str) -> set[str]:
        return {b["eid"] for b in fake.beacons if b["platform"] == platform and b["ev"] == name}

    pump_until(page, lambda: view in got("google", "view_item"), what="GA4 view_item")
    assert view in got("meta", "ViewContent") and page_view in got("meta", "PageView")
    assert view in got("pinterest", "PageVisit") and page_view in got("pinterest", "page")
    assert view in got("tiktok", "ViewContent")
    # Consent Mode v2: 'default' (denied) comes before the Google tag's config, then an update grants.
    layer = page.evaluate("() => window.dataLayer.map(a => [a[0], a[1], a[2] && a[2].ad_storage])")
    first_consent = next(i for i, a in enumerate(layer) if a[0] == "consent")
    first_config = next(i for i, a in enumerate(layer) if a[0] == "config")
    assert layer[first_consent] == ["consent", "default", "denied"] and first_consent < first_config
    assert ["consent", "update", "granted"] in layer


def test_rejected_consent_contacts_no_platform_host(browser: Any, shop: dict[str, Any], browser_contexts: list[Any]) -> None:
    fake: FakePlatforms = shop["fake"]
    page, requested = open_page(browser, shop["url"], fake, browser_contexts)
    page.evaluate("() => window.socialshop.setConsent({analytics: false, ads: false})")
    page.wait_for_timeout(1500)
    assert platform_requests(requested, fake) == [] and fake.beacons == []
    assert page.evaluate("() => typeof window.fbq + typeof window.pintrk + typeof window.ttq") == "undefinedundefinedundefined"


def test_gpc_contacts_no_platform_host_even_after_accepting(browser: Any, shop: dict[str, Any], browser_contexts: list[Any]) -> None:
    fake: FakePlatforms = shop["fake"]
    page, requested = open_page(browser, shop["url"], fake, browser_contexts, extra_http_headers={"Sec-GPC": "1"})
    page.evaluate("() => window.socialshop.setConsent({analytics: true, ads: true})")
    page.wait_for_timeout(1500)
    assert platform_requests(requested, fake) == [] and fake.beacons == []
