"""What an ad says, from the campaign, its variant and one product: title, price now, the regular price
struck through during a sale, the discount badge from the campaign's incentive and the call to action.
Never a negative amount: a discount larger than the price is shown as the price itself.

Drawing it is creatives/render.py; money is written by core/money.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from socialshop.campaigns.models import Campaign, IncentiveKind, Variant
from socialshop.catalog import ProductRecord
from socialshop.conf import app_settings
from socialshop.core.money import format_money

ZERO = Decimal("0")


@dataclass(frozen=True, slots=True)
class AdText:
    """The words and amounts of one ad, already formatted for the store's language."""

    title: str
    price: str  # what it costs now ("" without a price)
    was: str  # the regular price, struck through, during a sale ("" otherwise)
    badge: str  # "10 % off", "$5.00 off", "Free shipping" ("" without an incentive)
    headline: str  # the variant's headline, above the title
    cta: str  # the button


def _now_price(record: ProductRecord, at: datetime) -> tuple[Decimal | None, Decimal | None]:
    """(price now, regular price when on sale); amounts below 0 or a "sale" above the price are ignored."""
    price = record.price if record.price is not None and record.price >= ZERO else None
    now = record.effective_price(at)
    if now is None or now < ZERO or (price is not None and now >= price):
        return price, None
    return now, price


def _babel_locale(language: str) -> Locale:
    try:
        return Locale.parse(translation.to_locale(language))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_US")


def badge_text(campaign: Campaign, variant: Variant, *, price: Decimal | None, currency: str, locale: str) -> str:
    """The badge for the campaign's incentive; "" when the variant offers none or the product costs nothing."""
    if not campaign.has_incentive or not variant.offers_incentive or price == ZERO:
        return ""
    amount = campaign.incentive_amount or ZERO
    if campaign.incentive_kind == IncentiveKind.FREE_SHIPPING:
        return _("Free shipping")
    if amount <= ZERO:
        return ""
    if campaign.incentive_kind == IncentiveKind.PERCENT:
        shown = format_decimal(min(amount, Decimal("100")).normalize(), locale=_babel_locale(locale))
        return _("%(amount)s\u00a0%% off") % {"amount": shown}
    code_currency = campaign.incentive_currency or str(app_settings.CURRENCY)
    if price is not None and code_currency == currency:
        amount = min(amount, price)  # 50 off a 20.00 product takes 20.00 off, never more
    return _("%(amount)s off") % {"amount": format_money(amount, code_currency, locale=locale)}


def ad_text(campaign: Campaign, variant: Variant, record: ProductRecord, *, at: datetime | None = None,
            locale: str | None = None) -> AdText:
    """The texts of ``record``'s ad for ``variant`` (the active language's formats unless ``locale``)."""
    at = at or timezone.now()
    locale = locale or translation.get_language() or "en-us"
    currency = (record.currency or str(app_settings.CURRENCY)).upper()
    now, regular = _now_price(record, at)
    if now is None:
        price = ""
    elif now == ZERO:
        price = _("Free")
    else:
        price = format_money(now, currency, locale=locale)
    was = format_money(regular, currency, locale=locale) if regular is not None else ""
    cta = next((line.strip() for line in (variant.body or "").splitlines() if line.strip()), "") or _("Shop now")
    return AdText(
        title=" ".join((record.title or "").split()) or record.id,
        price=price, was=was,
        badge=badge_text(campaign, variant, price=now, currency=currency, locale=locale),
        headline=" ".join((variant.headline or "").split()),
        cta=cta,
    )
