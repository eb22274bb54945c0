"""In headless Chromium: a shopper accepts consent, adds a product to the cart, is put in a cart audience,
then opens the privacy page, sees the audience and why ("You added ... to your cart"), opts out with the
button (no JavaScript needed) and sees the confirmation; a browser sending GPC is left out as before."""
from __future__ import annotations

import re
from typing import Any

import pytest

from socialshop.audiences.builder import build_audience
from socialshop.audiences.models import Audience, BuildStatus, RuleKind
from socialshop.campaigns.models import Suppression
from socialshop.privacy.models import ConsentRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def product(settings: Any) -> Any:
    from shop_demo.store.models import Product
    from shop_demo.store.seed import seed_store

    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "COLLECT_BUFFER_MS": 0}
    seed_store(products=4, customers=0)
    return Product.objects.filter(is_active=True, variants__stock__gt=2).first()


def _context(browser: Any, live_server: Any, **options: Any) -> tuple[Any, Any]:
    context = browser.new_context(base_url=live_server.url, **options)
    context.route(re.compile(r"^(?!" + re.escape(live_server.url) + ")"), lambda route: route.abort())
    return context, context.new_page()


def _add_to_cart(page: Any, product: Any) -> None:
    page.goto(product.get_absolute_url())
    page.click("[data-socialshop-accept]")
    page.wait_for_function("document.cookie.indexOf('ss_consent=') >= 0")
    page.click("[data-add-button]")
    page.wait_for_url("**/cart/")


def _cart_audience() -> Audience:
    audience = Audience.objects.create(name="Still thinking about it", slug="still-thinking", kind=RuleKind.CART_ABANDONERS,
                                       params={"min_delay_minutes": 0, "max_delay_minutes": 600})
    assert build_audience(audience).status == BuildStatus.SUCCEEDED
    return audience


def test_a_shopper_sees_why_and_opts_out_with_the_button(browser: Any, live_server: Any, product: Any) -> None:
    context, page = _context(browser, live_server, java_script_enabled=True)
    try:
        _add_to_cart(page, product)
        audience = _cart_audience()
        assert audience.members.filter(left_at__isnull=True).count() == 1
        page.goto("/socialshop/privacy/")
        why = page.locator("[data-socialshop-why=audiences]").inner_text()
        assert "Still thinking about it" in why and f"You added {product.name}" in why and "to your cart on" in why
        visitor = next(c["value"] for c in context.cookies() if c["name"] == "ss_vid")
        page.click("text=Opt out of all retargeting")
        done = page.locator("[data-socialshop-optout-done]")
        done.wait_for()
        assert "You are opted out of all retargeting" in done.inner_text()
        assert "every 15 minutes" in re.sub(r"\s+", " ", done.inner_text())
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        assert cookies["ss_consent"] == "ad.dd.o1" and "ss_vid" not in cookies
        assert ConsentRecord.objects.get(visitor_id=visitor).opted_out
        assert Suppression.objects.filter(person=f"v:{visitor}", channel="email").exists()
        assert "opted out" in page.locator("[data-socialshop-why=opted-out]").inner_text()
    finally:
        context.close()


def test_the_opt_out_works_without_javascript(browser: Any, live_server: Any, product: Any) -> None:
    context, page = _context(browser, live_server)
    try:
        _add_to_cart(page, product)
        visitor = next(c["value"] for c in context.cookies() if c["name"] == "ss_vid")
        _cart_audience()
        no_js = browser.new_context(base_url=live_server.url, java_script_enabled=False)
        no_js.add_cookies([{"name": c["name"], "value": c["value"], "url": live_server.url} for c in context.cookies()])
        plain = no_js.new_page()
        plain.goto("/socialshop/privacy/")
        assert "Still thinking about it" in plain.inner_text("[data-socialshop-why=audiences]")
        plain.click("text=Opt out of all retargeting")
        plain.locator("[data-socialshop-optout-done]").wait_for()
        assert ConsentRecord.objects.get(visitor_id=visitor).opted_out
        no_js.close()
    finally:
        context.close()


def test_a_browser_sending_gpc_is_left_out_of_audiences_as_before(browser: Any, live_server: Any, product: Any) -> None:
    context, page = _context(browser, live_server, extra_http_headers={"Sec-GPC": "1"})
    try:
        _add_to_cart(page, product)
        _cart_audience()
        page.goto("/socialshop/privacy/")
        state = re.sub(r"\s+", " ", page.inner_text("[data-socialshop-state]"))
        assert "sharing with ad platforms off" in state and "Global Privacy Control" in state
        assert "none of our audiences" in page.inner_text("[data-socialshop-why=no-audiences]")
    finally:
        context.close()
