"""The consent banner and the customer-photo form keep each checkbox on its label's line under a host
stylesheet that sets ``input { width: 100% }`` (headless Chromium, bounding boxes)."""
from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
HOST_CSS = "input { width: 100%; display: block; box-sizing: border-box; } label { display: block; }"


def _on_one_line(page: Any, scope: str, checkbox: str) -> None:
    box = page.locator(f"{scope} {checkbox}").bounding_box()
    text = page.locator(f"{scope} label:has({checkbox}) span").bounding_box()
    assert box and text, checkbox
    middle = box["y"] + box["height"] / 2
    assert text["y"] <= middle <= text["y"] + text["height"], (checkbox, box, text)  # same line
    assert box["x"] + box["width"] <= text["x"] + 1, (checkbox, box, text)  # the box left of its words
    assert box["width"] < 40, (checkbox, box)  # not stretched to the line's width


@pytest.mark.parametrize("width", [1280, 390])
def test_consent_banner_checkboxes_sit_beside_their_labels_under_host_css(browser: Any, live_server: Any, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(live_server.url + "/")
        page.add_style_tag(content=HOST_CSS)
        page.click("[data-socialshop-banner] summary")
        for name in ("analytics", "ads"):
            _on_one_line(page, "[data-socialshop-banner]", f'input[name="{name}"]')
    finally:
        page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_photo_form_rights_checkbox_sits_beside_its_label_under_host_css(browser: Any, live_server: Any, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(live_server.url + "/socialshop/posts/photos/new/")
        page.add_style_tag(content=HOST_CSS)
        _on_one_line(page, ".ss-submit", 'input[type="checkbox"][name="rights"]')
    finally:
        page.close()
