"""Every cart and order state change of the demo store: the session cart, placing an order, paying.

Views (views.py) only call these functions, so server-side hooks (e.g. a socialshop event when an
order is paid or the cart changes) belong here, in ``add_to_cart`` and ``mark_paid``.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from shop_demo.store.discounts import CODE_SESSION_KEY, Totals, check_code, totals
from shop_demo.store.models import Order, OrderLine, Product, Variant, Voucher
from socialshop.campaigns.incentives import normalize_code, report_redemption
from socialshop.tracking.server import report_cart_change, report_order_paid

CART_SESSION_KEY = "cart"  # {catalog_id: quantity}; shop_demo/store/context.py reads it too
ORDERS_SESSION_KEY = "orders"  # order numbers this browser placed (guests may see their orders)
MAX_QUANTITY = 99


class CartError(ValueError):
    """A cart or order change that cannot be made; the message is shown to the visitor."""


@dataclass(frozen=True, slots=True)
class CartItem:
    """One purchasable offer, found by its catalog id: a variant, or a product without variants."""

    catalog_id: str
    product: Product
    variant: Variant | None

    @property
    def title(self) -> str:
        label = self.variant.label if self.variant else ""
        return f"{self.product.name} ({label})" if label else self.product.name

    @property
    def unit_price(self) -> Decimal:
        return self.variant.unit_price() if self.variant else self.product.current_price()

    @property
    def stock(self) -> int | None:
        """Units left; None when the offer has no stock count (a product without variants)."""
        return self.variant.stock if self.variant else None

    @property
    def image(self) -> Any:
        images = list(self.product.images.all())
        return images[0].image if images else None


@dataclass(frozen=True, slots=True)
class CartLine:
    """An item in the cart with its quantity."""

    item: CartItem
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return self.item.unit_price * self.quantity


def currency() -> str:
    """The store currency (the same one socialshop reports)."""
    return str(settings.SOCIALSHOP.get("CURRENCY", "USD"))


def parse_quantity(raw: Any, *, allow_zero: bool = False) -> int:
    """A quantity from form input; ``CartError`` unless it is a whole number in range."""
    if raw in (None, ""):
        return 1 if not allow_zero else 0
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise CartError(f"quantity must be a whole number, not {str(raw)[:20]!r}") from None
    low = 0 if allow_zero else 1
    if not low <= value <= MAX_QUANTITY:
        raise CartError(f"quantity must be between {low} and {MAX_QUANTITY}, not {value}")
    return value


def resolve_item(catalog_id: str) -> CartItem:
    """The offer behind a catalog id (a variant SKU, or the id of a product without variants)."""
    catalog_id = str(catalog_id or "").strip()
    if not catalog_id:
        raise CartError("no product id given")
    variant = Variant.objects.select_related("product").filter(sku=catalog_id, product__is_active=True).first()
    if variant is not None:
        return CartItem(catalog_id=catalog_id, product=variant.product, variant=variant)
    if catalog_id.isdigit():
        product = Product.objects.filter(pk=int(catalog_id), is_active=True).first()
        if product is not None and not product.variants.exists():
            return CartItem(catalog_id=catalog_id, product=product, variant=None)
    raise CartError(f"unknown product id {catalog_id[:64]!r}")


def get_cart(request: HttpRequest) -> dict[str, int]:
    """The session cart as {catalog_id: quantity} (a copy)."""
    raw = request.session.get(CART_SESSION_KEY) or {}
    return {str(k): int(v) for k, v in raw.items() if int(v) > 0}


def _save_cart(request: HttpRequest, cart: dict[str, int]) -> None:
    request.session[CART_SESSION_KEY] = cart
    request.session.modified = True


def cart_count(request: HttpRequest) -> int:
    """Total units in the cart."""
    return sum(get_cart(request).values())


def cart_lines(request: HttpRequest) -> list[CartLine]:
    """The cart's lines with products looked up; ids that no longer exist are dropped quietly."""
    lines: list[CartLine] = []
    cart = get_cart(request)
    for catalog_id, quantity in cart.items():
        try:
            item = resolve_item(catalog_id)
        except CartError:
            continue
        lines.append(CartLine(item=item, quantity=quantity))
    return lines


