"""Discount codes end to end through the demo store's adapter: issued once per person, readable and
unguessable, refused with the store's reason (used twice, expired, another store's, minimum order),
never below zero, free shipping, and the redemption counted back in socialshop."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.checks import run_checks
from django.test import Client
from django.utils import timezone

from shop_demo.store.discounts import check_code
from shop_demo.store.models import Order, Voucher
from socialshop.campaigns.incentives import (
    ALPHABET, CODE_RE, NO_ADAPTER, generate_code, incentive_message, issue_code, load_adapter, normalize_code,
)
from socialshop.campaigns.models import IncentiveKind, IssuedCode
from tests.campaigns.conftest import make_campaign, with_incentive
from tests.factories import VariantFactory

pytestmark = pytest.mark.django_db
DETAILS = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "address": "1 Row",
           "city": "London", "postcode": "N1", "country": "GB"}


def _issue(campaign, person: str = "v:ada") -> IssuedCode:  # type: ignore[no-untyped-def]
    issued = issue_code(campaign, person=person, variant=campaign.variants.first())
    assert issued is not None
    return issued


def _cart(client: Client, *, price: str = "20.00", quantity: int = 1) -> None:
    variant = VariantFactory(product__price=Decimal(price), stock=10)
    response = client.post("/cart/add/", {"product_id": variant.sku, "quantity": quantity}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content


def _order(client: Client, code: str) -> tuple[int, str]:
    """Apply ``code`` in the cart and check out: (status of the checkout POST, the message shown)."""
    client.post("/cart/code/", {"code": code})
    response = client.post("/checkout/", DETAILS, follow=True)
    text = response.content.decode()
    found = re.search(r"cannot be used: ([^<.;]+)", text)
    return response.status_code, found.group(1) if found else ""


def test_codes_are_readable_grouped_and_random() -> None:
    codes = {generate_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(CODE_RE.fullmatch(c) for c in codes)
    assert set("".join(codes).replace("-", "")) <= set(ALPHABET) and not set("01IO") & set("".join(codes))
    assert normalize_code(" k7qm 2zhx-pa9d ") == "K7QM-2ZHX-PA9D"


def test_a_code_is_issued_once_per_person_as_a_store_voucher() -> None:
    campaign = with_incentive(make_campaign(), amount="15", incentive_min_order=Decimal("30"), incentive_valid_days=3)
    first = _issue(campaign)
    assert _issue(campaign).code == first.code and IssuedCode.objects.count() == 1
    voucher = Voucher.objects.get(code=first.code)
    assert (voucher.kind, voucher.amount, voucher.min_order, voucher.campaign) == ("percent", Decimal("15"), Decimal("30"), campaign.slug)
    assert abs((voucher.expires_at - timezone.now()) - timedelta(days=3)) < timedelta(minutes=1)
    assert _issue(campaign, "v:bob").code != first.code


def test_no_code_without_incentive_for_the_holdout_or_without_an_adapter(settings) -> None:  # type: ignore[no-untyped-def]
    plain = make_campaign()
    assert issue_code(plain, person="v:a", variant=plain.variants.first()) is None
    campaign = with_incentive(make_campaign())
    assert issue_code(campaign, person="v:held-out", variant=None) is None
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "DISCOUNT_ADAPTER": ""}
    assert load_adapter() is None and incentive_message(campaign) == NO_ADAPTER
    assert issue_code(campaign, person="v:a", variant=campaign.variants.first()) is None


def test_a_wrong_adapter_path_fails_the_checks_naming_the_key(settings) -> None:  # type: ignore[no-untyped-def]
    for path in ("shop_demo.store.discounts.Nothing", "shop_demo.store.discounts.Totals"):
        settings.SOCIALSHOP = {**settings.SOCIALSHOP, "DISCOUNT_ADAPTER": path}
        errors = [e for e in run_checks() if e.id == "socialshop.E180"]
        assert len(errors) == 1 and "SOCIALSHOP['DISCOUNT_ADAPTER']" in errors[0].msg and path in errors[0].msg


def test_a_code_used_twice_is_refused_the_second_time(client: Client) -> None:
    code = _issue(with_incentive(make_campaign())).code
    _cart(client)
    status, reason = _order(client, code)
    assert status == 200 and reason == ""
    order = Order.objects.get()
    assert order.discount == Decimal("2.00") and order.total == Decimal("18.00") and order.discount_code == code
    _cart(client)
    client.post("/cart/code/", {"code": code})
    assert "already used" in client.get("/cart/").content.decode()
    assert check_code(code, subtotal=Decimal("20"), currency="USD")[0].reason == "already used"


def test_an_expired_code_is_refused(client: Client) -> None:
    code = _issue(with_incentive(make_campaign())).code
    Voucher.objects.filter(code=code).update(expires_at=timezone.now() - timedelta(seconds=1))
    _cart(client)
    response = client.post("/cart/code/", {"code": code}, follow=True)
    assert "cannot be used: expired" in response.content.decode()
    assert "discount_code" not in client.session


def test_a_code_from_another_campaigns_store_is_refused(client: Client) -> None:
    # Another store running socialshop issued this code: socialshop knows such codes, this store does not.
    campaign = with_incentive(make_campaign())
    foreign = IssuedCode.objects.create(campaign=campaign, person="v:elsewhere", code="ABCD-EFGH-JKLM",
                                        expires_at=timezone.now() + timedelta(days=1))
    _cart(client)
    response = client.post("/cart/code/", {"code": foreign.code}, follow=True)
    assert "cannot be used: not a code of this store" in response.content.decode()
    eur = Voucher.objects.create(code="EURO-CODE-2222", kind="fixed", amount=Decimal("5"), currency="EUR",
                                 expires_at=timezone.now() + timedelta(days=1))
    assert check_code(eur.code, subtotal=Decimal("20"), currency="USD")[0].reason == "not a code of this store"


def test_the_minimum_order_is_enforced_with_the_amount_in_the_reason(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    code = _issue(with_incentive(make_campaign(), incentive_min_order=Decimal("50"))).code
    _cart(client, price="20.00")
    response = client.post("/cart/code/", {"code": code}, follow=True)
    assert "cannot be used: minimum order 50.00 USD" in response.content.decode()


def test_a_discount_larger_than_the_order_makes_it_free_not_negative(client: Client) -> None:
    code = _issue(with_incentive(make_campaign(), kind=IncentiveKind.FIXED, amount="500")).code
    _cart(client, price="20.00")
    _order(client, code)
    order = Order.objects.get()
    assert (order.discount, order.total) == (Decimal("20.00"), Decimal("0.00"))


def test_free_shipping_waives_the_shipping_fee(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.STORE_SHIPPING_FEE = "4.95"
    code = _issue(with_incentive(make_campaign(), kind=IncentiveKind.FREE_SHIPPING, amount="0")).code
    _cart(client, price="20.00")
    _order(client, code)
    order = Order.objects.get()
    assert (order.shipping, order.discount, order.total) == (Decimal("0.00"), Decimal("0.00"), Decimal("20.00"))
    _cart(client, price="20.00")
    client.post("/checkout/", {**DETAILS, "email": "bob@example.com"})
    assert Order.objects.get(email="bob@example.com").total == Decimal("24.95")


def test_paying_an_order_reports_the_redemption_to_the_campaign(client: Client) -> None:
    issued = _issue(with_incentive(make_campaign()))
    _cart(client)
    _order(client, issued.code)
    order = Order.objects.get()
    client.post(f"/order/{order.number}/pay/")
    issued.refresh_from_db()
    assert issued.redeemed_at is not None and issued.order_id == order.number
    assert Voucher.objects.get(code=issued.code).order_id == order.pk
