"""Django system checks for ``settings.SOCIALSHOP``: every key's type and range (socialshop.E0NN).

Catalog mapping checks are in ``catalog/checks.py``; platform credential checks in
``platforms/checks.py``. Each message names the full key and the bad value; ``hint`` says the fix.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core.checks import CheckMessage, Error, register

from socialshop.conf import DEFAULTS, app_settings

CURRENCY_RE = re.compile(r"^[A-Z]{3}$")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _origin_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(v, str) and re.match(r"^https?://[^/]+$", v) for v in value
    )


# key -> (is the value fine?, what a right value looks like). Keys validated elsewhere are absent.
VALIDATORS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "CATALOG": (lambda v: isinstance(v, str) and "." in v, "a dotted path to a Catalog class"),
    "CURRENCY": (lambda v: isinstance(v, str) and bool(CURRENCY_RE.match(v)), "a 3-letter ISO 4217 code such as 'USD'"),
    "SITE_URL": (lambda v: v == "" or (isinstance(v, str) and re.match(r"^https?://[^/]+(/.*)?$", v) is not None), "'' or an absolute URL such as 'https://shop.example.com'"),
    "RUN_TASKS": (lambda v: v in ("auto", "celery", "inline"), "'auto', 'celery' or 'inline'"),
    "JOB_LOCK_SECONDS": (_positive_int, "a positive number of seconds"),
    "CONSENT_REQUIRED": (lambda v: isinstance(v, bool), "True or False"),
    "EVENT_RETENTION_DAYS": (_positive_int, "a positive number of days"),
    "IP_HANDLING": (lambda v: v in ("truncate", "hash", "none"), "'truncate', 'hash' or 'none'"),
    "COLLECT_RATE_LIMIT_PER_MINUTE": (_positive_int, "a positive number of requests"),
    "ALLOWED_ORIGINS": (_origin_list, "a list of origins such as 'https://shop.example.com'"),
    "COLLECT_ASYNC_COMMIT": (lambda v: isinstance(v, bool), "True or False"),
    "COLLECT_BUFFER_MS": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 5000, "0 (off) or milliseconds up to 5000"),
    "PLATFORMS": (lambda v: isinstance(v, dict), "a dict of platform slug -> settings dict"),
    "FORWARD_CLAIM_SIZE": (_positive_int, "a positive number of deliveries"),
    "FORWARD_LEASE_SECONDS": (_positive_int, "a positive number of seconds"),
    "FORWARD_MAX_ATTEMPTS": (_positive_int, "a positive number of attempts"),
    "FORWARD_BACKOFF_SECONDS": (_positive_int, "a positive number of seconds"),
    "FORWARD_TIME_BUDGET_SECONDS": (_positive_int, "a positive number of seconds"),
    "FEED_STORAGE": (lambda v: isinstance(v, str) and v in (app_settings.django("STORAGES") or {"default": 1}), "an alias in settings.STORAGES"),
    "FEED_PUBLISH_MIN_RATIO": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1, "a number from 0 to 1"),
    "CART_ADD_URL": (lambda v: isinstance(v, str), "a path or URL of your add-to-cart endpoint"),
    "POST_ATTRIBUTION_DAYS": (_positive_int, "a positive number of days"),
    "COMMENT_MODERATION": (lambda v: isinstance(v, bool), "True or False"),
    "UPLOAD_MAX_BYTES": (_positive_int, "a positive number of bytes"),
    "POST_UPLOADS_PER_HOUR": (_positive_int, "a positive number of uploads"),
    "COMMENTS_PER_HOUR": (_positive_int, "a positive number of comments"),
}

# Extra check functions from the domains, each returning a list of messages. Order is fixed here.
DOMAIN_CHECKS: list[str] = [
    "socialshop.catalog.checks.check_catalog",
    "socialshop.platforms.checks.check_platforms",
]


def check_money_formatter() -> list[CheckMessage]:
    """socialshop.E140: MONEY_FORMATTER must name an importable callable."""
    from socialshop.core.money import money_formatter
    from socialshop.exceptions import ConfigurationError

    try:
        money_formatter()
    except ConfigurationError as exc:
        return [Error(str(exc), hint="Point it at f(amount, currency, *, locale) -> str, or remove it for the Babel default.",
                      id="socialshop.E140")]
    return []


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Validate every SOCIALSHOP key, then run each domain's checks."""
    raw = app_settings.raw()
    if not isinstance(raw, dict):
        return [Error(f"SOCIALSHOP = {raw!r} is not a dict", hint="Set SOCIALSHOP = {...} in settings.", id="socialshop.E000")]
    errors: list[CheckMessage] = []
    for key in sorted(app_settings.user_keys() - set(DEFAULTS)):
        errors.append(Error(
            f"SOCIALSHOP[{key!r}] is not a socialshop setting",
            hint=f"Check the spelling; known keys: {', '.join(sorted(DEFAULTS))}.",
            id="socialshop.E000",
        ))
    for key, (is_valid, expected) in VALIDATORS.items():
        value = getattr(app_settings, key)
        if not is_valid(value):
            errors.append(Error(f"SOCIALSHOP[{key!r}] = {value!r} is not valid", hint=f"Use {expected}.", id="socialshop.E007"))
    if errors:
        return errors
    errors.extend(check_money_formatter())
    from django.utils.module_loading import import_string

    for dotted in DOMAIN_CHECKS:
        errors.extend(import_string(dotted)())
    return errors
