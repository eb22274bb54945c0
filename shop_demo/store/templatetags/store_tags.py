"""Template filters for the demo store: money formatting and colour swatches."""
from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings

from shop_demo.store.palette import swatch as palette_swatch

register = template.Library()
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}


@register.filter
def money(value: Decimal | int | float | str | None, currency: str = "") -> str:
    """``12.5`` -> ``$12.50`` in the store currency (or the one given)."""
    if value in (None, ""):
        return ""
    code = currency or settings.SOCIALSHOP.get("CURRENCY", "USD")
    amount = f"{Decimal(str(value)):,.2f}"
    symbol = SYMBOLS.get(code)
    return f"{symbol}{amount}" if symbol else f"{amount} {code}"


@register.filter
def swatch(color: str) -> str:
    """CSS colour for a variant colour name."""
    return palette_swatch(color)


@register.filter
def sub_money(value: Decimal | None, other: Decimal | None) -> str:
    """``price|sub_money:sale_price`` -> how much the sale saves, formatted as money."""
    if value is None or other is None:
        return ""
    return money(Decimal(str(value)) - Decimal(str(other)))
