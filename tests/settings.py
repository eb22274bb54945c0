"""Test settings: the demo store and the odd-named test store (tests/store) side by side.

DATABASE_URL switches to PostgreSQL. SOCIALSHOP_TEST_DB_NAME lets a worker subprocess use the
test database that pytest created. The Celery app is tests/celery_app.py.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import dj_database_url

from shop_demo.settings import stand_in_audience_keys
from shop_demo.settings import SOCIALSHOP as DEMO_SOCIALSHOP

BASE_DIR = Path(__file__).resolve().parent.parent
TMP_DIR = Path(os.environ.get("SOCIALSHOP_TEST_TMP") or tempfile.mkdtemp(prefix="socialshop-tests-"))
os.environ["SOCIALSHOP_TEST_TMP"] = str(TMP_DIR)

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "shop_demo.store",
    "tests.store",
    "tests.acme",
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
]
ROOT_URLCONF = "shop_demo.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
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

_sqlite_file = TMP_DIR / "tests.sqlite3"
DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{_sqlite_file}")}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so a worker or server subprocess sees the same test database.
    DATABASES["default"]["TEST"] = {"NAME": str(_sqlite_file)}
    DATABASES["default"]["OPTIONS"] = {"timeout": 20}
if os.environ.get("SOCIALSHOP_TEST_DB_NAME"):
    # Inside a worker/server subprocess: talk to the database pytest set up.
    DATABASES["default"]["NAME"] = os.environ["SOCIALSHOP_TEST_DB_NAME"]

USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
STATIC_ROOT = TMP_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = TMP_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/account/login/"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1

# Tests never reach the internet: the demo's platforms keep their ids, but their APIs and browser
# scripts point at a closed local port (platform tests swap in tests/fakes/platforms.py).
# A worker subprocess gets SOCIALSHOP_API_BASE from a test that runs a fake platform server.
_NOWHERE = os.environ.get("SOCIALSHOP_API_BASE") or "http://127.0.0.1:9"
SOCIALSHOP = {
    **DEMO_SOCIALSHOP,
    "SITE_URL": "http://testserver",
    "RUN_TASKS": "inline",
    # Without the stand-in's audience keys, which a demo running on this machine would add (shop_demo/settings.py).
    "PLATFORMS": {
        slug: {**{k: v for k, v in options.items() if k not in stand_in_audience_keys(slug)},
               "api_base": _NOWHERE, "script_url": f"{_NOWHERE}/{slug}.js"}
        for slug, options in DEMO_SOCIALSHOP["PLATFORMS"].items()
    },
}

# The odd-named test store's mapping (tests/store/models.py), used by catalog tests.
ODD_STORE_CATALOG = {
    "model": "teststore.Article",
    "filter": {"sellable": True},
    "fields": {
        "id": "article_code",
        "title": "headline",
        "description": "blurb",
        "url": "storefront_path",
        "image_urls": "pictures__source",
        "price": "list_amount",
        "sale_price": "promo_amount",
        "brand": "maker__label",
        "gtin": "barcode",
        "category_path": "section_trail",
        "quantity": "on_hand",
    },
    "variants": {
        "related_name": "flavours",
        "fields": {"size": "dimension", "color": "hue", "price": "own_amount", "quantity": "units"},
    },
}
