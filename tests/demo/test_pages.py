"""Every storefront page renders with the seeded store, with the blocks other concerns hook into."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils.html import escape

from shop_demo.store.models import Category, Product, Variant
from tests.demo.conftest import add

pytestmark = pytest.mark.django_db


def test_home_lists_products_and_top_categories(client: Client, small_store: dict) -> None:
    page = client.get("/").content.decode()
    assert "New arrivals" in page
    for name in ("Women", "Men", "Accessories", "Home"):
        assert f">{name}</a>" in page
    assert page.count('class="card"') >= 8
    assert re.search(r'src="/media/products/[a-z0-9-]+-1\.jpg"', page)


def test_category_page_lists_products_of_its_subcategories(client: Client, small_store: dict) -> None:
    top = Category.objects.get(slug="women")
    page = client.get(top.get_absolute_url()).content.decode()
    for product in Product.objects.filter(category__parent=top, is_active=True):
        assert escape(product.name) in page
    assert client.get("/c/no-such-category/").status_code == 404


def test_category_page_sorts_by_price(client: Client, small_store: dict) -> None:
    top = Category.objects.get(slug="women")
    expected = [escape(p.name) for p in Product.objects.filter(category__parent=top, is_active=True).order_by("-price", "pk")]
    page = client.get("/c/women/?sort=-price").content.decode()
    positions = [page.index(f"<h3>{name}</h3>") for name in expected]
    assert len(expected) >= 2 and positions == sorted(positions)


def test_product_page_has_gallery_variant_picker_price_and_stock(client: Client, small_store: dict) -> None:
    product = Product.objects.filter(is_active=True, variants__isnull=False).distinct().first()
    page = client.get(product.get_absolute_url()).content.decode()
    assert f"<h1>{escape(product.name)}</h1>" in page
    assert 'id="gallery-main"' in page
    for variant in product.variants.all():
        assert f'value="{variant.sku}"' in page
    assert 'action="/cart/add/"' in page and 'name="quantity"' in page
    assert "In stock" in page or "left" in page or "Out of stock" in page


def test_product_page_shows_the_sale_price_and_the_regular_one(client: Client, small_store: dict) -> None:
    product = next(p for p in Product.objects.filter(is_active=True) if p.is_on_sale())
    page = client.get(product.get_absolute_url()).content.decode()
    assert f"${product.sale_price}" in page and f"<s>${product.price}</s>" in page


def test_sold_out_product_cannot_be_added(client: Client, small_store: dict) -> None:
    product = Product.objects.filter(is_active=True).first()
    Variant.objects.filter(product=product).update(stock=0)
    page = client.get(product.get_absolute_url()).content.decode()
    assert "Sold out" in page and "disabled" in page


def test_inactive_product_page_is_not_found(client: Client, small_store: dict) -> None:
    product = Product.objects.first()
    Product.objects.filter(pk=product.pk).update(is_active=False)
    assert client.get(product.get_absolute_url()).status_code == 404


def test_search_finds_by_name_and_brand_and_says_when_nothing_matches(client: Client, small_store: dict) -> None:
    product = Product.objects.filter(is_active=True).first()
    word = product.name.split()[-1]
    assert escape(product.name) in client.get("/search/", {"q": word}).content.decode()
    assert escape(product.name) in client.get("/search/", {"q": product.brand}).content.decode()
    assert "No products match" in client.get("/search/", {"q": "zzzqqq"}).content.decode()
    assert client.get("/search/").status_code == 200


def test_cart_checkout_and_confirmation_pages_render(client: Client, small_store: dict) -> None:
    variant = Variant.objects.filter(stock__gt=0, product__is_active=True).first()
    add(client, variant.sku)
    assert escape(variant.product.name) in client.get("/cart/").content.decode()
    page = client.get("/checkout/").content.decode()
    assert 'name="email"' in page and 'name="address"' in page and 'name="phone"' in page
    details = {"email": "a@example.com", "first_name": "A", "last_name": "B", "address": "1 Road",
               "city": "Town", "postcode": "12345", "country": "US"}
    order_url = client.post("/checkout/", details)["Location"]
    number = order_url.strip("/").split("/")[-1]
    client.post(f"/order/{number}/pay/")
    assert "Thank you, A!" in client.get(order_url).content.decode()


def test_account_pages(client: Client, small_store: dict) -> None:
    assert client.get("/account/").status_code == 302  # to the login page
    assert 'name="username"' in client.get("/account/login/").content.decode()
    assert 'name="password1"' in client.get("/account/signup/").content.decode()
    customer = get_user_model().objects.filter(is_staff=False).first()
    client.force_login(customer)
    page = client.get("/account/").content.decode()
    for order in customer.orders.all():
        assert order.number in page


def test_base_template_has_the_blocks_tracking_fills() -> None:
    from pathlib import Path

    base = (Path(__file__).resolve().parents[2] / "shop_demo/store/templates/store/base.html").read_text()
    head = base[: base.index("</head>")]
    assert "{% block head_extra %}{% endblock %}" in head
    assert "{% block page_events %}{% endblock %}" in base[base.index("<body"):]


def test_static_css_is_served_without_a_cdn(client: Client, small_store: dict) -> None:
    page = client.get("/").content.decode()
    assert "/static/store/store.css" in page
    assert not re.search(r'(src|href)="https?://', page)


def test_admin_lists_the_store_models_for_a_superuser(client: Client, small_store: dict) -> None:
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "admin")
    client.force_login(admin)
    assert "Demo store" in client.get("/admin/").content.decode()
    product = Product.objects.first()
    for url in ("/admin/store/product/", f"/admin/store/product/{product.pk}/change/", "/admin/store/order/",
                "/admin/store/category/"):
        assert client.get(url).status_code == 200, url
