"""``{{ amount|socialshop_money:currency }}``: money in the store's format (core/money.py); merged into
``{% load socialshop %}``."""
from __future__ import annotations

from typing import Any

from django import template

from socialshop.core.money import format_money

register = template.Library()


@register.filter
def socialshop_money(amount: Any, currency: str | None = None) -> str:
    """``{{ 32.5|socialshop_money:"USD" }}`` -> "$32.50"; the currency defaults to CURRENCY; "" for no amount."""
    return format_money(amount, currency or None)
