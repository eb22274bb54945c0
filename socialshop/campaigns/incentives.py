"""Discount codes through the host's discount adapter (CONTRACT "Host adapters for campaigns").

socialshop does not own the store's checkout: ``SOCIALSHOP["DISCOUNT_ADAPTER"]`` names a
``DiscountAdapter`` subclass that creates the code in the store (``issue``), checks one
(``validate``) and puts one in the visitor's session for checkout (``apply_to_session``). socialshop
makes the codes (``generate_code``), records them (``IssuedCode``) and hears of their use
(``report_redemption``). Without an adapter, campaigns run without incentives.
"""
from __future__ import annotations

import abc
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError
from django.http import HttpRequest
from django.utils import timezone

from socialshop.campaigns.models import Campaign, IssuedCode, Variant
from socialshop.conf import app_settings
from socialshop.core.adapters import load_host_adapter
from socialshop.core.db import writing
from socialshop.exceptions import ConfigurationError

logger = logging.getLogger(__name__)

# Readable and unguessable (django-oscar's vouchers): no 0/O, 1/I; 12 characters = 60 bits.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_SIZE = 3, 4
CODE_RE = re.compile(rf"[{ALPHABET}]{{{GROUP_SIZE}}}(-[{ALPHABET}]{{{GROUP_SIZE}}}){{{GROUPS - 1}}}")
SESSION_KEY = "socialshop_discount_code"
NO_ADAPTER = ("No discount adapter: SOCIALSHOP['DISCOUNT_ADAPTER'] is empty, so campaigns run without codes. "
              "Point it at your store's DiscountAdapter subclass (docs/campaigns.md) to offer incentives.")


def generate_code() -> str:
    """A new code such as ``K7QM-2ZHX-PA9D`` from ``ALPHABET`` (``secrets.choice``), not yet checked for uniqueness."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP_SIZE)) for _ in range(GROUPS))


def normalize_code(raw: str) -> str:
    """What a customer typed as the canonical code: upper case, spaces dropped, dashes where they belong."""
    text = re.sub(r"[\s-]", "", str(raw or "")).upper()[:64]
    if len(text) == GROUPS * GROUP_SIZE:
        return "-".join(text[i:i + GROUP_SIZE] for i in range(0, len(text), GROUP_SIZE))
    return text


@dataclass(frozen=True, slots=True)
class CodeSpec:
    """What the store should create: ``code`` off under the campaign's incentive terms."""

    campaign: str
    code: str
    kind: str
    amount: Decimal
    currency: str
    min_order: Decimal | None


@dataclass(frozen=True, slots=True)
class Validation:
    """Whether a code applies to an order, why not (``reason``, shown to the customer), and what it takes off."""

    ok: bool
    reason: str = ""
    discount: Decimal = Decimal("0.00")
    free_shipping: bool = False


class DiscountAdapter(abc.ABC):
    """The host store's discount codes. Subclass it, then set ``SOCIALSHOP["DISCOUNT_ADAPTER"]`` to its dotted path.

    Every hook runs in the request or task that needs it; keep them quick (one or two queries).
    """

    @abc.abstractmethod
    def issue(self, spec: CodeSpec, *, person: str, expires_at: datetime) -> str:
        """Create ``spec.code`` in the store, valid until ``expires_at`` and once only; return the code as the
        store will accept it (normally ``spec.code``). ``person`` is socialshop's key, never an address."""

    @abc.abstractmethod
    def validate(self, code: str, *, order_total: Decimal, currency: str) -> Validation:
        """Whether ``code`` applies to an order of ``order_total`` in ``currency``; the reason in the customer's words
        when not ("expired", "already used", "minimum order 50.00 EUR", "not a code of this store")."""

    def apply_to_session(self, request: HttpRequest, code: str) -> None:
        """Put ``code`` where the store's checkout picks it up. Default: ``request.session[SESSION_KEY]``."""
        request.session[SESSION_KEY] = code


def load_adapter() -> DiscountAdapter | None:
    """The configured adapter, or None when ``DISCOUNT_ADAPTER`` is empty. ``ConfigurationError`` names a bad path."""
    return load_host_adapter("DISCOUNT_ADAPTER", DiscountAdapter)


def incentive_message(campaign: Campaign) -> str:
    """Why ``campaign`` offers no codes, for admin and the API; "" when it can."""
    if not campaign.has_incentive:
        return "This campaign offers no incentive."
    try:
        adapter = load_adapter()
    except ConfigurationError as exc:
        return f"{exc}; campaigns run without codes until it is fixed."
    return NO_ADAPTER if adapter is None else ""


def _unique_code() -> str:
    for _ in range(10):
        code = generate_code()
        if not IssuedCode.objects.filter(code=code).exists():
            return code
    raise RuntimeError("10 random codes in a row were taken: the code space is exhausted")  # 2**60 codes


def issue_code(campaign: Campaign, *, person: str, variant: Variant | None, now: datetime | None = None) -> IssuedCode | None:
    """The person's code for ``campaign``: the one issued before, else a new one the store creates now.

    None when the campaign offers no incentive, the variant offers none (or is the hold-out), or no
    adapter is configured. A code is issued once per person and campaign (a unique constraint).
    """
    existing = IssuedCode.objects.filter(campaign=campaign, person=person).first()
    if existing is not None:
        return existing
    if not campaign.has_incentive or variant is None or not variant.offers_incentive:
        return None
    adapter = load_adapter()
    if adapter is None:
        return None
    now = now or timezone.now()
    expires_at = now + timedelta(days=campaign.incentive_valid_days)
    spec = CodeSpec(campaign=campaign.slug, code=_unique_code(), kind=campaign.incentive_kind,
                    amount=campaign.incentive_amount, currency=campaign.incentive_currency or app_settings.CURRENCY,
                    min_order=campaign.incentive_min_order)
    try:
        with writing():
            code = adapter.issue(spec, person=person, expires_at=expires_at)
            return IssuedCode.objects.create(campaign=campaign, person=person, variant=variant, code=code, expires_at=expires_at)
    except IntegrityError:
        # Two landings at once: the other request's code won (and the store's copy of ours rolled back with it).
        return IssuedCode.objects.filter(campaign=campaign, person=person).first()


def report_redemption(code: str, *, order_id: str, at: datetime | None = None) -> bool:
    """The store's order ``order_id`` used ``code``: count it in the campaign's results. True when it was a
    campaign code not redeemed before (a second report of the same order is a no-op)."""
    updated = IssuedCode.objects.filter(code=normalize_code(code), redeemed_at__isnull=True).update(
        redeemed_at=at or timezone.now(), order_id=str(order_id)[:64])
    return bool(updated)
