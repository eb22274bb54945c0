"""System checks for the campaign settings (socialshop.E180-E189): the discount adapter's dotted path."""
from __future__ import annotations

from django.core.checks import CheckMessage, Error

from socialshop.exceptions import ConfigurationError


def check_campaigns() -> list[CheckMessage]:
    """An error naming ``DISCOUNT_ADAPTER`` when it cannot be imported or is not a ``DiscountAdapter``."""
    from socialshop.campaigns.incentives import load_adapter

    try:
        load_adapter()
    except ConfigurationError as exc:
        return [Error(str(exc), hint="Point DISCOUNT_ADAPTER at a subclass of socialshop.campaigns.incentives.DiscountAdapter, "
                                      "or set it to '' to run campaigns without codes.", id="socialshop.E180")]
    return []


def check_contact_adapter() -> list[CheckMessage]:
    """An error naming ``CONTACT_ADAPTER`` when it cannot be imported or is not a ``ContactAdapter`` (E181)."""
    from socialshop.campaigns.contacts import load_contact_adapter

    try:
        load_contact_adapter()
    except ConfigurationError as exc:
        return [Error(str(exc), hint="Point CONTACT_ADAPTER at a subclass of socialshop.campaigns.contacts.ContactAdapter, "
                                      "or set it to '' to run campaigns without email.", id="socialshop.E181")]
    return []
