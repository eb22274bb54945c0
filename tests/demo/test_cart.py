"""The add-to-cart endpoint (/cart/add/, SOCIALSHOP["CART_ADD_URL"]) and the cart page."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.utils.html import escape

from shop_demo.store.models import Product, Variant
from tests.demo.conftest import add

pytestmark = pytest.mark.django_db


def test_cart_add_url_is_the_one_socialshop_is_configured_with() -> None:
    assert settings.SOCIALSHOP["CART_ADD_URL"] == "/cart/add/"


def test_add_to_cart_answers_json_with_the_item_and_cart_count(client: Client, in_stock_variant: Variant) -> None:
    response = add(client, in_stock_variant.sku, 2)
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["cart_count"] == 2
    assert body["item"] == {
        "id": in_stock_variant.sku,
        "title": f"{in_stock_variant.product.name} ({in_stock_variant.label})",
        "price": f"{in_stock_variant.unit_price():.2f}",
        "currency": "USD",
        "quantity": 2,
    }
    body = add(client, in_stock_variant.sku).json()
    assert body["cart_count"] == 3 and body["item"]["quantity"] == 1


def test_add_to_cart_quantity_defaults_to_one(client: Client, in_stock_variant: Variant) -> None:
    response = client.post("/cart/add/", {"product_id": in_stock_variant.sku}, HTTP_ACCEPT="application/json")
    assert response.json()["cart_count"] == 1


def test_add_to_cart_accepts_a_product_id_for_a_product_without_variants(client: Client, simple_product: Product) -> None:
    body = add(client, str(simple_product.pk)).json()
    assert body["ok"] is True
    assert body["item"]["id"] == str(simple_product.pk)
    assert body["item"]["price"] == f"{simple_product.current_price():.2f}"


def test_add_to_cart_rejects_an_unknown_id(client: Client, small_store: dict) -> None:
    response = add(client, "NO-SUCH-SKU")
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": "unknown product id 'NO-SUCH-SKU'"}


def test_add_to_cart_rejects_a_missing_id(client: Client, small_store: dict) -> None:
    response = add(client, "")
    assert response.status_code == 400 and response.json()["ok"] is False


def test_add_to_cart_rejects_the_product_id_of_a_product_that_has_variants(client: Client, in_stock_variant: Variant) -> None:
    response = add(client, str(in_stock_variant.product_id))
    assert response.status_code == 400
    assert "unknown product id" in response.json()["error"]


def test_add_to_cart_rejects_an_inactive_product(client: Client, in_stock_variant: Variant) -> None:
    Product.objects.filter(pk=in_stock_variant.product_id).update(is_active=False)
    assert add(client, in_stock_variant.sku).status_code == 400


def test_add_to_cart_rejects_an_out_of_stock_variant(client: Client, sold_out_variant: Variant) -> None:
    response = add(client, sold_out_variant.sku)
    assert response.status_code == 400
    assert "out of stock" in response.json()["error"]


def test_add_to_cart_rejects_more_than_the_stock_counting_what_is_in_the_cart(client: Client, in_stock_variant: Variant) -> None:
    Variant.objects.filter(pk=in_stock_variant.pk).update(stock=3)
    assert add(client, in_stock_variant.sku, 2).status_code == 200
    response = add(client, in_stock_variant.sku, 2)
    assert response.status_code == 400
    assert "only 3" in response.json()["error"]
    assert client.session["cart"] == {in_stock_variant.sku: 2}


@pytest.mark.parametrize("quantity", ["0", "-1", "abc", "1.5", "100"])
def test_add_to_cart_rejects_a_bad_quantity(client: Client, in_stock_variant: Variant, quantity: str) -> None:
    response = add(client, in_stock_variant.sku, quantity)
    assert response.status_code == 400
    assert "quantity" in response.json()["error"]
    assert "cart" not in client.session or not client.session["cart"]


def test_add_to_cart_without_json_redirects_to_the_cart_with_a_message(client: Client, in_stock_variant: Variant) -> None:
    response = add(client, in_stock_variant.sku, json=False, follow=True)
    assert response.redirect_chain[-1][0] == "/cart/"
    assert escape(f"Added 1 x {in_stock_variant.product.name}") in response.content.decode()
    assert in_stock_variant.sku in response.content.decode()


def test_add_to_cart_error_without_json_returns_to_the_product_page(client: Client, sold_out_variant: Variant) -> None:
    url = sold_out_variant.product.get_absolute_url()
    response = add(client, sold_out_variant.sku, json=False, next=url, follow=True)
    assert response.redirect_chain[-1][0] == url
    assert "is out of stock" in response.content.decode()


def test_add_to_cart_ignores_an_offsite_next_url(client: Client, sold_out_variant: Variant) -> None:
    response = add(client, sold_out_variant.sku, json=False, next="//evil.example/")
    assert response["Location"] == "/cart/"


def test_add_to_cart_needs_csrf_and_accepts_the_header(in_stock_variant: Variant) -> None:
    client = Client(enforce_csrf_checks=True)
    assert add(client, in_stock_variant.sku).status_code == 403
    client.get(in_stock_variant.product.get_absolute_url())  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    response = add(client, in_stock_variant.sku, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200 and response.json()["ok"] is True
    response = add(client, in_stock_variant.sku, csrfmiddlewaretoken=token)
    assert response.status_code == 200 and response.json()["cart_count"] == 2


def test_add_to_cart_refuses_get(client: Client, small_store: dict) -> None:
    assert client.get("/cart/add/").status_code == 405


def test_cart_page_changes_quantity_and_removes_lines(client: Client, in_stock_variant: Variant) -> None:
    add(client, in_stock_variant.sku)
    client.post("/cart/update/", {"product_id": in_stock_variant.sku, "quantity": "3"})
    assert client.session["cart"] == {in_stock_variant.sku: 3}
    page = client.get("/cart/").content.decode()
    assert 'value="3"' in page
    client.post("/cart/update/", {"product_id": in_stock_variant.sku, "quantity": "1", "remove": "1"})
    assert client.session["cart"] == {}
    assert "Your cart is empty" in client.get("/cart/").content.decode()


def test_cart_update_to_zero_removes_the_line(client: Client, in_stock_variant: Variant) -> None:
    add(client, in_stock_variant.sku)
    client.post("/cart/update/", {"product_id": in_stock_variant.sku, "quantity": "0"})
    assert client.session["cart"] == {}


def test_cart_update_rejects_more_than_the_stock(client: Client, in_stock_variant: Variant) -> None:
    add(client, in_stock_variant.sku)
    response = client.post("/cart/update/", {"product_id": in_stock_variant.sku, "quantity": str(in_stock_variant.stock + 1)}, follow=True)
    assert client.session["cart"] == {in_stock_variant.sku: 1}
    assert "left in stock" in response.content.decode()


def test_header_shows_the_cart_count(client: Client, in_stock_variant: Variant) -> None:
    add(client, in_stock_variant.sku, 2)
    assert 'data-cart-count>2<' in client.get("/").content.decode()
