"""The overview and platform statuses in headless Chromium at 1280 and 390 px: every chart is drawn, fits
its column and the viewport, and a screenshot is taken (the overview's data comes from test_admin_overview)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from tests.test_admin_overview import _world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_admin_charts_are_drawn_and_fit_their_column(browser: Any, live_server: Any, width: int, tmp_path: Path) -> None:
    _world(2)
    get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(live_server.url + "/admin/login/")
        page.fill("#id_username", "boss")
        page.fill("#id_password", "pw")
        page.click("input[type=submit]")
        for path in ("/admin/socialshop/", "/admin/socialshop/platformstatus/", "/admin/socialshop/event/"):
            page.goto(live_server.url + path)
            charts = page.locator("figure.ss-chart")
            assert charts.count() >= 1, path
            for i in range(charts.count()):
                figure = charts.nth(i)
                svg = figure.locator("svg").bounding_box()
                column = figure.evaluate("f => f.parentElement.getBoundingClientRect().width")
                assert svg and svg["height"] > 80 and svg["width"] > 150, (path, svg)  # drawn
                assert svg["width"] <= column + 1 and svg["x"] + svg["width"] <= width + 1, (path, svg, column)
                if not figure.locator("text", has_text="no data yet").count():
                    assert figure.locator("circle, rect[height]").count() > 1, path  # marks, not an empty frame
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1, (path, "page scrolls sideways")
            shot = tmp_path / f"{path.strip('/').replace('/', '-')}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 5000
    finally:
        page.close()
