"""Settings both test host projects share: socialshop installed as the README says, over tests/store.

``HOSTPROJ_DB`` is the SQLite file; ``HOSTPROJ_BROKER_DIR`` the filesystem broker's folder, so a test
can count the messages socialshop queued.
"""
from __future__ import annotations

import os
from typing import Any


def settings() -> dict[str, Any]:
    """The shared settings, as a dict a settings module merges into its globals."""
    broker_dir = os.environ.get("HOSTPROJ_BROKER_DIR", "/tmp/hostproj-broker")
    return {
        "SECRET_KEY": "hostproj-tests-only",
        "DEBUG": False,
        "ALLOWED_HOSTS": ["*"],
        "INSTALLED_APPS": [
            "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
            "django.contrib.sessions", "django.contrib.messages", "django.contrib.staticfiles",
            "tests.store", "rest_framework", "socialshop",
        ],
        "MIDDLEWARE": [
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        "ROOT_URLCONF": "proj.urls",
        "TEMPLATES": [{
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "APP_DIRS": True,
            "OPTIONS": {"context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]},
        }],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3",
                                  "NAME": os.environ.get("HOSTPROJ_DB", "/tmp/hostproj.sqlite3")}},
        "USE_TZ": True,
        "STATIC_URL": "static/",
        "MEDIA_ROOT": os.environ.get("HOSTPROJ_MEDIA", "/tmp/hostproj-media"),
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_TRANSPORT_OPTIONS": {"data_folder_in": broker_dir, "data_folder_out": broker_dir},
        "SOCIALSHOP": {
            "SITE_URL": "https://shop.example.com",
            "CATALOG_OPTIONS": {
                "model": "teststore.Article",
                "fields": {"id": "article_code", "title": "headline", "url": "storefront_path", "price": "list_amount"},
            },
        },
    }
