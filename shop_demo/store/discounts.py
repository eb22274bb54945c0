"""The demo store's discount codes: checking a code against an order, and socialshop's discount adapter.

Checkout (shop_demo/store/checkout.py) applies codes through ``check_code``; socialshop creates campaign
codes through ``DemoDiscountAdapter`` (SOCIALSHOP["DISCOUNT_ADAPTER"] in shop_demo/settings.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from shop_demo.store.models import Voucher
from socialshop.campaigns.incentives import CodeSpec, DiscountAdapter, Validation, normalize_code

CODE_SESSION_KEY = "discount_code"  # the code the visitor applied (or a campaign link applied for them)
CENT = Decimal("0.01")


def shipping_fee() -> Decimal:
    """The flat shipping fee (settings.STORE_SHIPPING_FEE; the demo ships free by default)."""
    return Decimal(str(getattr(settings, "STORE_SHIPPING_FEE", "0.00"))).quantize(CENT)


@dataclass(frozen=True, slots=True)
class Totals:
    """An order's money: subtotal of the lines, discount, shipping and what the customer pays."""

    subtotal: Decimal
    discount: Decimal
    shipping: Decimal
    total: Decimal
    code: str = ""


def check_code(raw: str, *, subtotal: Decimal, currency: str, now: datetime | None = None) -> tuple[Validation, Voucher | None]:
    """Whether the code applies to an order of ``subtotal`` in ``currency``, with the customer-facing reason."""
    code = normalize_code(raw)
    voucher = Voucher.objects.filter(code=code).first() if code else None
    if voucher is None or voucher.currency != currency:
        return Validation(ok=False, reason="not a code of this store"), None
    if voucher.used_at is not None:
        return Validation(ok=False, reason="already used"), voucher
    if voucher.expires_at <= (now or timezone.now()):
        return Validation(ok=False, reason="expired"), voucher
    if voucher.min_order is not None and subtotal < voucher.min_order:
        return Validation(ok=False, reason=f"minimum order {voucher.min_order:.2f} {voucher.currency}"), voucher
    if voucher.kind == Voucher.Kind.FREE_SHIPPING:
        return Validation(ok=True, free_shipping=True), voucher
    off = subtotal * voucher.amount / 100 if voucher.kind == Voucher.Kind.PERCENT else voucher.amount
    # Never below zero: a discount larger than the order makes it free, not negative.
    return Validation(ok=True, discount=min(off, subtotal).quantize(CENT)), voucher


def totals(subtotal: Decimal, validation: Validation | None, code: str = "") -> Totals:
    """The order's money with an applied code's ``validation`` (None or not ok: no discount)."""
    shipping = shipping_fee()
    discount = Decimal("0.00")
    if validation is not None and validation.ok:
        discount = validation.discount
        if validation.free_shipping:
            shipping = Decimal("0.00")
    total = max(subtotal - discount, Decimal("0.00")) + shipping
    return Totals(subtotal=subtotal, discount=discount, shipping=shipping, total=total.quantize(CENT),
                  code=code if validation is not None and validation.ok else "")


class DemoDiscountAdapter(DiscountAdapter):
    """socialshop's campaigns issue their codes as this store's vouchers and land them in its checkout."""

    def issue(self, spec: CodeSpec, *, person: str, expires_at: datetime) -> str:
        kind = Voucher.Kind(spec.kind)
        Voucher.objects.create(code=spec.code, campaign=spec.campaign, kind=kind, amount=spec.amount,
                               currency=spec.currency, min_order=spec.min_order, expires_at=expires_at)
        return spec.code

    def validate(self, code: str, *, order_total: Decimal, currency: str) -> Validation:
        return check_code(code, subtotal=order_total, currency=currency)[0]

    def apply_to_session(self, request: HttpRequest, code: str) -> None:
        request.session[CODE_SESSION_KEY] = code
