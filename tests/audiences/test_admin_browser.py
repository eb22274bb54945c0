"""The audience change page in headless Chromium at 1280 px: the size chart is drawn inside its column,
the member sample renders, and only the chosen rule kind's fields show (switching the kind switches them)."""
from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from socialshop.audiences.models import RuleKind
from tests.audiences.test_admin import built, make_audience
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_change_page_draws_the_chart_and_the_sample_and_shows_one_kinds_fields(browser: Any, live_server: Any) -> None:
    audience = built(make_audience(RuleKind.CART_ABANDONERS, params={"min_delay_minutes": 60, "max_delay_minutes": 600}), builds=6)
    admin = UserFactory(username="boss", is_staff=True, is_superuser=True)
    admin.set_password("pw-boss-123")
    admin.save()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(live_server.url + reverse("admin:login"))
        page.fill("#id_username", "boss")
        page.fill("#id_password", "pw-boss-123")
        page.click("input[type=submit]")
        page.goto(live_server.url + reverse("admin:socialshop_audience_change", args=[audience.pk]))

        chart = page.locator("figure.ss-chart svg").first
        chart.wait_for(state="visible")
        assert chart.locator("polyline").count() == 3  # size, added, removed
        box = chart.bounding_box()
        column = page.locator("#content-main").bounding_box()
        assert box and column and box["width"] > 300 and box["x"] + box["width"] <= column["x"] + column["width"] + 1
        rows = page.locator("table.ss-sample tbody tr")
        assert rows.count() == 2 and rows.first.is_visible()
        assert "…" in page.locator("table.ss-sample").inner_text()

        assert page.locator("#id_min_delay").is_visible() and not page.locator("#id_products").is_visible()
        page.select_option("#id_kind", RuleKind.VIEWERS)
        assert page.locator("#id_products").is_visible() and not page.locator("#id_min_delay").is_visible()
        page_width = page.evaluate("() => document.documentElement.scrollWidth")
        assert page_width <= 1280  # nothing forces a horizontal scroll at 1280 px
    finally:
        context.close()
