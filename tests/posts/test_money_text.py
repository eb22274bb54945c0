"""Money and words a shopper or marketer reads: prices in the store's format on hotspot cards (sale price
where it applies) and in the admin product search, partner names as they write them, "1 day"."""
from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.test import Client

from socialshop.posts.gallery import search_products
from socialshop.posts.models import Post


def test_hotspot_cards_show_store_formatted_prices_and_the_sale_price(client: Client, make_post: Callable[..., Post],
                                                                      products: list) -> None:
    post = make_post([(products[0], 0.3, 0.3), (products[1], 0.6, 0.6)])
    html = client.get(f"/socialshop/posts/{post.slug}/").content.decode()
    assert "$40.00" in html and "40.00 USD" not in html
    assert '<del aria-label="was">$25.00</del> <ins aria-label="now">$19.00</ins>' in html


def test_admin_product_search_shows_the_formatted_price_with_the_sale(products: list) -> None:
    tote = next(r for r in search_products("Canvas") if r["title"] == "Canvas tote")
    assert tote["price_text"] == "$19.00 (was $25.00)"
    shirt = next(r for r in search_products("Linen") if r["title"] == "Linen shirt")
    assert shirt["price_text"] == "$40.00"


def test_privacy_page_names_partners_as_they_write_them(client: Client, settings: Any, db: None) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "EVENT_RETENTION_DAYS": 1,
                           "PLATFORMS": {"tiktok": {"pixel_code": "C1"}, "meta": {"pixel_id": "1"}}}
    html = client.get("/socialshop/privacy/").content.decode()
    assert "(Meta, TikTok)" in html and "tiktok" not in html.split("advertising partners")[1][:40]
    assert "<strong>1 day</strong>" in html


def test_simulate_says_over_1_day(products: list) -> None:
    out = StringIO()
    call_command("socialshop_simulate", "--visitors", "3", "--days", "1", "--seed", "1", stdout=out)
    assert "over 1 day:" in out.getvalue() and "3 visitors" in out.getvalue()
