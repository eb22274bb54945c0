"""Django system checks for ``settings.SOCIALSHOP``: every key's type and range (socialshop.E0NN);
with ``--deploy``, periodic jobs that have not run for longer than their interval (socialshop.W100);
where background work goes: a Celery app without a broker (W101), RUN_TASKS "celery" without an app (W102).

Catalog mapping checks are in ``catalog/checks.py``; platform credential checks in
``platforms/checks.py``. Each message names the full key and the bad value; ``hint`` says the fix.
``check_deploy`` (socialshop.W130-W136) runs with ``manage.py check --deploy``: production risks.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning

from socialshop.conf import DEFAULTS, app_settings

CURRENCY_RE = re.compile(r"[A-Z]{3}")  # fullmatch, here and below: "$" lets a final "\n" through


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _origin_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(v, str) and re.fullmatch(r"https?://[^/\s]+", v) for v in value
    )


# key -> (is the value fine?, what a right value looks like). Keys validated elsewhere are absent.
VALIDATORS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "CATALOG": (lambda v: isinstance(v, str) and "." in v, "a dotted path to a Catalog class"),
    "CURRENCY": (lambda v: isinstance(v, str) and bool(CURRENCY_RE.fullmatch(v)), "a 3-letter ISO 4217 code such as 'USD'"),
    "COUNTRY": (lambda v: v == "" or (isinstance(v, str) and re.fullmatch(r"[A-Z]{2}", v) is not None), "'' or a 2-letter ISO 3166-1 code such as 'GB'"),
    "SITE_URL": (lambda v: v == "" or (isinstance(v, str) and re.fullmatch(r"https?://[^/\s]+(/\S*)?", v) is not None), "'' or an absolute URL such as 'https://shop.example.com'"),
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
    "PRIVATE_UPLOAD_STORAGE": (lambda v: v == "" or (isinstance(v, str) and v in (app_settings.django("STORAGES") or {})), "'' or an alias in settings.STORAGES"),
    "POST_UPLOADS_PER_HOUR": (_positive_int, "a positive number of uploads"),
    "COMMENTS_PER_HOUR": (_positive_int, "a positive number of comments"),
    "DISCOUNT_ADAPTER": (lambda v: v == "" or (isinstance(v, str) and "." in v), "'' or a dotted path to a DiscountAdapter subclass"),
    "CREATIVE_FONT_DIRS": (lambda v: isinstance(v, (list, tuple)) and bool(v) and all(isinstance(d, str) and d for d in v), "a list of font folders such as ['/usr/share/fonts']"),
    "BRAND_LOGO": (lambda v: isinstance(v, str), "'' or a logo file: a name in default storage or an absolute path"),
    "CREATIVE_COLORS": (lambda v: isinstance(v, dict) and set(v) <= {"background", "accent", "badge"} and all(isinstance(c, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", c) for c in v.values()), "a dict of 'background', 'accent', 'badge' -> '#rrggbb'"),
    "CREATIVE_FORMAT": (lambda v: v in ("JPEG", "PNG"), "'JPEG' or 'PNG'"),
    "CREATIVE_PRODUCTS": (_positive_int, "a positive number of products"),
    "CONTACT_ADAPTER": (lambda v: v == "" or (isinstance(v, str) and "." in v), "'' or a dotted path to a ContactAdapter subclass"),
    "EMAIL_OPEN_PIXEL": (lambda v: isinstance(v, bool), "True or False"),
    "EMAIL_FROM": (lambda v: isinstance(v, str) and "\n" not in v and "\r" not in v, "'' or one From address such as 'Shop <shop@example.com>'"),
}

# Extra check functions from the domains, each returning a list of messages. Order is fixed here.
DOMAIN_CHECKS: list[str] = [
    "socialshop.catalog.checks.check_catalog",
    "socialshop.platforms.checks.check_platforms",
    "socialshop.campaigns.checks.check_campaigns",
    "socialshop.campaigns.creatives.checks.check_creatives",
    "socialshop.campaigns.checks.check_contact_adapter",
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


# --- deploy checks (manage.py check --deploy): socialshop's own production risks -------------------
# The demo store's key (shop_demo/settings.py) and Django's startproject prefix. SECRET_KEY also keys
# the hash socialshop keeps of visitor IP addresses (privacy/ip.py), so a known key undoes that hash.
KNOWN_INSECURE_KEYS = ("demo-only-not-secret-change-me",)
INSECURE_KEY_PREFIX = "django-insecure-"
# platform setting -> value that keeps every server event in the platform's test mode (platforms/*.py)
TEST_MODE_SETTINGS = ("test_event_code", "test_mode")
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "count per server process",
    "django.core.cache.backends.dummy.DummyCache": "count nothing",
}


def _deploy_site_url() -> list[CheckMessage]:
    site_url = app_settings.SITE_URL
    if isinstance(site_url, str) and site_url.startswith("http://"):
        return [CheckWarning(
            f"SOCIALSHOP['SITE_URL'] = {site_url!r} is plain http://",
            hint="Feeds, ads, emails and share links carry this URL; use the store's https:// address.",
            id="socialshop.W130",
        )]
    return []


def _deploy_secret_key() -> list[CheckMessage]:
    key = str(app_settings.django("SECRET_KEY", "") or "")
    if key in KNOWN_INSECURE_KEYS or key.startswith(INSECURE_KEY_PREFIX):
        shown = key if key in KNOWN_INSECURE_KEYS else f"{INSECURE_KEY_PREFIX}..."
        return [CheckWarning(
            f"SECRET_KEY is a published demo or startproject key ({shown!r})",
            hint="Set a long random SECRET_KEY from the environment: it signs sessions and keys the hash "
                 "socialshop keeps of visitor IP addresses (IP_HANDLING='hash', rate limits).",
            id="socialshop.W131",
        )]
    return []


def _deploy_platform_test_modes() -> list[CheckMessage]:
    platforms = app_settings.PLATFORMS if isinstance(app_settings.PLATFORMS, dict) else {}
    messages: list[CheckMessage] = []
    for slug, options in sorted(platforms.items()):
        for name in TEST_MODE_SETTINGS:
            value = options.get(name) if isinstance(options, dict) else None
            if value:
                messages.append(CheckWarning(
                    f"SOCIALSHOP['PLATFORMS'][{slug!r}][{name!r}] = {value!r}: server events go to the platform's test mode",
                    hint="Remove it in production, or conversions never count in the platform's reports.",
                    id="socialshop.W132",
                ))
    return messages


def _deploy_private_uploads() -> list[CheckMessage]:
    from django.core.files.storage import FileSystemStorage

    from socialshop.posts.storage import private_storage

    alias = app_settings.PRIVATE_UPLOAD_STORAGE
    storage = private_storage()
    media_root = app_settings.django("MEDIA_ROOT") or ""
    public = alias == "default"
    if isinstance(storage, FileSystemStorage) and media_root:
        location, media = Path(storage.location).resolve(), Path(media_root).resolve()
        public = public or location == media or location.is_relative_to(media)
    if public:
        where = f"storage {alias!r}" if alias else "the private upload folder"
        return [CheckWarning(
            f"SOCIALSHOP['PRIVATE_UPLOAD_STORAGE'] = {alias!r}: uploads wait for processing in {where}, "
            f"inside public media (MEDIA_ROOT = {str(media_root)!r})",
            hint="Unprocessed customer uploads keep the sender's bytes (scripts, GPS); point the key at a "
                 "storage alias outside MEDIA_ROOT, or leave it '' (a folder next to MEDIA_ROOT).",
            id="socialshop.W133",
        )]
    return []


def _deploy_cookies() -> list[CheckMessage]:
    django = app_settings.django
    messages: list[CheckMessage] = []
    if django("SECURE_PROXY_SSL_HEADER"):
        insecure = [name for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE") if not django(name, False)]
        if insecure:
            messages.append(CheckWarning(
                f"SECURE_PROXY_SSL_HEADER is set (TLS ends at a proxy) but {' and '.join(insecure)} is False",
                hint=f"Set {' = '.join(insecure)} = True so the session (admin) and CSRF cookies never travel over http.",
                id="socialshop.W134",
            ))
    site_url = app_settings.SITE_URL
    if isinstance(site_url, str) and site_url.startswith("https://") and not django("SECURE_PROXY_SSL_HEADER"):
        messages.append(CheckWarning(
            f"SOCIALSHOP['SITE_URL'] = {site_url!r} is https but SECURE_PROXY_SSL_HEADER is not set",
            hint="socialshop's consent and visitor cookies get Secure only when request.is_secure(); behind a "
                 "TLS proxy set SECURE_PROXY_SSL_HEADER = ('HTTP_X_FORWARDED_PROTO', 'https').",
            id="socialshop.W135",
        ))
    return messages


def _deploy_rate_limit_cache() -> list[CheckMessage]:
    backend = ((app_settings.django("CACHES") or {}).get("default") or {}).get(
        "BACKEND", "django.core.cache.backends.locmem.LocMemCache")
    if backend in PER_PROCESS_CACHES:
        return [CheckWarning(
            f"CACHES['default'] is {backend.rsplit('.', 1)[-1]}: socialshop's rate limits (collector, uploads, "
            f"comments) {PER_PROCESS_CACHES[backend]}",
            hint="Use a cache every server process shares (django.core.cache.backends.redis.RedisCache, "
                 "Memcached or the database cache) so a limit holds across processes.",
            id="socialshop.W136",
        )]
    return []


@register(Tags.security, deploy=True)
def check_deploy(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """socialshop's production risks (socialshop.W130-W136), run by ``manage.py check --deploy``."""
    messages: list[CheckMessage] = []
    for check in (_deploy_site_url, _deploy_secret_key, _deploy_platform_test_modes, _deploy_private_uploads,
                  _deploy_cookies, _deploy_rate_limit_cache):
        messages.extend(check())
    return messages


