"""Money as text in the store's format ("$32.50", "£91.01"): ``format_money`` calls the formatter named by
``SOCIALSHOP['MONEY_FORMATTER']`` (default ``babel_format``: Babel with the active language's locale).

Templates use ``{{ amount|socialshop_money:currency }}`` (templatetags/socialshop.py); the check is
``socialshop.E140`` (checks.py).
"""
from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency
from django.utils import translation
from django.utils.module_loading import import_string

from socialshop.conf import app_settings
from socialshop.exceptions import ConfigurationError

MoneyFormatter = Callable[..., str]  # (amount: Decimal, currency: str, *, locale: str) -> str


@lru_cache(maxsize=64)
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_US")


def babel_format(amount: Decimal, currency: str, *, locale: str) -> str:
    """The default formatter: CLDR currency format for ``locale`` (a Django language code such as "en-us")."""
    return format_currency(amount, currency, locale=_locale(locale))


def money_formatter() -> MoneyFormatter:
    """The callable named by MONEY_FORMATTER; ``ConfigurationError`` naming the key when it cannot be used."""
    path = str(app_settings.MONEY_FORMATTER)
    try:
        formatter = import_string(path)
    except ImportError as exc:
        raise ConfigurationError(f"SOCIALSHOP['MONEY_FORMATTER'] = {path!r} cannot be imported: {exc}") from None
    if not callable(formatter):
        raise ConfigurationError(f"SOCIALSHOP['MONEY_FORMATTER'] = {path!r} is not callable")
    return formatter


def format_money(amount: Decimal | float | int | str | None, currency: str | None = None, *, locale: str | None = None) -> str:
    """``amount`` in ``currency`` (default CURRENCY) as the store writes money; "" for no amount or a non-number."""
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return ""
    code = (currency or str(app_settings.CURRENCY)).upper()
    language = locale or translation.get_language() or "en-us"
    return money_formatter()(value, code, locale=language)
