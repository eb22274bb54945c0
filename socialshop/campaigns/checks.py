"""System checks for the campaign settings (socialshop.E180-E189): the discount adapter's dotted path."""
from __future__ import annotations

from django.core.checks import CheckMessage, Error

from socialshop.exceptions import ConfigurationError


def check_campaigns() -> list[CheckMessage]:
    """An error naming ``DISCOUNT_ADAPTER`` when it cannot be imported or is not a ``DiscountAdapter``;
    one naming ``REPORT_LOOKBACK_DAYS`` when it is not a whole number of days from 1 to 90."""
    from socialshop.campaigns.incentives import load_adapter
    from socialshop.campaigns.reports import lookback_days

    errors: list[CheckMessage] = []
    try:
        load_adapter()
    except ConfigurationError as exc:
        errors.append(Error(str(exc), hint="Point DISCOUNT_ADAPTER at a subclass of socialshop.campaigns.incentives.DiscountAdapter, "
                                           "or set it to '' to run campaigns without codes.", id="socialshop.E180"))
    try:
        lookback_days()
    except ConfigurationError as exc:
        errors.append(Error(str(exc), hint="Use a whole number of days from 1 to 90, e.g. 7.", id="socialshop.E181"))
    return errors