def cart_total(lines: list[CartLine]) -> Decimal:
    return sum((line.line_total for line in lines), Decimal("0.00"))


def applied_code(request: HttpRequest) -> str:
    """The discount code applied to this visitor's cart ("" when none)."""
    return str(request.session.get(CODE_SESSION_KEY) or "")


def cart_totals(request: HttpRequest, lines: list[CartLine]) -> tuple[Totals, str]:
    """The cart's money with the applied code, and why that code does not apply now ("" when it does or there is none)."""
    subtotal = cart_total(lines)
    code = applied_code(request)
    if not code:
        return totals(subtotal, None), ""
    validation, _voucher = check_code(code, subtotal=subtotal, currency=currency())
    return totals(subtotal, validation, code), validation.reason


def apply_code(request: HttpRequest, raw: str) -> Totals:
    """Apply a discount code to the cart; ``CartError`` with the reason ("expired", "already used", ...) when it does not apply."""
    code = normalize_code(raw)
    if not code:
        raise CartError("enter a discount code")
    subtotal = cart_total(cart_lines(request))
    validation, _voucher = check_code(code, subtotal=subtotal, currency=currency())
    if not validation.ok:
        raise CartError(f"the code {code[:20]} cannot be used: {validation.reason}")
    request.session[CODE_SESSION_KEY] = code
    return totals(subtotal, validation, code)


def remove_code(request: HttpRequest) -> None:
    request.session.pop(CODE_SESSION_KEY, None)


def _check_stock(item: CartItem, quantity: int) -> None:
    if item.stock is not None and quantity > item.stock:
        if item.stock == 0:
            raise CartError(f"{item.title} is out of stock")
        raise CartError(f"only {item.stock} of {item.title} left in stock")


def add_to_cart(request: HttpRequest, catalog_id: str, quantity: int) -> CartLine:
    """Add ``quantity`` units of an offer to the session cart; returns the updated line.

    Raises ``CartError`` for an unknown id, a bad quantity or not enough stock.
    """
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartError(f"quantity must be between 1 and {MAX_QUANTITY}, not {quantity}")
    item = resolve_item(catalog_id)
    cart = get_cart(request)
    new_quantity = cart.get(item.catalog_id, 0) + quantity
    if new_quantity > MAX_QUANTITY:
        raise CartError(f"at most {MAX_QUANTITY} of one item per order")
    _check_stock(item, new_quantity)
    cart[item.catalog_id] = new_quantity
    _save_cart(request, cart)
    report_cart_change(request, catalog_id=item.catalog_id, quantity=quantity, item_price=item.unit_price, currency=currency())
    return CartLine(item=item, quantity=new_quantity)


def set_quantity(request: HttpRequest, catalog_id: str, quantity: int) -> CartLine | None:
    """Set a cart line's quantity; 0 removes it (returns None). ``CartError`` as for adding."""
    cart = get_cart(request)
    if quantity <= 0:
        remove_from_cart(request, catalog_id)
        return None
    if catalog_id not in cart:
        raise CartError(f"{catalog_id[:64]!r} is not in the cart")
    item = resolve_item(catalog_id)
    _check_stock(item, quantity)
    cart[catalog_id] = quantity
    _save_cart(request, cart)
    return CartLine(item=item, quantity=quantity)


def remove_from_cart(request: HttpRequest, catalog_id: str) -> None:
    """Drop a line from the cart (nothing happens when it is not there)."""
    cart = get_cart(request)
    if cart.pop(catalog_id, None) is not None:
        _save_cart(request, cart)


def new_order_number() -> str:
    """A short, unguessable order number such as ``D261123-4F2A9C``."""
    return f"D{timezone.now():%y%m%d}-{secrets.token_hex(3).upper()}"


CHECKOUT_FIELDS = ("email", "first_name", "last_name", "phone", "address", "city", "postcode", "country")


