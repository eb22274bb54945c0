"""Template tags and the tag script: config JSON, page events, escaping, caching."""
from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import Client, RequestFactory

from socialshop.tracking.views import tag_source
from tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def _render(source: str, request: object = None, **context: object) -> str:
    return Template("{% load socialshop %}" + source).render(Context({"request": request, **context}))


def _config(html: str) -> dict:
    match = re.search(r'<script id="socialshop-config" type="application/json">(.*?)</script>', html)
    assert match, html
    return json.loads(match.group(1))


def test_socialshop_tag_renders_config_then_versioned_async_script(settings: object) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {}}
    request = RequestFactory().get("/", HTTP_SEC_GPC="1")
    request.COOKIES["ss_consent"] = "ag.dg.o0"
    html = _render("{% socialshop_tag %}", request)
    config = _config(html)
    assert config["collect"] == "/socialshop/collect/"
    assert config["consent_required"] is True
    assert config["consent"] == {"analytics": True, "ads": False, "gpc": True, "opted_out": False, "decided": True}
    assert config["platforms"] == {} and config["pixels_src"] is None
    assert html.endswith(f'<script async src="/socialshop/tag.js?v={tag_source()[1]}"></script>')
    assert html.index("socialshop-config") < html.index("tag.js")


def test_socialshop_tag_passes_browser_config_and_pixels_src_when_platforms_are_set() -> None:
    from socialshop.platforms import browser_config

    config = _config(_render("{% socialshop_tag %}", RequestFactory().get("/")))
    assert config["platforms"] == json.loads(json.dumps(browser_config()))
    if config["platforms"]:
        assert config["pixels_src"].endswith("socialshop/pixels.js")


def test_view_content_event_takes_ids_and_price_from_catalog() -> None:
    product = ProductFactory(price=Decimal("30.00"))
    variants = [VariantFactory(product=product), VariantFactory(product=product)]
    html = _render('{% socialshop_event "ViewContent" product=p %}', p=product)
    spec = json.loads(re.search(r"data-socialshop-event>(.*)</script>", html).group(1))
    assert spec == {"name": "ViewContent", "data": {"content_ids": [v.sku for v in variants], "value": 30.0, "currency": "USD"}}


def test_event_tag_escapes_script_in_values() -> None:
    html = _render('{% socialshop_event "Search" search_string=q %}', q="</script><script>alert(1)</script>")
    assert "<script>alert" not in html
    assert html.count("</script>") == 1
    spec = json.loads(re.search(r"data-socialshop-event>(.*)</script>", html).group(1))
    assert spec["data"]["search_string"] == "</script><script>alert(1)</script>"


def test_event_tag_items_build_contents_and_value() -> None:
    html = _render('{% socialshop_event "InitiateCheckout" items=items %}',
                   items=[{"id": "A1", "quantity": 2, "item_price": Decimal("5.50")}, {"id": "B2", "quantity": 1, "item_price": 3}])
    data = json.loads(re.search(r"data-socialshop-event>(.*)</script>", html).group(1))["data"]
    assert data["contents"] == [{"id": "A1", "quantity": 2, "item_price": 5.5}, {"id": "B2", "quantity": 1, "item_price": 3.0}]
    assert data["content_ids"] == ["A1", "B2"] and data["value"] == 14.0 and data["currency"] == "USD"


def test_purchase_event_tag_uses_the_server_event_id() -> None:
    from socialshop.tracking.server import purchase_event_id

    html = _render('{% socialshop_event "Purchase" order_id="D1-ABC" value=10 currency="EUR" %}')
    data = json.loads(re.search(r"data-socialshop-event>(.*)</script>", html).group(1))["data"]
    assert data["event_id"] == purchase_event_id("D1-ABC") == "purchase-D1-ABC"


def test_consent_banner_shows_until_visitor_decides() -> None:
    undecided = RequestFactory().get("/p/x/")
    decided = RequestFactory().get("/")
    decided.COOKIES["ss_consent"] = "ad.dd.o0"
    assert "data-socialshop-banner" in _render("{% socialshop_consent_banner %}", undecided)
    assert 'value="/p/x/"' in _render("{% socialshop_consent_banner %}", undecided)
    assert _render("{% socialshop_consent_banner %}", decided) == ""


def test_tag_js_is_long_cacheable_only_at_its_current_version() -> None:
    client = Client()
    version = tag_source()[1]
    current = client.get(f"/socialshop/tag.js?v={version}")
    other = client.get("/socialshop/tag.js")
    assert current.status_code == 200 and current["Content-Type"].startswith("application/javascript")
    assert "immutable" in current["Cache-Control"] and "max-age=31536000" in current["Cache-Control"]
    assert "immutable" not in other["Cache-Control"]
    assert b"window" in current.content


def test_tag_js_is_small_when_gzipped() -> None:
    import gzip

    assert len(gzip.compress(tag_source()[0])) < 6 * 1024
