"""``manage.py check`` validates CATALOG_OPTIONS (the filter, a custom class's own options), and a
broken catalogue never turns a storefront page into a 500."""
from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.checks import CheckMessage, Error
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client

from socialshop.catalog import Catalog, ModelCatalog
from socialshop.catalog.checks import check_catalog
from socialshop.exceptions import CatalogError
from socialshop.templatetags import tracking_tags
from tests.factories import ProductFactory, VariantFactory


class RegionCatalog(Catalog):
    """A custom catalog that declares one option of its own."""

    def __init__(self, *, region: str = "eu") -> None:
        self.region = region

    @classmethod
    def check_options(cls, options: dict[str, Any]) -> list[CheckMessage]:
        region = options.get("region", "eu")
        if region not in ("eu", "us"):
            return [Error(f"SOCIALSHOP['CATALOG_OPTIONS']['region'] = {region!r} is not a region", id="tests.E001")]
        return []

    def iter_chunks(self, *, chunk_size: int | None = None, after: str | None = None) -> Any:
        return iter(())

    def get_records(self, ids: Any) -> dict:
        return {}

    def ids_for(self, obj: Any) -> list[str]:
        return []


def _with_filter(settings: Any, lookups: Any) -> None:
    options = {**settings.SOCIALSHOP["CATALOG_OPTIONS"], "filter": lookups}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": options}


def test_check_names_a_misspelt_filter_key_and_its_value(settings: Any) -> None:
    _with_filter(settings, {"instock": True})
    with pytest.raises(SystemCheckError) as err:
        call_command("check", "socialshop", stdout=open("/dev/null", "w"))
    text = str(err.value)
    assert "socialshop.E120" in text
    assert "SOCIALSHOP['CATALOG_OPTIONS']['filter']['instock'] = True is not a valid lookup on Product" in text


def test_check_names_a_filter_value_of_the_wrong_type(settings: Any) -> None:
    _with_filter(settings, {"is_active": "maybe"})
    [error] = [m for m in check_catalog() if m.id == "socialshop.E120"]
    assert "['filter']['is_active'] = 'maybe'" in error.msg


def test_check_accepts_a_filter_through_a_relation(settings: Any) -> None:
    _with_filter(settings, {"is_active": True, "category__slug__startswith": "w"})
    assert check_catalog() == []


def test_misspelt_filter_fails_building_the_catalog_with_the_option_named() -> None:
    with pytest.raises(CatalogError, match=r"CATALOG_OPTIONS\['filter'\] = \{'instock': True\} does not fit Product"):
        ModelCatalog(model="store.Product", fields={"title": "name"}, filter={"instock": True})


def test_custom_catalog_class_checks_its_own_options(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG": f"{__name__}.RegionCatalog",
                           "CATALOG_OPTIONS": {"region": "mars"}}
    assert [(m.id, m.msg) for m in check_catalog()] == [
        ("tests.E001", "SOCIALSHOP['CATALOG_OPTIONS']['region'] = 'mars' is not a region")]
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": {"region": "eu"}}
    assert check_catalog() == []


def test_options_that_do_not_fit_the_catalog_class_fail_the_check(settings: Any) -> None:
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG": f"{__name__}.RegionCatalog",
                           "CATALOG_OPTIONS": {"regoin": "eu"}}
    [error] = check_catalog()
    assert error.id == "socialshop.E121"
    assert "'regoin'" in error.msg and "RegionCatalog" in error.msg


def test_model_catalog_option_misspelt_fails_the_check(settings: Any) -> None:
    options = {**settings.SOCIALSHOP["CATALOG_OPTIONS"], "filters": {"is_active": True}}
    settings.SOCIALSHOP = {**settings.SOCIALSHOP, "CATALOG_OPTIONS": options}
    assert [m.id for m in check_catalog()] == ["socialshop.E121"]


@pytest.mark.django_db
def test_product_page_with_a_broken_catalogue_renders_and_logs_once(
    settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tracking_tags, "_reported", set())
    product = ProductFactory(slug="broken-shirt")
    VariantFactory(product=product)
    _with_filter(settings, {"instock": True})
    client = Client()
    with caplog.at_level(logging.WARNING, logger="socialshop.templatetags.tracking_tags"):
        for _ in range(3):
            response = client.get("/p/broken-shirt/")
            assert response.status_code == 200
            assert b'{"name":"ViewContent","data":{}}' in response.content
    logged = [r for r in caplog.records if r.name == "socialshop.templatetags.tracking_tags"]
    assert len(logged) == 1
    assert "the catalogue failed" in logged[0].getMessage() and "instock" in logged[0].getMessage()


@pytest.mark.django_db
def test_product_page_catalogue_that_raises_at_read_time_renders(
    settings: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not only a bad setting: a host property that raises while the record is read is contained too."""
    monkeypatch.setattr(tracking_tags, "_reported", set())
    ProductFactory(slug="fine-shirt")

    def broken(self: Any, ids: Any) -> dict:
        raise RuntimeError("stock service down")

    monkeypatch.setattr(ModelCatalog, "get_records", broken)
    with caplog.at_level(logging.WARNING, logger="socialshop.templatetags.tracking_tags"):
        assert Client().get("/p/fine-shirt/").status_code == 200
        assert Client().get("/p/fine-shirt/").status_code == 200
    assert sum("stock service down" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.django_db
def test_a_feed_build_with_a_misspelt_filter_fails_naming_the_option(settings: Any, tmp_path: Any) -> None:
    from socialshop.feeds.builder import build_feed
    from socialshop.feeds.models import BuildStatus, Feed

    settings.MEDIA_ROOT = tmp_path
    _with_filter(settings, {"instock": True})
    build = build_feed(Feed.objects.create(name="g", slug="g", platform="google"))
    assert build.status == BuildStatus.FAILED
    assert "CATALOG_OPTIONS['filter'] = {'instock': True} does not fit Product" in build.message