def place_order(request: HttpRequest, form_data: dict[str, Any]) -> Order:
    """Turn the cart into a pending order with the visitor's details; empties the cart.

    ``form_data`` holds the checkout fields (``CHECKOUT_FIELDS``). Raises ``CartError`` when the
    cart is empty or an item no longer has the stock asked for.
    """
    lines = cart_lines(request)
    if not lines:
        raise CartError("your cart is empty")
    for line in lines:
        _check_stock(line.item, line.quantity)
    user = request.user if getattr(request, "user", None) is not None and request.user.is_authenticated else None
    code = applied_code(request)
    details = {name: str(form_data.get(name) or "").strip() for name in CHECKOUT_FIELDS}
    details["country"] = (details["country"] or "US").upper()[:2]
    for attempt in range(5):
        try:
            with transaction.atomic():
                money, voucher = _redeem(code, subtotal=cart_total(lines), request=request)
                order = Order.objects.create(
                    number=new_order_number(), user=user, total=money.total, discount=money.discount,
                    discount_code=money.code, shipping=money.shipping, currency=currency(), **details
                )
                if voucher is not None:
                    Voucher.objects.filter(pk=voucher.pk).update(used_at=timezone.now(), order=order)
                OrderLine.objects.bulk_create([
                    OrderLine(
                        order=order, product=line.item.product, variant=line.item.variant,
                        catalog_id=line.item.catalog_id, title=line.item.title[:250],
                        quantity=line.quantity, unit_price=line.item.unit_price,
                    )
                    for line in lines
                ])
            break
        except IntegrityError:
            if attempt == 4:
                raise
    _save_cart(request, {})
    remove_code(request)
    request.session[ORDERS_SESSION_KEY] = [*request.session.get(ORDERS_SESSION_KEY, [])[-19:], order.number]
    return order


def _redeem(code: str, *, subtotal: Decimal, request: HttpRequest) -> tuple[Totals, Voucher | None]:
    """The order's money with the applied code, its voucher locked for this order (inside a transaction).

    A code that no longer applies is taken off the cart and the order is refused with the reason.
    """
    if not code:
        return totals(subtotal, None), None
    Voucher.objects.select_for_update().filter(code=code).first()  # one order at a time per code
    validation, voucher = check_code(code, subtotal=subtotal, currency=currency())
    if not validation.ok:
        remove_code(request)
        raise CartError(f"the code {code[:20]} cannot be used: {validation.reason}; it was removed, please check your total")
    return totals(subtotal, validation, code), voucher


def mark_paid(order: Order, *, request: HttpRequest | None = None) -> Order:
    """Mark a pending order paid now and take its units out of stock; paying twice is a no-op.

    ``request`` is the visitor's request when the payment happened in the browser (None for a
    back-office payment). Raises ``CartError`` when stock ran out since the order was placed.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status == Order.Status.PAID:
            return locked
        for line in locked.lines.select_related("variant"):
            if line.variant_id is None:
                continue
            taken = Variant.objects.filter(pk=line.variant_id, stock__gte=line.quantity).update(
                stock=F("stock") - line.quantity
            )
            if not taken:
                raise CartError(f"sorry, {line.title} sold out before your payment went through")
        locked.status = Order.Status.PAID
        locked.paid_at = timezone.now()
        locked.save(update_fields=["status", "paid_at"])
    report_order_paid(
        order_id=locked.number, value=locked.total, currency=locked.currency, request=request, user=locked.user,
        items=[{"id": line.catalog_id, "quantity": line.quantity, "item_price": line.unit_price} for line in locked.lines.all()],
        user_data={"email": locked.email, "phone": locked.phone, "first_name": locked.first_name, "last_name": locked.last_name,
                   "city": locked.city, "postcode": locked.postcode, "country": locked.country,
                   "external_id": str(locked.user_id) if locked.user_id else None},
    )
    if locked.discount_code:
        report_redemption(locked.discount_code, order_id=locked.number)  # counts in the campaign's results
    return locked


def can_view_order(request: HttpRequest, order: Order) -> bool:
    """Whether this visitor may see the order: placed in this browser, their own, or staff."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and (user.is_staff or order.user_id == user.pk):
        return True
    return order.number in request.session.get(ORDERS_SESSION_KEY, [])
