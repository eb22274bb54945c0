"""A first feed is one step away: new feeds take the store's currency, country and language, and
``socialshop_build_feeds --create-missing`` makes and builds one per configured platform."""
from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from socialshop.checks import check_settings
from socialshop.feeds.builder import build_feed
from socialshop.feeds.models import BuildStatus, Feed
from tests.feeds.conftest import make_feed, make_product

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def gbp_store(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en-gb"
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CURRENCY": "GBP"}


def test_a_new_feed_takes_currency_country_and_language_from_the_store(gbp_store: None) -> None:
    feed = Feed.objects.create(name="Google", slug="google", platform="google")
    assert (feed.currency, feed.target_country, feed.language) == ("GBP", "GB", "en")


def test_country_setting_wins_over_the_language_region(settings: Any) -> None:
    settings.LANGUAGE_CODE = "de"
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CURRENCY": "EUR", "COUNTRY": "AT"}
    feed = Feed.objects.create(name="Meta", slug="meta", platform="meta")
    assert (feed.currency, feed.target_country, feed.language) == ("EUR", "AT", "de")


def test_without_country_or_region_a_feed_sells_to_the_us(settings: Any) -> None:
    settings.LANGUAGE_CODE = "zh-hans"
    feed = Feed.objects.create(name="Meta", slug="meta", platform="meta")
    assert (feed.target_country, feed.language) == ("US", "zh")


def test_a_bad_country_setting_fails_the_check_naming_it(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "COUNTRY": "uk"}
    [error] = check_settings()
    assert error.msg == "SOCIALSHOP['COUNTRY'] = 'uk' is not valid"


def test_a_gbp_store_first_feed_is_published_not_refused(gbp_store: None, feed_storage_dir: Any) -> None:
    make_product()
    make_product()
    build = build_feed(make_feed("google", "xml"))
    assert build.status == BuildStatus.PUBLISHED and build.items_written == 2


def test_no_feeds_message_names_the_one_command_that_creates_them() -> None:
    with pytest.raises(CommandError) as err:
        _run("socialshop_build_feeds")
    message = str(err.value)
    assert "python manage.py socialshop_build_feeds --create-missing" in message
    assert "meta, google, pinterest, tiktok" in message


def test_no_feeds_and_no_platforms_says_to_configure_one(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": {}}
    with pytest.raises(CommandError, match=r"no platforms in SOCIALSHOP\['PLATFORMS'\].*--create-missing"):
        _run("socialshop_build_feeds")


def test_create_missing_makes_one_feed_per_configured_platform_and_builds_it(gbp_store: None, feed_storage_dir: Any, settings: Any) -> None:
    platforms = {**settings.SOCIALSHOP["PLATFORMS"]}
    platforms["tiktok"] = {**platforms["tiktok"], "enabled": False}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "PLATFORMS": platforms}
    make_product()
    make_feed("google", "tsv", slug="google")  # google has one: only the others are created

    output = _run("socialshop_build_feeds", "--create-missing")

    created = Feed.objects.exclude(slug="google").order_by("slug")
    assert [(f.slug, f.platform, f.currency, f.target_country) for f in created] == [
        ("meta", "meta", "GBP", "GB"), ("pinterest", "pinterest", "GBP", "GB")]
    assert "created feed meta (meta, xml, GBP, GB, en)" in output
    assert all(f.published_build is not None for f in Feed.objects.all())
    assert output.strip().splitlines()[-1] == "built 3 feeds: 3 published"
    assert "created" not in _run("socialshop_build_feeds", "--create-missing")  # nothing left to create
