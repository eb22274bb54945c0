"""`manage.py check --deploy` names socialshop's own production risks (socialshop.W130-W136); a
production-like configuration passes them all."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from socialshop.checks import check_deploy

SAFE_PLATFORMS = {"meta": {"pixel_id": "1234567890123456", "access_token": "x"}}
REDIS_CACHE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/7"}}


@pytest.fixture
def production(settings: Any, tmp_path: Path) -> Any:
    """Settings a careful host would deploy with; each test then breaks one thing."""
    settings.SECRET_KEY = "k" * 20 + "a-long-random-production-key-0123456789"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CACHES = REDIS_CACHE
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "SITE_URL": "https://shop.example.com", "PLATFORMS": SAFE_PLATFORMS,
                           "PRIVATE_UPLOAD_STORAGE": ""}
    return settings


def ids() -> list[str]:
    return [message.id for message in check_deploy()]


def test_a_production_configuration_raises_no_socialshop_deploy_warning(production: Any) -> None:
    assert ids() == []


@pytest.mark.django_db  # the deploy checks also read when periodic jobs last ran (socialshop.W100)
def test_check_deploy_command_reports_socialshop_warnings(production: Any) -> None:
    production.SOCIALSHOP = {**production.SOCIALSHOP, "SITE_URL": "http://shop.example.com"}
    with pytest.raises(SystemCheckError, match=r"socialshop\.W130"):
        call_command("check", "--deploy", "--fail-level", "WARNING", stdout=open("/dev/null", "w"))


def test_plain_http_site_url_warns(production: Any) -> None:
    production.SOCIALSHOP = {**production.SOCIALSHOP, "SITE_URL": "http://shop.example.com"}
    messages = check_deploy()
    assert [m.id for m in messages] == ["socialshop.W130"] and "'http://shop.example.com'" in messages[0].msg


@pytest.mark.parametrize("key", ["demo-only-not-secret-change-me", "django-insecure-3x@mpl3-k3y-th4t-is-l0ng-enough-for-django-w009"])
def test_demo_or_startproject_secret_key_warns(production: Any, key: str) -> None:
    production.SECRET_KEY = key
    assert ids() == ["socialshop.W131"]


def test_the_demo_settings_key_is_recognised() -> None:
    source = (Path(__file__).resolve().parent.parent / "shop_demo" / "settings.py").read_text()
    from socialshop.checks import KNOWN_INSECURE_KEYS

    assert all(f'"{key}"' in source for key in KNOWN_INSECURE_KEYS)


@pytest.mark.parametrize(("slug", "options"), [
    ("meta", {"pixel_id": "1", "access_token": "x", "test_event_code": "TEST123"}),
    ("tiktok", {"pixel_code": "C1", "access_token": "x", "test_event_code": "TEST54321"}),
    ("google", {"measurement_id": "G-1", "api_secret": "x", "test_mode": True}),
    ("pinterest", {"ad_account_id": "1", "access_token": "x", "test_mode": True}),
])
def test_platform_left_in_test_mode_warns_naming_the_key(production: Any, slug: str, options: dict) -> None:
    production.SOCIALSHOP = {**production.SOCIALSHOP, "PLATFORMS": {slug: options}}
    messages = check_deploy()
    assert [m.id for m in messages] == ["socialshop.W132"]
    assert f"['PLATFORMS'][{slug!r}]" in messages[0].msg


def test_the_demo_platforms_are_all_in_test_mode(production: Any) -> None:
    from shop_demo.settings import SOCIALSHOP as DEMO

    production.SOCIALSHOP = {**production.SOCIALSHOP, "PLATFORMS": DEMO["PLATFORMS"]}
    assert ids() == ["socialshop.W132"] * 4


def test_private_uploads_inside_media_root_warn(production: Any, tmp_path: Path) -> None:
    production.STORAGES = {**production.STORAGES, "uploads": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(Path(production.MEDIA_ROOT) / "private")},
    }}
    production.SOCIALSHOP = {**production.SOCIALSHOP, "PRIVATE_UPLOAD_STORAGE": "uploads"}
    assert ids() == ["socialshop.W133"]


def test_private_uploads_in_the_default_storage_warn(production: Any) -> None:
    production.SOCIALSHOP = {**production.SOCIALSHOP, "PRIVATE_UPLOAD_STORAGE": "default"}
    assert ids() == ["socialshop.W133"]


def test_private_uploads_outside_media_root_pass(production: Any, tmp_path: Path) -> None:
    production.STORAGES = {**production.STORAGES, "uploads": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "private")},
    }}
    production.SOCIALSHOP = {**production.SOCIALSHOP, "PRIVATE_UPLOAD_STORAGE": "uploads"}
    assert ids() == []


@pytest.mark.parametrize("insecure", ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"])
def test_cookies_without_secure_behind_a_tls_proxy_warn(production: Any, insecure: str) -> None:
    setattr(production, insecure, False)
    messages = check_deploy()
    assert [m.id for m in messages] == ["socialshop.W134"] and insecure in messages[0].msg


def test_https_site_without_proxy_header_warns_for_socialshops_own_cookies(production: Any) -> None:
    production.SECURE_PROXY_SSL_HEADER = None
    assert ids() == ["socialshop.W135"]


@pytest.mark.parametrize("backend", ["django.core.cache.backends.locmem.LocMemCache", "django.core.cache.backends.dummy.DummyCache"])
def test_a_per_process_cache_warns_that_rate_limits_do_not_hold(production: Any, backend: str) -> None:
    production.CACHES = {"default": {"BACKEND": backend}}
    messages = check_deploy()
    assert [m.id for m in messages] == ["socialshop.W136"] and backend.rsplit(".", 1)[-1] in messages[0].msg


def test_deploy_checks_do_not_run_without_deploy(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "SITE_URL": "http://shop.example.com"}
    call_command("check", "--fail-level", "WARNING", stdout=open("/dev/null", "w"))
