"""Money in the store's format (core/money.py): Babel by default, the store's own formatter by setting,
the ``socialshop_money`` filter, and a check naming the key when the formatter cannot be used."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.template import Context, Template
from django.utils import translation

from socialshop.checks import check_money_formatter
from socialshop.core.money import format_money


def shop_formatter(amount: Decimal, currency: str, *, locale: str) -> str:
    return f"{currency} {amount:.2f} ({locale})"


def test_babel_writes_money_the_way_the_locale_does() -> None:
    with translation.override("en-us"):
        assert format_money(Decimal("32.5"), "USD") == "$32.50"
        assert format_money("91.01", "GBP") == "£91.01"
        assert format_money(1234.5, "usd") == "$1,234.50"
    with translation.override("de"):
        assert format_money(Decimal("32.5"), "EUR") == "32,50\xa0€"
    assert format_money(None) == "" and format_money("not money") == ""


def test_the_filter_formats_in_templates_and_defaults_to_the_store_currency(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CURRENCY": "GBP"}
    with translation.override("en-us"):
        html = Template('{% load socialshop %}{{ a|socialshop_money:"USD" }} {{ b|socialshop_money }}').render(
            Context({"a": Decimal("32.5"), "b": Decimal("91.01")}))
    assert html == "$32.50 £91.01"


def test_a_store_formatter_by_setting_and_a_check_for_a_bad_one(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "MONEY_FORMATTER": "tests.core.test_money.shop_formatter"}
    with translation.override("en-us"):
        assert format_money(Decimal("5"), "USD") == "USD 5.00 (en-us)"
    assert check_money_formatter() == []
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "MONEY_FORMATTER": "nowhere.format"}
    [error] = check_money_formatter()
    assert error.id == "socialshop.E140" and "SOCIALSHOP['MONEY_FORMATTER'] = 'nowhere.format'" in error.msg
