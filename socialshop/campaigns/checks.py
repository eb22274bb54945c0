"""System checks for the campaign settings (socialshop.E180-E189): the discount adapter's dotted path (E180),
the ads channel's per-person campaign limit (E181), the report lookback (E182) and the contact adapter (E183)."""
from __future__ import annotations

from django.core.checks import CheckMessage, Error

from socialshop.conf import app_settings
from socialshop.exceptions import ConfigurationError


def check_campaigns() -> list[CheckMessage]:
    """An error naming ``ADS_CAMPAIGNS_PER_PERSON`` when it is not a count, ``DISCOUNT_ADAPTER`` when it
    cannot be imported or is not a ``DiscountAdapter``, or ``REPORT_LOOKBACK_DAYS`` when it is not a whole
    number of days from 1 to 90."""
    from socialshop.campaigns.incentives import load_adapter
    from socialshop.campaigns.reports import lookback_days

    errors: list[CheckMessage] = []
    limit = app_settings.ADS_CAMPAIGNS_PER_PERSON
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        errors.append(Error(f"SOCIALSHOP['ADS_CAMPAIGNS_PER_PERSON'] = {limit!r} is not a whole number of 0 or more",
                            hint="Set it to how many campaigns' ad audiences one person may be in at once (0: no limit).",
                            id="socialshop.E181"))
    try:
        load_adapter()
    except ConfigurationError as exc:
        errors.append(Error(str(exc), hint="Point DISCOUNT_ADAPTER at a subclass of socialshop.campaigns.incentives.DiscountAdapter, "
                                           "or set it to '' to run campaigns without codes.", id="socialshop.E180"))
    try:
        lookback_days()
    except ConfigurationError as exc:
        errors.append(Error(str(exc), hint="Use a whole number of days from 1 to 90, e.g. 7.", id="socialshop.E182"))
    return errors


def check_contact_adapter() -> list[CheckMessage]:
    """An error naming ``CONTACT_ADAPTER`` when it cannot be imported or is not a ``ContactAdapter`` (E183)."""
    from socialshop.campaigns.contacts import load_contact_adapter

    try:
        load_contact_adapter()
    except ConfigurationError as exc:
        return [Error(str(exc), hint="Point CONTACT_ADAPTER at a subclass of socialshop.campaigns.contacts.ContactAdapter, "
                                      "or set it to '' to run campaigns without email.", id="socialshop.E183")]
    return []