@register(deploy=True)
def check_periodic_jobs(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``check --deploy``: each periodic job that has not run for longer than its interval (socialshop.W100)."""
    from django.db import DatabaseError

    from socialshop.core.periodic import overdue_jobs

    try:
        late = overdue_jobs()
    except DatabaseError:
        return []  # no database, or not migrated yet: nothing is known about the jobs' runs
    hint = ("Run exactly one Celery beat (celery -A yourproject beat) with socialshop's BEAT_SCHEDULE, or without beat "
            "run cron every minute: * * * * * cd /path/to/project && python manage.py socialshop_run_due")
    return [CheckWarning(job.message, hint=hint, id="socialshop.W100") for job in late]


@register()
def check_celery_app(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Where background work goes: the project's Celery app has no broker (W101); 'celery' without an app (W102)."""
    from socialshop.core.jobs import host_celery_app

    mode = app_settings.RUN_TASKS
    if mode not in ("auto", "celery"):
        return []
    app = host_celery_app()
    if app is None:
        if mode == "auto":
            return []  # no Celery app: work runs in process, as documented
        return [CheckWarning(
            "SOCIALSHOP['RUN_TASKS'] = 'celery' but the project has no Celery app, so tasks go to Celery's "
            "implicit app (amqp://guest@localhost//), which no worker of yours reads",
            hint="Create the app as Celery's 'First steps with Django' says (proj/celery.py, imported from "
                 "proj/__init__.py), or set RUN_TASKS to 'auto'.",
            id="socialshop.W102",
        )]
    if not app.conf.broker_url:
        return [CheckWarning(
            f"SOCIALSHOP['RUN_TASKS'] = {mode!r} sends background work to the Celery app {app.main!r}, "
            "which has no broker_url (Celery then tries amqp://guest@localhost//)",
            hint="Set CELERY_BROKER_URL (e.g. 'redis://localhost:6379/0') in settings and load it with "
                 "app.config_from_object('django.conf:settings', namespace='CELERY').",
            id="socialshop.W101",
        )]
    return []
