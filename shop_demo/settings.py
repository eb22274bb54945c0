"""Demo store settings. Embedded defaults (SQLite, a filesystem Celery broker) need no server;
DATABASE_URL and CELERY_BROKER_URL switch to PostgreSQL and Redis (see README, Production)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SHOP_DEMO_VAR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-secret-change-me")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "shop_demo.store",
    # socialshop, installed as the README tells a shop owner:
    "rest_framework",
    "drf_spectacular_sidecar",  # the API docs page's Swagger UI files (no CDN)
    "socialshop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "shop_demo.urls"
WSGI_APPLICATION = "shop_demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shop_demo.store.context.store",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'demo.sqlite3'}", conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60"))
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web server, the worker and beat write to one SQLite file side by side. IMMEDIATE
    # transactions take the write lock when they begin and so wait for it (timeout): a deferred one that
    # read first fails at once with "database is locked" when another process wrote in between.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20,
                                       "transaction_mode": "IMMEDIATE"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
LOGIN_URL = "/account/login/"

# Celery: a filesystem broker by default (no server); CELERY_BROKER_URL=redis://... in production.
_BROKER_DIR = VAR_DIR / "broker"
for _sub in ("in", "processed", "control"):
    (_BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "in"),
        "data_folder_out": str(_BROKER_DIR / "in"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        # kombu otherwise writes its control exchange files into the current directory
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Emails are written as files (one per sending run, raw messages), so a newcomer can read the cart reminders (var/mail/).
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = VAR_DIR / "mail"

# A running `manage.py demo` writes its URL and its platform stand-in here, so a second shell
# (socialshop_build_feeds, socialshop_send_test_event) links to the demo's port and reaches the stand-in.
DEMO_RUN_FILE = VAR_DIR / "demo-run.json"
try:
    _RUN = json.loads(DEMO_RUN_FILE.read_text())
except (OSError, ValueError):
    _RUN = {}
_STAND_IN = _RUN.get("stand_in", "") if isinstance(_RUN, dict) else ""
_API_BASE = os.environ.get("SOCIALSHOP_API_BASE") or _STAND_IN
# The stand-in also serves recording copies of the browser scripts (shop_demo/fakepixels.py).
_PIXEL_BASE = os.environ.get("SHOP_DEMO_PIXEL_BASE") or _STAND_IN
STAND_IN_SCRIPT_PATHS = {"meta": "/en_US/fbevents.js", "pinterest": "/ct/core.js", "tiktok": "/i18n/pixel/events.js",
                "google": "/gtag/js"}


# Audience-upload credentials the stand-in accepts (shop_demo/fakeplatforms/audience_*.py). They join a
# platform's settings only while its APIs point at the demo's stand-in (``stand_in_audiences``), so the demo
# uploads its audiences there and never tries them on a real account.
DEMO_AUDIENCES = {
    "meta": {"ad_account_id": "act_1122334455"},
    "pinterest": {"audiences_access_token": "demo-pinterest-audiences-token"},
    "google": {"operating_account_id": "123-456-7890", "oauth_client_id": "demo-gdm-client-id",
               "oauth_client_secret": "demo-gdm-client-secret", "oauth_refresh_token": "demo-gdm-refresh-token"},
    "tiktok": {"advertiser_id": "7000000000000000001", "audiences_access_token": "demo-tiktok-audiences-token"},
}


def stand_in_audiences(slug: str, url: str) -> dict:
    """``slug``'s audience-upload settings against the stand-in at ``url`` (Google's token endpoint there too, on a
    path of its own: the stand-in's ``/token`` is the reporting client's)."""
    return {**DEMO_AUDIENCES[slug], **({"oauth_token_url": f"{url}/datamanager/token"} if slug == "google" else {})}


def stand_in_audience_keys(slug: str) -> tuple[str, ...]:
    """The settings keys ``stand_in_audiences`` adds for ``slug``: what to strip where the stand-in is not used."""
    return tuple(stand_in_audiences(slug, ""))


def _platform(slug: str, values: dict) -> dict:
    values = {**values, **({"api_base": _API_BASE} if _API_BASE else {})}
    values = {**values, **(stand_in_audiences(slug, _STAND_IN) if _STAND_IN and _API_BASE == _STAND_IN else {})}
    return {**values, **({"script_url": _PIXEL_BASE + STAND_IN_SCRIPT_PATHS[slug]} if _PIXEL_BASE else {})}


SOCIALSHOP = {
    "CATALOG": "socialshop.catalog.ModelCatalog",
    "CATALOG_OPTIONS": {
        "model": "store.Product",
        "filter": {"is_active": True},
        "fields": {
            "title": "name",
            "description": "description",
            "url": "/p/{slug}/",  # a template: built from columns, faster than get_absolute_url
            "image_urls": "images__image",
            "price": "price",
            "sale_price": "sale_price",
            "sale_starts_at": "sale_starts_at",
            "sale_ends_at": "sale_ends_at",
            "brand": "brand",
            "gtin": "gtin",
            "mpn": "mpn",
            "category_path": "category__path",
            "google_product_category": "category__google_category",
            "gender": "gender",
            "age_group": "age_group",
            "created_at": "created_at",
        },
        "variants": {
            "related_name": "variants",
            "fields": {
                "id": "sku",
                "size": "size",
                "color": "color",
                "price": "price_override",
                "quantity": "stock",
                "gtin": "gtin",
            },
        },
    },
    "CURRENCY": "USD",
    "SITE_URL": os.environ.get("SITE_URL") or (isinstance(_RUN, dict) and _RUN.get("site_url")) or "http://127.0.0.1:8000",
    "CONSENT_REQUIRED": True,
    "CART_ADD_URL": "/cart/add/",
    # Campaign discount codes become this store's vouchers (shop_demo/store/discounts.py).
    "DISCOUNT_ADAPTER": "shop_demo.store.discounts.DemoDiscountAdapter",
    # Cart emails reach signed-in customers through their accounts (shop_demo/store/contacts.py).
    "CONTACT_ADAPTER": "shop_demo.store.contacts.DemoContactAdapter",
    "EMAIL_FROM": "Harbor & Pine <hello@harborandpine.example>",
    "EMAIL_OPEN_PIXEL": True,  # the campaign's opens show in its results
    # `manage.py demo --no-worker` sets this to "inline" for its web server (no worker to run tasks).
    "RUN_TASKS": os.environ.get("SOCIALSHOP_RUN_TASKS", "auto"),
    # Test ids and credentials: nothing reaches a real account. `manage.py demo` points the APIs and the
    # browser scripts at its local stand-in (shop_demo/fakeplatforms.py) unless --real-platforms;
    # SOCIALSHOP_API_BASE points the APIs elsewhere; test_event_code/test_mode keep server events in test mode.
    "PLATFORMS": {
        "meta": _platform("meta", {"pixel_id": "1234567890123456", "access_token": "demo-meta-access-token",
                           "catalog_id": "987654321098765",
                           "test_event_code": "TEST12345",
                           "reports_ad_account_id": "act_1122334455", "reports_access_token": "demo-meta-reports-token"}),
        "google": _platform("google", {"measurement_id": "G-DEMO123456", "api_secret": "demo-ga4-api-secret",
                             "ads_id": "AW-123456789", "ads_conversions": {"Purchase": "AW-123456789/DemoPurchase"},
                             "test_mode": True}),
        "pinterest": _platform("pinterest", {"ad_account_id": "549755885175", "access_token": "demo-pinterest-conversion-token",
                                "tag_id": "2612345678901", "test_mode": True,
                                "reports_access_token": "demo-pinterest-reports-token"}),
        "tiktok": _platform("tiktok", {"pixel_code": "CDEMO0000000000000AB", "access_token": "demo-tiktok-access-token",
                             "test_event_code": "TEST54321",
                             "reports_advertiser_id": "7000000000000000001", "reports_access_token": "demo-tiktok-reports-token"}),
    },
}
