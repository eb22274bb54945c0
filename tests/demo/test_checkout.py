"""Checkout, the demo pay button and order visibility (shop_demo/store/checkout.py through the views)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory

from shop_demo.store import checkout
from shop_demo.store.models import Order, Variant
from tests.demo.conftest import add

pytestmark = pytest.mark.django_db

DETAILS = {
    "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "phone": "+44 20 7946 0000",
    "address": "12 Analytical Row", "city": "London", "postcode": "N1 9GU", "country": "GB",
}


def _place(client: Client, variant: Variant, quantity: int = 2) -> Order:
    add(client, variant.sku, quantity)
    response = client.post("/checkout/", DETAILS)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Order.objects.get(email="ada@example.com")


def test_checkout_then_pay_marks_the_order_paid_and_takes_stock(client: Client, in_stock_variant: Variant) -> None:
    stock = in_stock_variant.stock
    order = _place(client, in_stock_variant, 2)
    assert order.status == Order.Status.PENDING
    assert order.total == in_stock_variant.unit_price() * 2
    assert order.currency == "USD" and order.country == "GB" and order.phone == DETAILS["phone"]
    line = order.lines.get()
    assert (line.catalog_id, line.quantity, line.variant_id) == (in_stock_variant.sku, 2, in_stock_variant.pk)
    assert client.session["cart"] == {}
    assert Variant.objects.get(pk=in_stock_variant.pk).stock == stock  # placing does not take stock yet

    pending = client.get(order.get_absolute_url()).content.decode()
    assert "Pay now (demo — no real payment)" in pending

    response = client.post(f"/order/{order.number}/pay/", follow=True)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.paid_at is not None
    assert Variant.objects.get(pk=in_stock_variant.pk).stock == stock - 2
    page = response.content.decode()
    assert "Thank you, Ada!" in page and order.number in page and "Pay now" not in page


def test_paying_twice_takes_stock_once(client: Client, in_stock_variant: Variant) -> None:
    stock = in_stock_variant.stock
    order = _place(client, in_stock_variant, 1)
    client.post(f"/order/{order.number}/pay/")
    client.post(f"/order/{order.number}/pay/")
    assert Variant.objects.get(pk=in_stock_variant.pk).stock == stock - 1


def test_mark_paid_refuses_when_stock_ran_out_after_ordering(client: Client, in_stock_variant: Variant) -> None:
    order = _place(client, in_stock_variant, 2)
    Variant.objects.filter(pk=in_stock_variant.pk).update(stock=1)
    with pytest.raises(checkout.CartError, match="sold out"):
        checkout.mark_paid(order)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert Variant.objects.get(pk=in_stock_variant.pk).stock == 1
    response = client.post(f"/order/{order.number}/pay/", follow=True)
    assert "sold out before your payment" in response.content.decode()


def test_checkout_shows_field_errors_for_missing_or_bad_details(client: Client, in_stock_variant: Variant) -> None:
    add(client, in_stock_variant.sku)
    response = client.post("/checkout/", {**DETAILS, "email": "not-an-email", "address": "", "phone": "12"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a valid email address." in page
    assert "This field is required." in page
    assert "at least 6 digits" in page
    assert not Order.objects.filter(email=DETAILS["email"]).exists()


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(client: Client, small_store: dict) -> None:
    response = client.get("/checkout/")
    assert response.status_code == 302 and response["Location"] == "/cart/"


def test_place_order_with_an_empty_cart_raises(small_store: dict) -> None:
    request = RequestFactory().post("/checkout/")
    request.session = Client().session
    with pytest.raises(checkout.CartError, match="empty"):
        checkout.place_order(request, DETAILS)


def test_checkout_refuses_when_stock_dropped_below_the_cart(client: Client, in_stock_variant: Variant) -> None:
    add(client, in_stock_variant.sku, 2)
    Variant.objects.filter(pk=in_stock_variant.pk).update(stock=1)
    response = client.post("/checkout/", DETAILS)
    assert response.status_code == 200
    assert "only 1 of" in response.content.decode().lower()
    assert not Order.objects.filter(email=DETAILS["email"]).exists()


def test_another_visitor_cannot_see_an_order(client: Client, in_stock_variant: Variant) -> None:
    order = _place(client, in_stock_variant, 1)
    stranger = Client()
    assert stranger.get(order.get_absolute_url()).status_code == 404
    assert stranger.post(f"/order/{order.number}/pay/").status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING


def test_logged_in_customer_gets_the_order_in_their_history(client: Client, in_stock_variant: Variant) -> None:
    user = get_user_model().objects.create_user("ada@example.com", "ada@example.com", "pw-12345678", first_name="Ada")
    client.force_login(user)
    order = _place(client, in_stock_variant, 1)
    assert order.user == user
    client.post(f"/order/{order.number}/pay/")
    page = client.get("/account/").content.decode()
    assert order.number in page and "Paid" in page
    fresh = Client()
    fresh.force_login(user)
    assert fresh.get(order.get_absolute_url()).status_code == 200  # another browser, same customer


def test_checkout_prefills_a_returning_customers_details(client: Client, small_store: dict) -> None:
    customer = get_user_model().objects.filter(is_staff=False, orders__isnull=False).first()
    client.force_login(customer)
    last = customer.orders.order_by("-created_at").first()
    variant = Variant.objects.filter(stock__gt=0, product__is_active=True).first()
    add(client, variant.sku)
    page = client.get("/checkout/").content.decode()
    assert customer.email in page and last.address in page


def test_product_without_variants_can_be_ordered_and_paid(client: Client, simple_product) -> None:  # type: ignore[no-untyped-def]
    add(client, str(simple_product.pk), 1)
    client.post("/checkout/", DETAILS)
    order = Order.objects.get(email=DETAILS["email"])
    line = order.lines.get()
    assert line.variant is None and line.catalog_id == str(simple_product.pk)
    assert checkout.mark_paid(order).status == Order.Status.PAID
    assert order.total == Decimal("20.00")
